"""The mix's linear filters as one cascade of second-order sections, run by scipy's ``sosfilt``.

The designs are pedalboard's own (JUCE's ``IIR::Coefficients``: RBJ peak and shelves, first-order high- and
low-pass), so a chain sounds as the same chain of pedalboard plugins does, to float32 rounding. Pedalboard copies the
whole buffer in and out of each call and runs one plugin after another; a single ``sosfilt`` pass over a chain costs
about a third as much on a song-length buffer. Non-linear stages (compressor, limiter, reverb, saturation) stay in
pedalboard.
"""

from __future__ import annotations

from math import cos, pi, sin, sqrt, tan

import numpy as np
from scipy.signal import sosfilt, sosfreqz

DENORMAL_GUARD = 1e-15


def _normalised(b0: float, b1: float, b2: float, a0: float, a1: float, a2: float) -> list[float]:
    return [b0 / a0, b1 / a0, b2 / a0, 1.0, a1 / a0, a2 / a0]


def peak(sample_rate: int, hz: float, gain_db: float, q: float) -> list[float]:
    amplitude = sqrt(10 ** (gain_db / 20))
    omega = 2 * pi * hz / sample_rate
    alpha = sin(omega) / (2 * q)
    c2 = -2 * cos(omega)
    return _normalised(1 + alpha * amplitude, c2, 1 - alpha * amplitude, 1 + alpha / amplitude, c2, 1 - alpha / amplitude)


def _shelf_terms(sample_rate: int, hz: float, gain_db: float, q: float) -> tuple[float, float, float, float, float]:
    amplitude = sqrt(10 ** (gain_db / 20))
    omega = 2 * pi * hz / sample_rate
    beta = sin(omega) * sqrt(amplitude) / q
    return amplitude, amplitude - 1, amplitude + 1, cos(omega), beta


def high_shelf(sample_rate: int, hz: float, gain_db: float, q: float) -> list[float]:
    a, minus, plus, co, beta = _shelf_terms(sample_rate, hz, gain_db, q)
    return _normalised(a * (plus + minus * co + beta), -2 * a * (minus + plus * co), a * (plus + minus * co - beta),
                       plus - minus * co + beta, 2 * (minus - plus * co), plus - minus * co - beta)


def low_shelf(sample_rate: int, hz: float, gain_db: float, q: float) -> list[float]:
    a, minus, plus, co, beta = _shelf_terms(sample_rate, hz, gain_db, q)
    return _normalised(a * (plus - minus * co + beta), 2 * a * (minus - plus * co), a * (plus - minus * co - beta),
                       plus + minus * co + beta, -2 * (minus + plus * co), plus + minus * co - beta)


def highpass(sample_rate: int, hz: float) -> list[float]:
    """First order, 6 dB/octave (pedalboard's ``HighpassFilter``)."""
    n = tan(pi * hz / sample_rate)
    return _normalised(1.0, -1.0, 0.0, n + 1, n - 1, 0.0)


def lowpass(sample_rate: int, hz: float) -> list[float]:
    """First order, 6 dB/octave (pedalboard's ``LowpassFilter``)."""
    n = tan(pi * hz / sample_rate)
    return _normalised(n, n, 0.0, n + 1, n - 1, 0.0)


def chain(*sections: list[float]) -> np.ndarray:
    """Sections in processing order, as an ``sos`` array."""
    return np.array(sections, dtype=np.float64).reshape(-1, 6)


def apply(sos: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """Filter float32 audio along its last axis (channel-first buffers filter each channel)."""
    if not len(sos) or not audio.shape[-1]:
        return audio
    # In digital silence a filter's state decays into subnormal floats, which the processor handles some 100x
    # slower: a Nyquist-rate tone at -300 dBFS (inaudible, but far above the subnormal range) keeps it out.
    guard = np.full(audio.shape[-1], DENORMAL_GUARD, np.float32)
    guard[1::2] = -DENORMAL_GUARD
    return sosfilt(sos.astype(np.float32), audio + guard, axis=-1)


def power_response(sos: np.ndarray, sample_rate: int, freqs: np.ndarray) -> np.ndarray:
    """|H(f)|^2 of a chain at ``freqs``."""
    if not len(sos):
        return np.ones(len(freqs))
    return np.abs(sosfreqz(sos, worN=freqs, fs=sample_rate)[1]) ** 2
