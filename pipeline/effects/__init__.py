"""The effects stage: one sound effect WAV per variant of a sound sheet.

Engines: ``lite`` synthesises each effect from its words (no weights, CPU); ``audioldm2`` and ``stable_audio`` run
diffusers' AudioLDM2 and Stable Audio Open pipelines (the ``models`` extra). All write ``<variant-id>.wav`` files and record on each variant its
prompt, seed, engine and model.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.sheet import SoundSheet
from pipeline.types import ProgressCallback, no_progress

EFFECTS_ENGINES = ("lite", "audioldm2", "stable_audio")
_MODEL_ENGINES = {
    "audioldm2": ("pipeline.effects.audioldm2", "AudioLDM2EffectsEngine"),
    "stable_audio": ("pipeline.effects.stable_audio", "StableAudioEffectsEngine"),
}


@runtime_checkable
class EffectsEngine(Protocol):
    name: str
    model_id: str | None

    def generate(
        self, sheet: SoundSheet, out_dir: Path, *, seed: int = 0, progress: ProgressCallback = no_progress
    ) -> dict[str, Path]:
        """Write ``out_dir/<variant-id>.wav`` for every variant; returns variant id -> path."""
        ...


def get_effects_engine(name: str, **options: Any) -> EffectsEngine:
    """Build an effects engine by name. Options go to the engine's constructor.

    The model engines are imported only when asked for: the base install has no torch or diffusers.
    """
    key = (name or "").strip().lower()
    if key == "lite":
        from pipeline.effects.lite import LiteEffectsEngine

        return LiteEffectsEngine(**options)
    if key in _MODEL_ENGINES:
        module_name, class_name = _MODEL_ENGINES[key]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise WaveEngineError(
                f"The {key} effects engine needs torch, transformers and diffusers: install the models extra "
                "(pip install 'wave-band[models]').",
                detail=str(exc),
            ) from exc
        return getattr(module, class_name)(**options)
    raise WaveInputError(f"Unknown effects engine {name!r}; choose one of: {', '.join(EFFECTS_ENGINES)}.")


__all__ = ["EFFECTS_ENGINES", "EffectsEngine", "get_effects_engine"]
