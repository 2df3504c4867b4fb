"""Turning settings into engine objects. Used by the CLI and the workers, so both build engines the same way."""

from __future__ import annotations

from pipeline.play import PlayOptions
from pipeline.types import Session
from wave_core.settings import Settings


def vision_engine(settings: Settings):
    from pipeline.vision import get_vision_engine

    name = settings.resolved_vision_engine
    if name == "qwen":
        return get_vision_engine(
            "qwen",
            model_id=settings.qwen_model,
            device=settings.device,
            max_pixels=settings.qwen_max_pixels,
            max_new_tokens=settings.qwen_max_new_tokens,
            constrained=settings.qwen_constrained,
            cache_dir=settings.model_dir,
        )
    if name == "openai":
        return get_vision_engine(
            "openai",
            base_url=settings.openai_base_url,
            model=settings.openai_model,
            api_key=settings.openai_api_key,
            timeout_s=settings.openai_timeout_s,
            retries=settings.openai_retries,
            max_pixels=settings.qwen_max_pixels,
            max_tokens=settings.qwen_max_new_tokens,
        )
    return get_vision_engine(name)


def effects_engine(settings: Settings):
    from pipeline.effects import get_effects_engine

    name = settings.resolved_effects_engine
    cache_dir = settings.data_dir / "cache" / "effects"
    if name == "audioldm2":
        return get_effects_engine(
            "audioldm2",
            model_id=settings.audioldm2_model,
            device=settings.device,
            steps=settings.audioldm2_steps,
            waveforms_per_prompt=settings.audioldm2_waveforms_per_prompt,
            seconds=settings.effect_seconds,
            cache_dir=settings.model_dir,
            effects_cache_dir=cache_dir,
        )
    if name == "stable_audio":
        return get_effects_engine(
            "stable_audio",
            model_id=settings.stable_audio_model,
            device=settings.device,
            steps=settings.stable_audio_steps,
            seconds=settings.effect_seconds,
            cache_dir=settings.model_dir,
            effects_cache_dir=cache_dir,
        )
    return get_effects_engine(name, effects_cache_dir=cache_dir)


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
