"""Butterworth high-, low- and band-pass filters (scipy designs, run as second-order sections).

Designs are cached per (kind, cutoff, rate, order): instruments and synthesisers use the same few filters many
times over. Cutoffs are kept below Nyquist (at most 95 % of it) and a band's low edge at 10 Hz or above. The output
has the input's float precision (float32 in, float32 out); the filtering itself runs in float64.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import butter, sosfilt

MIN_CUTOFF_HZ = 10.0
MAX_CUTOFF_SHARE_OF_NYQUIST = 0.95


@lru_cache(maxsize=256)
def butterworth(kind: str, cutoff: float | tuple[float, float], sample_rate: int, order: int) -> np.ndarray:
    """Second-order sections of a Butterworth ``kind`` ("highpass", "lowpass" or "bandpass" with a (lo, hi) band)."""
    top = MAX_CUTOFF_SHARE_OF_NYQUIST * sample_rate / 2.0
    if isinstance(cutoff, tuple):
        lo, hi = max(cutoff[0], MIN_CUTOFF_HZ), min(cutoff[1], top)
        return butter(order, [lo, hi], btype="bandpass", fs=sample_rate, output="sos")
    return butter(order, min(cutoff, top), btype=kind, fs=sample_rate, output="sos")


def _run(sos: np.ndarray, audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio)
    return sosfilt(sos, audio).astype(np.result_type(audio.dtype, np.float32), copy=False)


def highpass(audio: np.ndarray, cutoff_hz: float, sample_rate: int, order: int = 4) -> np.ndarray:
    return _run(butterworth("highpass", cutoff_hz, sample_rate, order), audio)


def lowpass(audio: np.ndarray, cutoff_hz: float, sample_rate: int, order: int = 4) -> np.ndarray:
    return _run(butterworth("lowpass", cutoff_hz, sample_rate, order), audio)


def bandpass(audio: np.ndarray, low_hz: float, high_hz: float, sample_rate: int, order: int = 2) -> np.ndarray:
    return _run(butterworth("bandpass", (low_hz, high_hz), sample_rate, order), audio)
