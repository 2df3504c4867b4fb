"""The stable_audio effects engine: diffusers' Stable Audio Open pipeline, all variants of a job in one batched call.

Stable Audio Open 1.0 (``stabilityai/stable-audio-open-1.0``) writes 44.1 kHz stereo up to 47 s; WAVE folds it to
mono when it finishes each effect. Its weights are under the Stability AI Community License (free for
organisations under USD 1 M annual revenue, an enterprise licence above): see the README's model licences.
Needs the ``models`` extra; :func:`pipeline.effects.get_effects_engine` imports this module only when asked for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import StableAudioPipeline

from pipeline.effects.base import EffectRequest
from pipeline.effects.cache import DEFAULT_CACHE_DIR
from pipeline.effects.diffusion import DiffusionEffectsEngine
from pipeline.effects.loading import missing_pipeline_error
from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.types import ProgressCallback

DEFAULT_MODEL = "stabilityai/stable-audio-open-1.0"
MODEL_SETTING = "WAVE_STABLE_AUDIO_MODEL"


def load_stable_audio(model_id: str, device: torch.device, *, cache_dir: Path | str | None = None) -> StableAudioPipeline:
    """Load the pipeline (fp16 on CUDA, fp32 on CPU) from disk only (``wave models download`` fetches it)."""
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    try:
        pipe = StableAudioPipeline.from_pretrained(
            model_id, dtype=dtype, cache_dir=str(cache_dir) if cache_dir else None, local_files_only=True,
            use_safetensors=True,
        )
    except (OSError, ValueError) as exc:
        raise missing_pipeline_error("Stable Audio", model_id, MODEL_SETTING, DEFAULT_MODEL, exc) from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


class StableAudioEffectsEngine(DiffusionEffectsEngine):
    """Text-to-audio effects with Stable Audio Open."""

    name = "stable_audio"
    label = "Stable Audio"

    def __init__(
        self,
        *,
        model_id: str = DEFAULT_MODEL,
        device: str = "auto",
        steps: int = 50,
        seconds: float = 5.0,
        guidance_scale: float = 7.0,
        cache_dir: Path | str | None = None,
        effects_cache_dir: Path | str | None = DEFAULT_CACHE_DIR,
    ) -> None:
        super().__init__(model_id=model_id, device=device, steps=steps, seconds=seconds, guidance_scale=guidance_scale,
                         cache_dir=cache_dir, effects_cache_dir=effects_cache_dir)

    def load_pipe(self) -> StableAudioPipeline:
        return load_stable_audio(self.model_id, self.device, cache_dir=self.hub_cache_dir)

    def warm_up_options(self) -> dict[str, Any]:
        return {"audio_end_in_s": self.seconds, "guidance_scale": self.guidance_scale, "output_type": "pt"}

    @property
    def render_rate(self) -> int:
        return int(self.pipe.vae.config.sampling_rate)

    @property
    def max_seconds(self) -> float:
        pipe = self.pipe
        downsample = int(np.prod(pipe.vae.config.downsampling_ratios))
        return pipe.transformer.config.sample_size * downsample / pipe.vae.config.sampling_rate

    def render(self, requests: list[EffectRequest], progress: ProgressCallback) -> list[np.ndarray]:
        pipe = self.pipe
        if self.seconds > self.max_seconds:
            raise WaveInputError(f"Stable Audio makes at most {self.max_seconds:.1f} s per effect (asked {self.seconds:g} s).")

        # One CPU generator per effect, seeded with its own seed: an effect is the same whatever shares the batch.
        generators = [torch.Generator("cpu").manual_seed(r.seed) for r in requests]
        try:
            with torch.inference_mode():
                output = pipe(
                    prompt=[r.prompt.text for r in requests],
                    negative_prompt=[r.prompt.negative for r in requests],
                    num_inference_steps=self.steps,
                    guidance_scale=self.guidance_scale,
                    audio_end_in_s=self.seconds,
                    generator=generators,
                    callback=self.step_progress(progress),
                    callback_steps=1,
                    output_type="pt",
                )
        except torch.OutOfMemoryError as exc:
            raise WaveEngineError(
                f"The GPU ran out of memory making {len(requests)} effects; lower WAVE_EFFECT_SECONDS.", detail=str(exc)
            ) from exc
        audios = output.audios.float().cpu().numpy()  # (effects, channels, samples)
        if audios.shape[0] != len(requests):
            raise WaveEngineError(f"Stable Audio returned {audios.shape[0]} sounds for {len(requests)} effects.")
        return [audio.T for audio in audios]
