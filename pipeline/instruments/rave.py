"""The ``rave`` timbre engine: re-voice an effect with an operator-supplied TorchScript RAVE model.

RAVE exports are TorchScript modules with a sample rate attribute ``sr`` and ``encode``/``decode`` (and
``forward``) methods on ``(batch, channels, samples)`` float tensors. torch is imported only when this engine runs:
the base install has no torch.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.audio import resample
from pipeline.errors import WaveEngineError

log = logging.getLogger(__name__)

_models: dict[Path, Any] = {}
_models_lock = threading.Lock()


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise WaveEngineError(
            "The rave timbre engine needs PyTorch. Install WAVE with the `models` extra "
            "(pip install 'wave-band[models]')."
        ) from exc
    return torch


def load_model(model_path: Path) -> Any:
    """The TorchScript module at ``model_path``, loaded once per path and kept for later calls."""
    path = Path(model_path).expanduser().resolve()
    with _models_lock:
        if path in _models:
            return _models[path]
        torch = _torch()
        if not path.is_file():
            raise WaveEngineError(f"RAVE model file not found: {path.name}")
        try:
            model = torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:  # torch raises RuntimeError, ValueError or zip errors for foreign files
            log.info("not a TorchScript file %s: %s", path, exc)
            raise WaveEngineError(f"{path.name} is not a TorchScript RAVE model (export it with torch.jit).") from exc
        model.eval()
        _models[path] = model
        return model


def _model_int(model: Any, names: tuple[str, ...], default: int | None) -> int | None:
    for name in names:
        value = getattr(model, name, None)
        if value is None:
            continue
        try:
            return int(value.item() if hasattr(value, "item") else value)
        except (TypeError, ValueError):
            continue
    return default


def _has_method(model: Any, name: str) -> bool:
    try:
        return callable(getattr(model, name))
    except (AttributeError, RuntimeError):
        return False


def apply_rave(audio: np.ndarray, sample_rate: int, model_path: Path) -> np.ndarray:
    """Run mono ``audio`` through the RAVE model and return mono float32 audio of the same length and rate."""
    torch = _torch()
    model = load_model(model_path)
    model_rate = _model_int(model, ("sr", "sample_rate"), None)
    if not model_rate or model_rate <= 0:
        raise WaveEngineError(f"The RAVE model {Path(model_path).name} does not say its sample rate (attribute `sr`).")
    channels = _model_int(model, ("n_channels", "channels"), 1) or 1
    ratio = _model_int(model, ("compression_ratio", "hop_length"), 1) or 1

    mono = np.asarray(audio, dtype=np.float32).reshape(-1)
    at_model_rate = resample(mono, sample_rate, model_rate)
    n = len(at_model_rate)
    padded = np.pad(at_model_rate, (0, (-n) % ratio))
    x = torch.from_numpy(np.ascontiguousarray(np.tile(padded, (channels, 1))))[None]
    try:
        with torch.inference_mode():
            if _has_method(model, "encode") and _has_method(model, "decode"):
                y = model.decode(model.encode(x))
            else:
                y = model(x)
    except Exception as exc:
        log.warning("RAVE model %s failed: %s", model_path, exc)
        raise WaveEngineError(f"The RAVE model {Path(model_path).name} failed to run on this sound.") from exc
    if not isinstance(y, torch.Tensor) or y.dim() != 3 or y.shape[0] != 1:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise WaveEngineError(
            f"The RAVE model {Path(model_path).name} returned {shape}; expected (1, channels, samples)."
        )
    out = y[0].float().mean(dim=0).cpu().numpy()
    if not np.all(np.isfinite(out)):
        raise WaveEngineError(f"The RAVE model {Path(model_path).name} returned NaN or infinite samples.")
    out = resample(out[:n] if len(out) >= n else np.pad(out, (0, n - len(out))), model_rate, sample_rate)
    length = len(mono)
    out = out[:length] if len(out) >= length else np.pad(out, (0, length - len(out)))
    return out.astype(np.float32)
