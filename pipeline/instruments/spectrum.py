"""Tone-shaping curves for the melodic voices.

Everything works on one-sided spectra (``numpy.fft.rfft`` layout) and is vectorised over frequency bins.
"""

from __future__ import annotations

import numpy as np


def highpass_curve(freqs: np.ndarray, cutoff_hz: float, order: int = 4) -> np.ndarray:
    """Magnitude of a Butterworth-like high-pass; keeps what lies below a note out of it."""
    ratio = np.maximum(freqs.astype(np.float64) / cutoff_hz, 1e-3)
    return (1.0 / np.sqrt(1.0 + ratio ** (-2 * order))).astype(np.float32)
