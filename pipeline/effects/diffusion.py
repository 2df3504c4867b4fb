"""What the diffusers effects engines share: checked settings, the device, and a pipeline loaded once, on first use."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from pipeline.effects.base import CachedEffectsEngine
from pipeline.effects.cache import DEFAULT_CACHE_DIR
from pipeline.effects.loading import torch_device
from pipeline.effects.prompts import NEGATIVE_PROMPT
from pipeline.errors import WaveInputError
from pipeline.types import ProgressCallback

WARM_UP_PROMPT = "a door closing"


class DiffusionEffectsEngine(CachedEffectsEngine):
    """An effects engine around a diffusers pipeline. The loaded pipeline stays on the engine: load once, reuse."""

    label = ""  # the model's name in messages, e.g. "AudioLDM2"

    def __init__(
        self,
        *,
        model_id: str,
        device: str = "auto",
        steps: int,
        seconds: float = 5.0,
        guidance_scale: float,
        cache_dir: Path | str | None = None,
        effects_cache_dir: Path | str | None = DEFAULT_CACHE_DIR,
    ) -> None:
        super().__init__(effects_cache_dir=effects_cache_dir)
        if steps < 1:
            raise WaveInputError(f"{self.label} needs at least 1 diffusion step (got {steps}).")
        self.check_seconds(seconds)
        self.model_id = str(model_id)
        self.device = torch_device(device, self.name)
        self.steps = int(steps)
        self.seconds = float(seconds)
        self.guidance_scale = float(guidance_scale)
        self.hub_cache_dir = cache_dir
        self._pipe: Any = None

    def check_seconds(self, seconds: float) -> None:
        if seconds <= 0:
            raise WaveInputError(f"Effect length must be positive (got {seconds}).")

    @abstractmethod
    def load_pipe(self) -> Any:
        """The pipeline read from disk, on :attr:`device`."""

    @abstractmethod
    def warm_up_options(self) -> dict[str, Any]:
        """The pipeline's arguments, besides prompts and steps, for the short warm-up effect."""

    @property
    def pipe(self) -> Any:
        if self._pipe is None:
            self._pipe = self.load_pipe()
        return self._pipe

    def load(self):
        """Load the weights now (workers do this at start-up) instead of on the first job."""
        _ = self.pipe
        return self

    def warm_up(self):
        """Load the weights and make one short effect, so the first job does not pay for loading and for the
        device picking its kernels."""
        with torch.inference_mode():
            self.pipe(prompt=[WARM_UP_PROMPT], negative_prompt=[NEGATIVE_PROMPT], num_inference_steps=2,
                      **self.warm_up_options())
        return self

    def step_progress(self, progress: ProgressCallback) -> Callable[[int, Any, Any], None]:
        """A diffusers step callback that reports each step as progress (the last 5 % are left for finishing)."""

        def on_step(step: int, _timestep: Any, _latents: Any) -> None:
            progress(f"diffusion step {step + 1} of {self.steps}", min(0.95, (step + 1) / self.steps))

        return on_step
