"""The audioldm2 effects engine: diffusers' AudioLDM2 pipeline, all variants of a job in one batched call.

Needs the ``models`` extra (torch, transformers, diffusers); :func:`pipeline.effects.get_effects_engine` imports
this module only when asked for it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import AudioLDM2Pipeline, DPMSolverMultistepScheduler
from diffusers.utils import is_librosa_available
from transformers import GPT2LMHeadModel

from pipeline.effects.base import EffectRequest
from pipeline.effects.cache import DEFAULT_CACHE_DIR
from pipeline.effects.clap_features import log_mel_features, resample, supports_on_device
from pipeline.effects.diffusion import DiffusionEffectsEngine
from pipeline.effects.loading import missing_pipeline_error
from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.types import ProgressCallback

log = logging.getLogger(__name__)

DEFAULT_MODEL = "cvssp/audioldm2"
MODEL_SETTING = "WAVE_AUDIOLDM2_MODEL"
MAX_SECONDS = 30.0


class RankedAudioLDM2Pipeline(AudioLDM2Pipeline):
    """AudioLDM2 whose CLAP ranking keeps every prompt's candidates to that prompt.

    diffusers 0.42 scores each prompt against every waveform of the batch and takes the top ones, so with several
    prompts in one call a prompt can be handed another prompt's sound. Here each prompt ranks only its own
    ``num_waveforms_per_prompt`` candidates (generated next to each other), best first.
    """

    last_scores: torch.Tensor | None = None

    def score_waveforms(self, text, audio, num_waveforms_per_prompt, device, dtype):
        if num_waveforms_per_prompt < 2:  # nothing to choose between
            self.last_scores = None
            return audio
        prompts = [text] if isinstance(text, str) else list(text)
        features = self.clap_features(audio, device)
        if features is None:
            return audio
        inputs = self.tokenizer(prompts, return_tensors="pt", padding=True, truncation=True).to(device)
        inputs["input_features"] = features.to(device, dtype)
        logits = self.text_encoder(**inputs).logits_per_text  # (prompts, prompts * candidates)
        count, k = len(prompts), num_waveforms_per_prompt
        own = logits.reshape(count, count, k)[torch.arange(count), torch.arange(count)]  # (prompts, candidates)
        order = torch.argsort(own, dim=1, descending=True)
        self.last_scores = torch.gather(own, 1, order).float().cpu()
        indices = (order + torch.arange(count, device=order.device)[:, None] * k).reshape(-1)
        return torch.index_select(audio, 0, indices.to(audio.device))

    def clap_features(self, audio: torch.Tensor, device) -> torch.Tensor | None:
        """CLAP's input features for the candidates: on ``device`` for the unfused CLAP of the published
        checkpoints, through the (numpy) feature extractor otherwise; None when that needs the missing librosa."""
        extractor = self.feature_extractor
        vocoder_rate, clap_rate = self.vocoder.config.sampling_rate, extractor.sampling_rate
        if supports_on_device(extractor):
            return log_mel_features(resample(audio.to(device).float(), vocoder_rate, clap_rate), extractor)
        if not is_librosa_available():
            log.warning("librosa is missing: AudioLDM2 candidates are kept in generation order, not ranked by CLAP")
            return None
        import librosa

        resampled = librosa.resample(audio.float().cpu().numpy(), orig_sr=vocoder_rate, target_sr=clap_rate)
        return extractor(list(resampled), return_tensors="pt", sampling_rate=clap_rate).input_features


def load_audioldm2(model_id: str, device: torch.device, *, cache_dir: Path | str | None = None) -> RankedAudioLDM2Pipeline:
    """Load the pipeline (fp16 on CUDA, fp32 on CPU) with its GPT-2 as a language-model head and DPM-Solver.

    Only weights already on disk are used (a local directory or the Hugging Face cache): a worker never waits on
    the Hub, and missing weights fail at once with the command that fetches them.
    """
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    common = {"dtype": dtype, "cache_dir": str(cache_dir) if cache_dir else None, "local_files_only": True,
              "use_safetensors": True}
    try:
        # AudioLDM2 calls the language model's generation head; the plain GPT2Model fails at call time.
        language_model = GPT2LMHeadModel.from_pretrained(model_id, subfolder="language_model", **common)
        pipe = RankedAudioLDM2Pipeline.from_pretrained(model_id, language_model=language_model, **common)
    except (OSError, ValueError) as exc:
        raise missing_pipeline_error("AudioLDM2", model_id, MODEL_SETTING, DEFAULT_MODEL, exc) from exc
    return prepare_pipe(pipe, device)


def prepare_pipe(pipe: RankedAudioLDM2Pipeline, device: torch.device) -> RankedAudioLDM2Pipeline:
    """DPM-Solver instead of the checkpoint's DDIM, no progress bars, on ``device``."""
    pipe.scheduler = DPMSolverMultistepScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


