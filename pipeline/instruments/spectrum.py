"""Spectral helpers shared by the melodic voices: smooth spectral envelopes and tone-shaping curves.

Everything works on one-sided spectra (``numpy.fft.rfft`` layout) and is vectorised over frequency bins.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import welch

_EPS = 1e-12


def smooth_log_frequency(magnitude: np.ndarray, freqs: np.ndarray, octaves: float) -> np.ndarray:
    """Moving average of ``magnitude`` over a window ``octaves`` wide around each bin (constant-Q smoothing).

    ``freqs`` must be evenly spaced (an FFT grid).

    A spectral envelope has to be smooth on a log-frequency scale; a fixed-width window would either blur the
    bass or leave the treble ragged. Implemented with a cumulative sum so it costs O(bins).
    """
    half = 2.0 ** (octaves / 2.0)
    step = float(freqs[1] - freqs[0]) if len(freqs) > 1 else 1.0
    first = float(freqs[0])
    # The bins are evenly spaced, so window edges are found by arithmetic instead of a search.
    lo = np.clip(np.ceil((freqs / half - first) / step), 0, len(freqs) - 1).astype(np.int64)
    hi = np.clip(np.floor((freqs * half - first) / step) + 1, 1, len(freqs)).astype(np.int64)
    hi = np.maximum(hi, lo + 1)
    cumulative = np.concatenate([[0.0], np.cumsum(magnitude, dtype=np.float64)])
    return ((cumulative[hi] - cumulative[lo]) / (hi - lo)).astype(np.float32)


def average_envelope(audio: np.ndarray, sample_rate: int, max_seconds: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Long-term average magnitude spectrum of ``audio`` (Welch), as ``(freqs, magnitude)``, peak 1.

    This is the "colour" of a sound: what stays when its time structure is averaged away.
    """
    clip = audio[: int(max_seconds * sample_rate)]
    segment = min(4096, max(256, 1 << int(np.log2(max(len(clip), 256)))))
    freqs, power = welch(clip, fs=sample_rate, nperseg=min(segment, len(clip)), scaling="spectrum")
    magnitude = np.sqrt(np.maximum(power, 0.0))
    magnitude = smooth_log_frequency(magnitude, freqs, 1.0 / 3.0)
    return freqs.astype(np.float32), magnitude / max(float(magnitude.max()), _EPS)


def sample_envelope(envelope: tuple[np.ndarray, np.ndarray], freqs: np.ndarray, floor_db: float = -40.0) -> np.ndarray:
    """The envelope read at ``freqs`` (linear interpolation), never below ``floor_db`` of its peak."""
    env_freqs, magnitude = envelope
    values = np.interp(freqs, env_freqs, magnitude, left=magnitude[0], right=magnitude[-1])
    return np.maximum(values, 10 ** (floor_db / 20)).astype(np.float32)


def spectral_tilt(freqs: np.ndarray, f0: float, db_per_octave: float) -> np.ndarray:
    """Flat up to the fundamental, then falling ``db_per_octave`` (the usual slope of a played string or pipe)."""
    octaves_above = np.log2(np.maximum(freqs, f0) / f0)
    return (10 ** (-db_per_octave * octaves_above / 20)).astype(np.float32)


def lowpass_curve(freqs: np.ndarray, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Magnitude of a Butterworth-like low-pass, used for softer velocity layers."""
    return (1.0 / np.sqrt(1.0 + (freqs / cutoff_hz) ** (2 * order))).astype(np.float32)


def highpass_curve(freqs: np.ndarray, cutoff_hz: float, order: int = 4) -> np.ndarray:
    """Magnitude of a Butterworth-like high-pass; removes rumble (and the resonator's DC mode) below a note."""
    ratio = np.maximum(freqs.astype(np.float64) / cutoff_hz, 1e-3)
    return (1.0 / np.sqrt(1.0 + ratio ** (-2 * order))).astype(np.float32)
