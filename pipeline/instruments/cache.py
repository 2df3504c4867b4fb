"""A folder of built instruments, so a remap rebuilds only the sessions whose sound changed.

An entry is keyed by everything that shapes an instrument: the effect's content, its id and name (written into the
instrument's files), the session and every build setting (engine, RAVE model, character, seed, sample rate) plus
:data:`BUILDER_VERSION`. Its name is that key's SHA-256, so nothing taken from data becomes a path.

Entries are written to a temporary folder and renamed into place, so readers never see half an entry and two
builders racing for one key both succeed. Each entry carries a manifest of its files' sizes and hashes; an entry
that does not match it (or cannot be read) is removed and rebuilt. The folder is kept under ``max_bytes`` by removing
the least recently used entries.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from pipeline.digests import fields_digest, file_digest, remember
from pipeline.types import EffectInput, Instrument, Session

log = logging.getLogger(__name__)

# Raise whenever a change to the builders changes what they write: old entries then stop matching.
BUILDER_VERSION = 2
MANIFEST = "manifest.json"
TEMP_PREFIX = ".tmp-"
STALE_TEMP_S = 3600.0
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
INSTRUMENT_JSON = "instrument.json"


def _place(source: Path, target: Path, *, link: bool) -> None:
    """``source`` at ``target``: a hard link where allowed (samples are only read; a changed one no longer matches
    the manifest, so its entry is rebuilt), else a copy. ``instrument.json`` is rewritten and is always copied."""
    target.unlink(missing_ok=True)
    if link:
        try:
            os.link(source, target)
            return
        except OSError:  # another file system, or links not allowed
            pass
    shutil.copyfile(source, target)


class CorruptEntry(Exception):
    """A cache entry that does not match its manifest or cannot be loaded."""


class InstrumentCache:
    """Built instruments under ``root``; ``hits`` and ``misses`` count lookups since this object was made."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------------------- keys

    def key(self, effect: EffectInput, session: Session | str, *, engine: str, sample_rate: int, seed: int,
            character: float | None, rave_model: Path | None = None) -> str:
        parts = {
            "builder": BUILDER_VERSION,
            "effect": file_digest(Path(effect.path)),
            "effect_id": effect.id,
            "effect_name": effect.name,
            "session": Session(session).value,
            "engine": engine,
            "rave_model": file_digest(Path(rave_model)) if engine == "rave" and rave_model else None,
            "sample_rate": int(sample_rate),
            "seed": int(seed),
            "character": None if character is None else round(float(character), 6),
        }
        return fields_digest(parts)

    def entry(self, key: str) -> Path:
        if len(key) != 64 or any(ch not in "0123456789abcdef" for ch in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / key[:2] / key

    # ------------------------------------------------------------------------------------------- get / put

    def instrument(self, key: str, out_dir: Path, build: Callable[[Path], Instrument]) -> Instrument:
        """The instrument for ``key`` in ``out_dir``: copied from the cache, or made by ``build(out_dir)`` and then
        stored. A cache that cannot be read or written only costs a rebuild."""
        out_dir = Path(out_dir)
        try:
            found = self._restore(key, out_dir)
        except (CorruptEntry, OSError) as problem:
            log.warning("instrument cache entry %s is unusable (%s); rebuilding it", key[:12], problem)
            self._remove(self.entry(key))
            shutil.rmtree(out_dir, ignore_errors=True)
            found = None
        if found is not None:
            with self._lock:
                self.hits += 1
            return found
        with self._lock:
            self.misses += 1
        instrument = build(out_dir)
        try:
            self._store(key, out_dir)
            self.trim()
        except OSError as problem:
            log.warning("could not store instrument %s in the cache: %s", key[:12], problem)
        return instrument

    def _restore(self, key: str, out_dir: Path) -> Instrument | None:
        entry = self.entry(key)
        if not entry.is_dir():
            return None
        files = self._verified_files(entry)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, sha256 in files.items():
            target = out_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            _place(entry / name, target, link=name != INSTRUMENT_JSON)
            remember(target, sha256)  # a verified file: whoever hashes it next need not read it
        try:
            instrument = Instrument.load(out_dir)
        except (ValueError, ValidationError, KeyError) as exc:
            raise CorruptEntry(f"instrument.json does not load: {exc}") from exc
        instrument.save()  # instrument.json names its own folder: this copy's, as a fresh build would
        os.utime(entry)  # least recently used goes first when trimming
        return instrument

    def _verified_files(self, entry: Path) -> dict[str, str]:
        """The entry's files (relative names) and their SHA-256, each checked against the manifest."""
        try:
            manifest = json.loads((entry / MANIFEST).read_text())
            files = dict(manifest["files"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CorruptEntry(f"no readable manifest: {exc}") from exc
        if INSTRUMENT_JSON not in files:
            raise CorruptEntry("the manifest lists no instrument.json")
        for name, expected in files.items():
            path = entry / name
            if not isinstance(name, str) or ".." in Path(name).parts or Path(name).is_absolute():
                raise CorruptEntry(f"the manifest names a file outside the entry: {name!r}")
            if not path.is_file() or path.stat().st_size != expected.get("size") or file_digest(path) != expected.get("sha256"):
                raise CorruptEntry(f"{name} does not match the manifest")
        return {name: expected["sha256"] for name, expected in files.items()}

    def _store(self, key: str, built_dir: Path) -> None:
        entry = self.entry(key)
        if entry.is_dir():
            return
        entry.parent.mkdir(parents=True, exist_ok=True)
        temp = entry.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        try:
            shutil.copytree(built_dir, temp)
            files = {
                str(path.relative_to(temp)): {"size": path.stat().st_size, "sha256": file_digest(path)}
                for path in sorted(temp.rglob("*")) if path.is_file()
            }
            (temp / MANIFEST).write_text(json.dumps({"key": key, "files": files}, indent=1))
            try:
                os.rename(temp, entry)  # atomic; fails when another builder stored the same key first
            except OSError:
                if not entry.is_dir():
                    raise
            else:
                for name, described in files.items():  # renamed, not rewritten: the digests still hold
                    remember(entry / name, described["sha256"])
        finally:
            shutil.rmtree(temp, ignore_errors=True)

    # ------------------------------------------------------------------------------------------- size bound

    def entries(self) -> list[tuple[Path, float, int]]:
        """(folder, last used, bytes) of every complete entry."""
        found = []
        if not self.root.is_dir():
            return found
        for shard in self.root.iterdir():
            if not shard.is_dir():
                continue
            for entry in shard.iterdir():
                if entry.name.startswith(TEMP_PREFIX) or not entry.is_dir():
                    continue
                try:
                    size = sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())
                    found.append((entry, entry.stat().st_mtime, size))
                except OSError:
                    continue  # removed meanwhile
        return found

    def trim(self, max_bytes: int | None = None) -> int:
        """Remove least recently used entries until the cache holds at most ``max_bytes``, and temporary folders
        left by builders that died. Returns the bytes freed."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        freed = 0
        now = time.time()
        if self.root.is_dir():
            for temp in self.root.glob(f"*/{TEMP_PREFIX}*"):
                try:
                    if now - temp.stat().st_mtime > STALE_TEMP_S:
                        self._remove(temp)
                except OSError:
                    continue
        entries = sorted(self.entries(), key=lambda item: item[1])
        total = sum(size for _, _, size in entries)
        for entry, _, size in entries:
            if total <= limit:
                break
            self._remove(entry)
            total -= size
            freed += size
        return freed

    @staticmethod
    def _remove(path: Path) -> None:
        """Out of the way with one rename first, so no reader sees a half-removed entry."""
        if not path.exists():
            return
        doomed = path.parent / f"{TEMP_PREFIX}gone-{uuid.uuid4().hex}"
        try:
            os.rename(path, doomed)
        except OSError:
            return
        shutil.rmtree(doomed, ignore_errors=True)
