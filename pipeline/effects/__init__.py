"""The effects stage: one sound effect WAV per variant of a sound sheet.

Engines: ``lite`` synthesises each effect from its words (no weights, CPU); ``audioldm2`` and ``stable_audio`` run
diffusers' AudioLDM2 and Stable Audio Open pipelines (the ``models`` extra). All write ``<variant-id>.wav`` files and record on each variant its
prompt, seed, engine and model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pipeline.engines import EngineEntry, EngineRegistry
from pipeline.sheet import SoundSheet
from pipeline.types import ProgressCallback, no_progress

_DIFFUSERS = "torch, transformers and diffusers"
EFFECTS = EngineRegistry("effects", [
    EngineEntry("lite", "pipeline.effects.lite", "LiteEffectsEngine"),
    EngineEntry("audioldm2", "pipeline.effects.audioldm2", "AudioLDM2EffectsEngine", needs=_DIFFUSERS,
                model_setting="WAVE_AUDIOLDM2_MODEL", model_kind="diffusers"),
    EngineEntry("stable_audio", "pipeline.effects.stable_audio", "StableAudioEffectsEngine", needs=_DIFFUSERS,
                model_setting="WAVE_STABLE_AUDIO_MODEL", model_kind="diffusers"),
])
EFFECTS_ENGINES = EFFECTS.names


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
    return EFFECTS.build(name, **options)


__all__ = ["EFFECTS", "EFFECTS_ENGINES", "EffectsEngine", "get_effects_engine"]