class AudioLDM2EffectsEngine(DiffusionEffectsEngine):
    """Text-to-audio effects with AudioLDM2."""

    name = "audioldm2"
    label = "AudioLDM2"

    def __init__(
        self,
        *,
        model_id: str = DEFAULT_MODEL,
        device: str = "auto",
        steps: int = 25,
        waveforms_per_prompt: int | None = None,
        seconds: float = 5.0,
        guidance_scale: float = 3.5,
        cache_dir: Path | str | None = None,
        effects_cache_dir: Path | str | None = DEFAULT_CACHE_DIR,
    ) -> None:
        if waveforms_per_prompt is not None and waveforms_per_prompt < 1:
            raise WaveInputError(f"Candidates per effect must be at least 1 (got {waveforms_per_prompt}).")
        super().__init__(model_id=model_id, device=device, steps=steps, seconds=seconds, guidance_scale=guidance_scale,
                         cache_dir=cache_dir, effects_cache_dir=effects_cache_dir)
        self.waveforms_per_prompt = waveforms_per_prompt or (2 if self.device.type == "cuda" else 1)

    @classmethod
    def from_components(cls, components: dict[str, Any], **options: Any) -> AudioLDM2EffectsEngine:
        """An engine around pipeline components already in memory (tests, benchmarks); ``options`` as for the
        constructor. The components are those of ``AudioLDM2Pipeline(**components)``."""
        engine = cls(**options)
        for component in components.values():
            if isinstance(component, torch.nn.Module):
                component.eval()  # as from_pretrained leaves them: no dropout
        engine._pipe = prepare_pipe(RankedAudioLDM2Pipeline(**components), engine.device)
        return engine

    def check_seconds(self, seconds: float) -> None:
        if not 0 < seconds <= MAX_SECONDS:
            raise WaveInputError(f"Effect length must be between 0 and {MAX_SECONDS:.0f} seconds (got {seconds}).")

    def load_pipe(self) -> RankedAudioLDM2Pipeline:
        return load_audioldm2(self.model_id, self.device, cache_dir=self.hub_cache_dir)

    def warm_up_options(self) -> dict[str, Any]:
        return {"guidance_scale": self.guidance_scale, "audio_length_in_s": self.seconds,
                "num_waveforms_per_prompt": self.waveforms_per_prompt, "output_type": "np"}

    @property
    def render_rate(self) -> int:
        return int(self.pipe.vocoder.config.sampling_rate)

    @property
    def sample_rate(self) -> int:  # type: ignore[override]
        return self.render_rate

    def initial_latents(self, requests: list[EffectRequest]) -> torch.Tensor:
        """Starting noise for every candidate, drawn per effect from a CPU generator seeded with its own seed, so
        an effect is the same whatever else shares the batch (and on any device)."""
        pipe = self.pipe
        vocoder = pipe.vocoder.config
        seconds_per_frame = float(np.prod(vocoder.upsample_rates)) / vocoder.sampling_rate
        height = int(self.seconds / seconds_per_frame)
        scale = pipe.vae_scale_factor
        height = int(np.ceil(height / scale)) * scale
        shape = (self.waveforms_per_prompt, pipe.unet.config.in_channels, height // scale, vocoder.model_in_dim // scale)
        noise = [torch.randn(shape, generator=torch.Generator("cpu").manual_seed(r.seed)) for r in requests]
        return torch.cat(noise).to(self.device, pipe.unet.dtype)

    def render(self, requests: list[EffectRequest], progress: ProgressCallback) -> list[np.ndarray]:
        pipe = self.pipe
        k = self.waveforms_per_prompt

        try:
            with torch.inference_mode():
                output = pipe(
                    prompt=[r.prompt.text for r in requests],
                    negative_prompt=[r.prompt.negative for r in requests],
                    num_inference_steps=self.steps,
                    guidance_scale=self.guidance_scale,
                    audio_length_in_s=self.seconds,
                    num_waveforms_per_prompt=k,
                    latents=self.initial_latents(requests),
                    generator=torch.Generator(self.device).manual_seed(requests[0].seed),
                    callback=self.step_progress(progress),
                    callback_steps=1,
                    output_type="np",
                )
        except torch.OutOfMemoryError as exc:
            raise WaveEngineError(
                f"The GPU ran out of memory making {len(requests)} effects with {k} candidates each; lower "
                "WAVE_AUDIOLDM2_WAVEFORMS_PER_PROMPT or WAVE_EFFECT_SECONDS.",
                detail=str(exc),
            ) from exc
        audios = np.asarray(output.audios, dtype=np.float32)
        if audios.shape[0] != len(requests) * k:
            raise WaveEngineError(f"AudioLDM2 returned {audios.shape[0]} sounds for {len(requests) * k} candidates.")
        # Candidates come grouped per prompt and ranked best first.
        return [audios[i * k] for i in range(len(requests))]
