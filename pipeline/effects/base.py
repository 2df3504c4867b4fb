"""What every effects engine does around its model: prompts, seeds, the cache, finishing and recording."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pipeline.audio import write_wav
from pipeline.effects.cache import DEFAULT_CACHE_DIR, EffectCache, effect_key
from pipeline.effects.postprocess import audio_problem, finish_effect
from pipeline.effects.prompts import EffectPrompt, build_prompts, retry_seed, variant_seed
from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.safe_names import safe_child
from pipeline.sheet import SoundSheet
from pipeline.types import ProgressCallback, no_progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EffectRequest:
    prompt: EffectPrompt
    seed: int
    cache_key: str


class CachedEffectsEngine(ABC):
    """Base of WAVE's effects engines. Subclasses only turn a batch of requests into audio."""

    name: str = ""
    model_id: str | None = None
    # Rate of the files written; engines render at their own rate and are resampled to this one.
    sample_rate: int = 44100
    seconds: float = 5.0
    steps: int | None = None

    def __init__(self, *, effects_cache_dir: Path | str | None = DEFAULT_CACHE_DIR) -> None:
        self.cache = EffectCache(effects_cache_dir) if effects_cache_dir is not None else None

    @property
    @abstractmethod
    def render_rate(self) -> int:
        """Sample rate of the audio :meth:`render` returns."""

    @abstractmethod
    def render(self, requests: list[EffectRequest], progress: ProgressCallback) -> list[np.ndarray]:
        """Raw mono audio at :attr:`render_rate`, one per request, in order."""

    def generate(
        self, sheet: SoundSheet, out_dir: Path, *, seed: int = 0, progress: ProgressCallback = no_progress
    ) -> dict[str, Path]:
        """Write ``out_dir/<variant-id>.wav`` for every variant and record prompt, seed and engine on it."""
        if not isinstance(sheet, SoundSheet) or not sheet.variants():
            raise WaveInputError("The sound sheet lists no sounds to make.")
        if not 0 <= int(seed) < 2**63:
            raise WaveInputError(f"Seed {seed} is out of range; use a whole number from 0.")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        requests = [self._request(prompt, seed) for prompt in build_prompts(sheet)]
        missing = [r for r in requests if self.cache is None or self.cache.get(r.cache_key) is None]
        log.info("%s: %d effects, %d cached", self.name, len(requests), len(requests) - len(missing))
        progress(f"making {len(missing)} of {len(requests)} sound effects", 0.0)

        rendered: dict[str, np.ndarray] = {}
        seeds = {r.cache_key: r.seed for r in requests}
        if missing:
            for request, audio in self._render_usable(missing, progress):
                rendered[request.cache_key] = finish_effect(audio, self.render_rate, self.sample_rate)
                seeds[request.cache_key] = request.seed

        paths: dict[str, Path] = {}
        by_id = {v.id: v for _, v in sheet.variants()}
        for request in requests:
            destination = safe_child(out_dir, f"{request.prompt.variant_id}.wav")
            if request.cache_key in rendered:
                audio = rendered[request.cache_key]
                write_wav(destination, audio, self.sample_rate)
                if self.cache is not None:
                    self.cache.put(request.cache_key, audio, self.sample_rate)
            else:
                self.cache.copy_to(request.cache_key, destination)  # type: ignore[union-attr]
            variant = by_id[request.prompt.variant_id]
            variant.prompt = request.prompt.text
            variant.seed = seeds[request.cache_key]
            variant.effect_engine = self.name
            variant.effect_model = self.model_id
            paths[variant.id] = destination
        progress(f"made {len(requests)} sound effects", 1.0)
        return paths

    def _render_checked(self, requests: list[EffectRequest], progress: ProgressCallback) -> list[np.ndarray]:
        audios = self.render(requests, progress)
        if len(audios) != len(requests):
            raise WaveEngineError(
                f"The {self.name} effects engine returned {len(audios)} sounds for {len(requests)} requests."
            )
        return audios

    def _render_usable(
        self, requests: list[EffectRequest], progress: ProgressCallback
    ) -> list[tuple[EffectRequest, np.ndarray]]:
        """Render ``requests``; an effect that comes back silent or with NaN samples is made once more with a new
        seed, and fails the job when that one is unusable too. The retried effect is stored under the original
        request's cache key (the retry is as deterministic as the first try) and records the seed it was made
        with."""
        results = list(zip(requests, self._render_checked(requests, progress)))
        broken = [i for i, (_, audio) in enumerate(results) if audio_problem(audio)]
        if not broken:
            return results
        log.warning("%s: %d effects came back unusable (%s); retrying them with new seeds", self.name, len(broken),
                    ", ".join(f"{results[i][0].prompt.variant_id}: {audio_problem(results[i][1])}" for i in broken))
        retries = [replace(results[i][0], seed=retry_seed(results[i][0].seed)) for i in broken]
        progress(f"remaking {len(retries)} unusable sound effects", 0.9)
        still_broken = []
        for i, request, audio in zip(broken, retries, self._render_checked(retries, progress)):
            results[i] = (request, audio)
            if problem := audio_problem(audio):
                still_broken.append(f"{request.prompt.variant_id} ({problem})")
        if still_broken:
            raise WaveEngineError(
                f"The {self.name} effects model made unusable sound twice, with two seeds, for "
                f"{', '.join(still_broken)}. The model or its weights may be damaged: run `wave models check`, "
                "or try another effects engine.",
                detail=f"model {self.model_id}",
            )
        return results

    def _request(self, prompt: EffectPrompt, seed: int) -> EffectRequest:
        own_seed = variant_seed(seed, prompt)
        key = effect_key(
            engine=self.name,
            model=self.model_id,
            prompt=prompt.text,
            negative_prompt=prompt.negative,
            seed=own_seed,
            seconds=self.seconds,
            steps=self.steps,
        )
        return EffectRequest(prompt=prompt, seed=own_seed, cache_key=key)
