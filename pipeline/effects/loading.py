"""What the diffusers effects engines share to load a pipeline: the device and a clear error for missing weights."""

from __future__ import annotations

import torch

from pipeline.engines import is_local_model, resolve_device
from pipeline.errors import WaveEngineError


def torch_device(setting: str, engine: str) -> torch.device:
    return torch.device(resolve_device(setting, engine))


def missing_pipeline_error(label: str, model_id: str, setting: str, default_model: str, exc: Exception) -> WaveEngineError:
    """The error for a pipeline that is not complete on disk (engines never download: ``wave models download``
    does)."""
    is_directory = is_local_model(model_id)
    where = "its local directory" if is_directory else "the Hugging Face cache"
    hub_id = model_id if "/" in model_id and not is_directory else default_model
    return WaveEngineError(
        f"The {label} model {model_id!r} is not complete in {where} (safetensors weights). Download it with "
        f"`wave models download --profile gpu` (or `hf download {hub_id}`), or set {setting} to a local "
        "directory that holds the pipeline.",
        detail=f"{type(exc).__name__}: {exc}",
    )
