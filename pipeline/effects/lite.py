"""The lite effects engine: every effect synthesised from its words by physical sound models, no weights, CPU."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from pipeline.effects.base import CachedEffectsEngine, EffectRequest
from pipeline.effects.cache import DEFAULT_CACHE_DIR
from pipeline.effects.synth import animal, liquid, machine, modal, noise, tonal
from pipeline.effects.synth.common import SAMPLE_RATE, tilt
from pipeline.effects.words import Recipe, SoundFamily, recipe_for
from pipeline.errors import WaveEngineError
from pipeline.types import ProgressCallback

_RUNNING = re.compile(r"\b(?:run\w*|jog\w*|sprint\w*|gallop\w*|hurr\w*)", re.IGNORECASE)
_RELEASE = re.compile(r"\b(?:releas\w*|burst\w*|puff\w*|short|spurt\w*|brakes?)\b", re.IGNORECASE)


def synthesise(recipe: Recipe, rng: np.random.Generator, running: bool = False, released: bool = False) -> np.ndarray:
    """Raw audio at 44.1 kHz for a recipe."""
    timbre = recipe.timbre
    family = recipe.family
    if family == SoundFamily.IMPACT and recipe.soft_striker:
        timbre = modal.soft_striker(timbre)
    if family == SoundFamily.IMPACT:
        audio = modal.impact(rng, recipe.material, timbre, recipe.repeated)
    elif family == SoundFamily.BELL:
        audio = modal.bell(rng, recipe.material, timbre)
    elif family == SoundFamily.FOOTSTEPS:
        audio = modal.footsteps(rng, recipe.material, timbre, running=running)
    elif family == SoundFamily.RUSTLE:
        audio = noise.rustle(rng, timbre)
    elif family == SoundFamily.SCRAPE:
        audio = noise.scrape(rng, timbre)
    elif family == SoundFamily.WIND:
        audio = noise.wind(rng, timbre)
    elif family == SoundFamily.WAVES:
        audio = noise.waves(rng, timbre)
    elif family == SoundFamily.CRACKLE:
        audio = noise.crackle(rng, timbre)
    elif family == SoundFamily.DRIP:
        audio = liquid.drips(rng, timbre)
    elif family == SoundFamily.BUBBLES:
        audio = liquid.boiling(rng, timbre)
    elif family == SoundFamily.POUR:
        audio = liquid.pouring(rng, timbre)
    elif family == SoundFamily.STREAM:
        audio = liquid.stream(rng, timbre)
    elif family == SoundFamily.HUM:
        audio = tonal.hum(rng, timbre, recipe.mains_hz)
    elif family == SoundFamily.BUZZ:
        audio = tonal.buzz(rng, timbre)
    elif family == SoundFamily.CHIRP:
        audio = tonal.chirps(rng, timbre) if recipe.voice == "songbird" else animal.calls(rng, recipe.voice, timbre)
    elif family == SoundFamily.MACHINE:
        audio = machine.machine(rng, recipe.machine, timbre, recipe.mains_hz)
    elif family == SoundFamily.HISS:
        audio = noise.hiss(rng, timbre, short=released)
    elif family == SoundFamily.CLICK:
        audio = modal.clicks(rng, timbre, recipe.repeated, recipe.steady)
    else:  # pragma: no cover - every SoundFamily member is handled above
        raise WaveEngineError(f"The lite effects engine has no synthesiser for {family}.")
    # Hum keeps its exact mains spectrum; everything else takes the timbre's tilt.
    if family != SoundFamily.HUM:
        audio = tilt(audio, timbre.brightness)
    return audio


# What a reply says when these engines made the sounds, so people know what they hear and how to get more.
LITE_NOTICE = (
    "These sounds were made by WAVE's embedded engines (lite profile, no models): quick sketches of each "
    "source. For model-made sounds use the gpu profile (wave render --profile gpu, or WAVE_PROFILE=gpu) after "
    "wave models download --profile gpu."
)


class LiteEffectsEngine(CachedEffectsEngine):
    """Synthesises each variant from its material, play method and timbre words. Deterministic per (words, seed)."""

    name = "lite"
    model_id = None
    steps = None
    notice = LITE_NOTICE

    def __init__(self, *, effects_cache_dir: Path | str | None = DEFAULT_CACHE_DIR, sample_rate: int = SAMPLE_RATE) -> None:
        super().__init__(effects_cache_dir=effects_cache_dir)
        self.sample_rate = int(sample_rate)

    @property
    def render_rate(self) -> int:
        return SAMPLE_RATE

    @staticmethod
    def recipe(request: EffectRequest) -> Recipe:
        p = request.prompt
        return recipe_for(name=p.name, material=p.material, play_method=p.play_method, timbre=list(p.timbre))

    def render(self, requests: list[EffectRequest], progress: ProgressCallback) -> list[np.ndarray]:
        audios = []
        for done, request in enumerate(requests):
            digest = hashlib.sha256(f"{request.seed}\n{request.prompt.words.lower()}".encode()).digest()
            rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
            words = request.prompt.words
            recipe = self.recipe(request)
            audio = synthesise(recipe, rng, running=bool(_RUNNING.search(words)), released=bool(_RELEASE.search(words)))
            audios.append(audio.astype(np.float32))
            progress(f"made {done + 1} of {len(requests)} sound effects", (done + 1) / len(requests))
        return audios
