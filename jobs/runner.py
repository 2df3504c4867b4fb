"""The real pipeline behind the queue tasks, with its engines loaded once per worker process and kept warm."""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator
from pathlib import Path

from jobs.remap_prep import RemapPreparer
from pipeline.image_to_music import hear_sheet, see_image
from pipeline.instruments.cache import InstrumentCache
from pipeline.play import play
from pipeline.progress import ProgressListener
from pipeline.render.stem_cache import StemCache
from pipeline.report import PlayReport
from pipeline.sessions.memo import FeatureMemo
from pipeline.sheet import SoundSheet
from pipeline.types import EffectInput, Session
from wave_core.engines import effects_engine, play_options, vision_engine
from wave_core.settings import Settings

MUSIC_MODULES = ("pipeline.sessions", "pipeline.instruments", "pipeline.instruments.drums", "pipeline.render",
                 "pipeline.mix", "pipeline.songs", "pipeline.songs.mood")


class WavePipeline:
    def __init__(self, settings: Settings, scratch_dir: Path | None = None) -> None:
        self.settings = settings
        self._engines: dict[str, tuple[object, object]] = {}
        self._lock = threading.Lock()
        self.instrument_cache = instrument_cache_for(settings)
        self.feature_memo = FeatureMemo()
        self.stem_cache = StemCache(settings.stem_cache_mb * 1024 * 1024) if settings.stem_cache_mb > 0 else None
        self.remap_preparer = (RemapPreparer(self.instrument_cache, settings.remap_prepare_instruments, scratch_dir)
                               if self.instrument_cache is not None and settings.remap_prepare_instruments > 0
                               else None)

    @contextlib.contextmanager
    def _working(self) -> Iterator[None]:
        """A stage runs: instruments built ahead for remaps wait meanwhile."""
        with self.remap_preparer.paused() if self.remap_preparer is not None else contextlib.nullcontext():
            yield

    def close(self) -> None:
        """Stop building ahead, once a build under way has finished."""
        if self.remap_preparer is not None:
            self.remap_preparer.close()

    def engines(self, profile: str):
        with self._lock:
            if profile not in self._engines:
                settings = self.settings.model_copy(update={"profile": profile})
                self._engines[profile] = (vision_engine(settings), effects_engine(settings))
            return self._engines[profile]

    def warm_up(self) -> dict[str, str]:
        """Build, load and warm the engines of the configured profile; their names by stage."""
        engines = dict(zip(("vision", "effects"), self.engines(self.settings.profile)))
        for engine in engines.values():
            if hasattr(engine, "warm_up"):
                engine.warm_up()
        return {stage: getattr(engine, "name", type(engine).__name__) for stage, engine in engines.items()}

    def warm_up_music(self) -> dict[str, str]:
        """Import the music stage's libraries, so a worker's first render or remap does not wait for them."""
        for module in MUSIC_MODULES:
            importlib.import_module(module)
        return {"instruments": self.settings.timbre_engine}

    def see_and_hear(self, image: bytes, cue: str | None, profile: str, seed: int, out_dir: Path,
                     progress: ProgressListener) -> tuple[SoundSheet, dict[str, Path]]:
        vision, effects = self.engines(profile)
        with self._working():
            sheet = see_image(image, vision, out_dir, cue, progress=progress)
            paths = hear_sheet(sheet, effects, out_dir, seed=seed, progress=progress)
        return sheet, paths

    def hear_variants(self, sheet: SoundSheet, profile: str, seed: int, out_dir: Path,
                      progress: ProgressListener) -> dict[str, Path]:
        """The effects of ``sheet``'s variants alone (a new sound, an edited play method)."""
        engine = self.engines(profile)[1]
        with self._working():
            return hear_sheet(sheet, engine, out_dir, seed=seed, progress=progress)

    def play(self, effects: list[EffectInput], song: str, out_dir: Path, *, mood: str, seed: int,
             overrides: dict[Session, str] | None, progress: ProgressListener,
             casting_picture: bool = True) -> PlayReport:
        # Only the mix leaves the worker: stems are not written.
        options = play_options(self.settings, seed=seed, mood=mood).model_copy(
            update={"write_stems": False, "casting_picture": casting_picture})
        with self._working():
            report = play(effects, song, out_dir, options=options, overrides=overrides, progress=progress,
                          instrument_cache=self.instrument_cache, feature_memo=self.feature_memo,
                          stem_cache=self.stem_cache)
            if self.remap_preparer is not None:
                self.remap_preparer.plan(effects, report, options)
        return report

    def draw_casting(self, out_dir: Path, effects: list[EffectInput]) -> Path:
        """The casting picture of a render played with ``casting_picture=False``, drawn now."""
        from pipeline.sessions import draw_casting

        return draw_casting(out_dir, effects, self.feature_memo)


def instrument_cache_for(settings: Settings) -> InstrumentCache | None:
    """The worker's cache of built instruments, in the data folder; None when turned off."""
    if settings.instrument_cache_mb <= 0:
        return None
    return InstrumentCache(settings.data_dir / "instrument-cache", max_bytes=settings.instrument_cache_mb * 1024 * 1024)
