"""Engine registries: one per stage, name -> loader, so a new engine is its module plus one entry.

Also what every model engine shares before it loads weights: the torch device it runs on and whether the
Hugging Face Hub is switched off. The model engines' modules are imported only when asked for: the base install
has no torch.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pipeline.errors import WaveEngineError, WaveInputError

ModelKind = Literal["transformers", "diffusers"]
MODELS_EXTRA = "install the models extra (pip install 'wave-band[models]')"


class EngineUnavailableError(WaveEngineError):
    """An engine name the stage does not know, or an engine this installation cannot load."""


@dataclass(frozen=True)
class EngineEntry:
    """One engine of a stage: where its class lives and, for model engines, which setting names its weights."""

    name: str
    module: str
    attribute: str
    needs: str | None = None  # what it needs beyond the base install, said when importing it fails
    model_setting: str | None = None  # e.g. WAVE_AUDIOLDM2_MODEL; None for engines without weights to fetch
    model_kind: ModelKind | None = None


class EngineRegistry:
    """The engines of one stage, by name."""

    def __init__(self, stage: str, entries: Iterable[EngineEntry]) -> None:
        self.stage = stage
        self._entries = {entry.name: entry for entry in entries}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def entry(self, name: str) -> EngineEntry:
        key = (name or "").strip().lower()
        if key not in self._entries:
            raise EngineUnavailableError(
                f"Unknown {self.stage} engine {name!r}; choose one of: {', '.join(self.names)}."
            )
        return self._entries[key]

    def loader(self, name: str) -> Any:
        """The engine's class (or factory), imported now."""
        entry = self.entry(name)
        try:
            module = importlib.import_module(entry.module)
        except ImportError as exc:
            needs = f"needs {entry.needs}: " if entry.needs else "cannot be imported here: "
            raise EngineUnavailableError(
                f"The {entry.name} {self.stage} engine {needs}{MODELS_EXTRA} or use the lite engine.",
                detail=str(exc),
            ) from exc
        return getattr(module, entry.attribute)

    def build(self, name: str, **options: Any) -> Any:
        return self.loader(name)(**options)


def is_local_model(ref: str) -> bool:
    """Whether a model setting names a local directory (an existing path, or one written as a path) rather than a
    Hugging Face Hub id."""
    return Path(ref).expanduser().exists() or ref.startswith(("/", ".", "~"))


def hub_offline() -> bool:
    """Whether HF_HUB_OFFLINE (read by huggingface_hub or set since) forbids reaching the Hub."""
    try:
        from huggingface_hub import constants
    except ImportError:
        constants = None
    if constants is not None and constants.HF_HUB_OFFLINE:
        return True
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def resolve_device(setting: str | None, engine: str) -> str:
    """``auto`` -> ``cuda`` when a CUDA device is there, else ``cpu``; ``cpu``, ``cuda`` and ``cuda:N`` are checked."""
    import torch

    setting = (setting or "auto").strip().lower()
    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting != "cpu" and not (setting == "cuda" or (setting.startswith("cuda:") and setting[5:].isdigit())):
        raise WaveInputError(f"Unknown device {setting!r} for the {engine} engine; use auto, cpu, cuda or cuda:N.")
    if setting.startswith("cuda") and not torch.cuda.is_available():
        raise EngineUnavailableError(
            f"The {engine} engine was asked to run on {setting!r}, but no CUDA device is available."
        )
    return setting
