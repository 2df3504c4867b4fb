"""Instruments built ahead, while a worker has nothing else to do, for the remaps people are likely to ask for next.

A remap moves one sound to another part and the part's sound takes its place, so each of the two needs an
instrument for its new part. After a render, the instruments for every trade between two cast sounds (and then for
the bench's sounds in every part) are built into the instrument cache one at a time, in a low-priority thread that
waits whenever the worker runs a stage. The remap then finds them there and only renders and mixes.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.digests import file_digest
from pipeline.instruments import build_instrument
from pipeline.instruments.cache import InstrumentCache
from pipeline.play import PlayOptions, instrument_settings
from pipeline.report import PlayReport
from pipeline.types import SESSIONS, EffectInput, Session

log = logging.getLogger(__name__)

IDLE_NICE = 19
CLOSE_WAIT_S = 60.0  # a bound for a stuck build at shutdown; one build takes about a second


@dataclass(frozen=True)
class _Build:
    effect: EffectInput
    session: Session
    settings: dict[str, Any]


def likely_moves(effects: list[EffectInput], report: PlayReport) -> list[tuple[EffectInput, Session]]:
    """(sound, part) pairs a next remap would need, most likely first: both sides of a trade between two cast
    sounds, pair by pair, then each sound on the bench in each part."""
    by_id = {effect.id: effect for effect in effects}
    cast = {session: entry.effect for session, entry in report.sessions.items()
            if entry.effect in by_id and not entry.fallback}
    wanted: list[tuple[EffectInput, Session]] = []
    for a, b in itertools.combinations([s for s in SESSIONS if s in cast], 2):
        wanted += [(by_id[cast[a]], b), (by_id[cast[b]], a)]
    benched = [effect for effect in effects if effect.id not in cast.values()]
    wanted += [(effect, session) for effect in benched for session in SESSIONS]
    return wanted


class RemapPreparer:
    """Builds up to ``limit`` instruments ahead after each render (see :meth:`plan`) into ``cache``; a newer plan
    replaces an older one. ``paused()`` holds it while the worker runs a stage; ``built`` counts what it made."""

    def __init__(self, cache: InstrumentCache, limit: int, scratch_dir: Path | None = None) -> None:
        self.cache = cache
        self.limit = limit
        self.scratch_dir = scratch_dir  # where its temporary folders go (the system's temporary folder by default)
        self.built = 0
        self._queue: deque[_Build] = deque()
        self._busy = 0
        self._building = False
        self._closed = False
        self._sounds: tempfile.TemporaryDirectory | None = None
        self._stale: list[tempfile.TemporaryDirectory] = []  # earlier plans' sounds, removed between builds
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No build starts inside this block (one under way finishes)."""
        with self._changed:
            self._busy += 1
        try:
            yield
        finally:
            with self._changed:
                self._busy -= 1
                self._changed.notify_all()

    def plan(self, effects: list[EffectInput], report: PlayReport, options: PlayOptions) -> int:
        """Queue the instruments the next remaps of ``report``'s render would need and are not cached yet; the
        sounds are copied first, as their files may go once the render is stored. Returns how many were queued."""
        if self.limit <= 0 or self._closed:
            return 0
        sounds = tempfile.TemporaryDirectory(prefix="wave-remap-prep-", dir=self.scratch_dir)
        try:
            builds = self._builds(likely_moves(effects, report)[: self.limit], Path(sounds.name), options)
        except OSError as problem:  # a full or read-only disk: the render itself is done and stays done
            log.warning("cannot prepare the next remaps' instruments: %s", problem)
            sounds.cleanup()
            return 0
        with self._changed:
            self._queue = deque(builds)
            if self._sounds is not None:
                self._stale.append(self._sounds)
            self._sounds = sounds
            self._start()
            self._changed.notify_all()
        return len(builds)

    def _builds(self, moves: list[tuple[EffectInput, Session]], sounds: Path, options: PlayOptions) -> list[_Build]:
        copies: dict[str, EffectInput] = {}
        builds = []
        for effect, session in moves:
            if effect.id not in copies:
                copy = sounds / f"{file_digest(Path(effect.path))}{Path(effect.path).suffix.lower()}"
                shutil.copyfile(effect.path, copy)
                copies[effect.id] = effect.model_copy(update={"path": copy})
            settings = instrument_settings(options, session)
            if not self.cache.entry(self.cache.key(copies[effect.id], session, **settings)).is_dir():
                builds.append(_Build(copies[effect.id], session, settings))
        return builds

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Until nothing is queued or being built; False when ``timeout`` ran out first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._queue and not self._building, timeout)

    def close(self) -> None:
        """Stop, once a build under way has finished: it writes into ``scratch_dir``, which its owner removes next."""
        with self._changed:
            self._closed = True
            self._queue.clear()
            self._changed.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(CLOSE_WAIT_S)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="wave-remap-prep", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # Linux sets a thread's own priority; elsewhere: as is
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), IDLE_NICE)
        while True:
            with self._changed:
                stale, self._stale = self._stale, []
            for sounds in stale:
                sounds.cleanup()
            with self._changed:
                self._changed.wait_for(lambda: self._closed or bool(self._queue and not self._busy))
                if self._closed:
                    return
                build = self._queue.popleft()
                self._building = True
            try:
                self._build(build)
            except Exception as problem:  # a guess that fails costs nothing: the remap builds it itself
                log.info("could not build the %s from %s ahead: %s", build.session.value, build.effect.id, problem)
            finally:
                with self._changed:
                    self._building = False
                    self._changed.notify_all()

    def _build(self, build: _Build) -> None:
        key = self.cache.key(build.effect, build.session, **build.settings)
        if self.cache.entry(key).is_dir():
            return
        with tempfile.TemporaryDirectory(prefix="wave-remap-prep-build-", dir=self.scratch_dir) as scratch:
            self.cache.instrument(key, Path(scratch) / "instrument",
                                  lambda out: build_instrument(build.effect, build.session, out, **build.settings))
        self.built += 1
