"""Turning settings into engine objects. Used by the CLI and the workers, so both build engines the same way.

The engines of each stage, and their names, come from the stage's registry (:data:`pipeline.vision.VISION`,
:data:`pipeline.effects.EFFECTS`). An engine with settings of its own adds one function here that reads them;
the others are built with the stage's common options only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.effects import EFFECTS
from pipeline.play import PlayOptions
from pipeline.types import Session
from pipeline.vision import VISION
from wave_core.settings import Settings

EngineOptions = Callable[[Settings], dict[str, Any]]


def _qwen(settings: Settings) -> dict[str, Any]:
    return {"model_id": settings.qwen_model, "device": settings.device, "max_pixels": settings.qwen_max_pixels,
            "max_new_tokens": settings.qwen_max_new_tokens, "constrained": settings.qwen_constrained,
            "cache_dir": settings.model_dir}


def _openai(settings: Settings) -> dict[str, Any]:
    return {"base_url": settings.openai_base_url, "model": settings.openai_model, "api_key": settings.openai_api_key,
            "timeout_s": settings.openai_timeout_s, "retries": settings.openai_retries,
            "max_pixels": settings.qwen_max_pixels, "max_tokens": settings.qwen_max_new_tokens}


def _audioldm2(settings: Settings) -> dict[str, Any]:
    return {"model_id": settings.audioldm2_model, "device": settings.device, "steps": settings.audioldm2_steps,
            "waveforms_per_prompt": settings.audioldm2_waveforms_per_prompt, "seconds": settings.effect_seconds,
            "cache_dir": settings.model_dir}


def _stable_audio(settings: Settings) -> dict[str, Any]:
    return {"model_id": settings.stable_audio_model, "device": settings.device, "steps": settings.stable_audio_steps,
            "seconds": settings.effect_seconds, "cache_dir": settings.model_dir}


VISION_OPTIONS: dict[str, EngineOptions] = {"qwen": _qwen, "openai": _openai}
EFFECTS_OPTIONS: dict[str, EngineOptions] = {"audioldm2": _audioldm2, "stable_audio": _stable_audio}


def model_ref(settings: Settings, setting: str) -> str:
    """What a model setting (``WAVE_QWEN_MODEL``) holds: a Hub id or a local directory."""
    return str(getattr(settings, setting.removeprefix("WAVE_").lower()))


def vision_engine(settings: Settings):
    name = settings.resolved_vision_engine
    options = VISION_OPTIONS.get(name, lambda _settings: {})(settings)
    return VISION.build(name, **options)


def effects_engine(settings: Settings):
    name = settings.resolved_effects_engine
    options = EFFECTS_OPTIONS.get(name, lambda _settings: {})(settings)
    return EFFECTS.build(name, effects_cache_dir=settings.data_dir / "cache" / "effects", **options)


def play_options(settings: Settings, *, seed: int = 0, mood: str = "", timbre: str | None = None) -> PlayOptions:
    rave_models = {s: path for s in Session if (path := settings.rave_model_for(s.value)) is not None}
    return PlayOptions(
        sample_rate=settings.sample_rate,
        timbre_engine=timbre or settings.timbre_engine,
        rave_models=rave_models,
        compressed_format=settings.compressed_format,
        seed=seed,
        mood=mood,
    )
