"""Loudness (ITU-R BS.1770 via pyloudnorm) and true peak (4x oversampling) of stereo or mono audio."""

from __future__ import annotations

import warnings

import numpy as np
import pyloudnorm
from scipy.signal import resample_poly

# Below BS.1770's absolute gate everything counts as silence; reported values never go lower than these floors.
SILENCE_LUFS = -70.0
SILENCE_DBTP = -120.0
MIN_MEASURE_S = 0.4  # one BS.1770 gating block


def integrated_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness in LUFS; ``SILENCE_LUFS`` for silence. Clips shorter than 400 ms are padded."""
    audio = np.asarray(audio, dtype=np.float64)
    if audio.size == 0:
        return SILENCE_LUFS
    short = int(MIN_MEASURE_S * sample_rate) + 1 - len(audio)
    if short > 0:
        audio = np.concatenate([audio, np.zeros((short,) + audio.shape[1:])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyloudnorm warns on clipping and silence; both are handled here
        loudness = pyloudnorm.Meter(sample_rate).integrated_loudness(audio)
    return float(loudness) if np.isfinite(loudness) and loudness > SILENCE_LUFS else SILENCE_LUFS


def true_peak_dbtp(audio: np.ndarray, sample_rate: int) -> float:
    """Highest peak between samples, in dBTP, found by 4x polyphase oversampling (as BS.1770-4 describes)."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size == 0:
        return SILENCE_DBTP
    oversampled = resample_poly(audio, 4, 1, axis=0)
    peak = max(float(oversampled.max()), -float(oversampled.min()), float(audio.max()), -float(audio.min()))
    return max(20.0 * np.log10(peak), SILENCE_DBTP) if peak > 0 else SILENCE_DBTP
