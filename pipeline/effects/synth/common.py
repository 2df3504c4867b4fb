"""Small signal helpers shared by the synthesisers (filters, control curves, envelopes)."""

from __future__ import annotations

import numpy as np
from pedalboard import HighShelfFilter, LowShelfFilter, Pedalboard

from pipeline.dsp import filters

SAMPLE_RATE = 44100


def seconds(n: float) -> int:
    return round(n * SAMPLE_RATE)


def time_axis(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / SAMPLE_RATE


def _nyquist_clip(hz: float) -> float:
    return float(min(max(hz, 10.0), 0.45 * SAMPLE_RATE))


def bandpass(x: np.ndarray, low_hz: float, high_hz: float, order: int = 2) -> np.ndarray:
    low, high = _nyquist_clip(low_hz), _nyquist_clip(high_hz)
    if high <= low * 1.05:
        high = min(0.45 * SAMPLE_RATE, low * 1.2)
    return filters.bandpass(np.asarray(x, np.float64), low, high, SAMPLE_RATE, order)


def lowpass(x: np.ndarray, cutoff_hz: float, order: int = 2) -> np.ndarray:
    return filters.lowpass(np.asarray(x, np.float64), _nyquist_clip(cutoff_hz), SAMPLE_RATE, order)


def highpass(x: np.ndarray, cutoff_hz: float, order: int = 2) -> np.ndarray:
    return filters.highpass(np.asarray(x, np.float64), _nyquist_clip(cutoff_hz), SAMPLE_RATE, order)


def slow_curve(rng: np.random.Generator, n: int, rate_hz: float, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """A smooth random control signal between ``low`` and ``high`` that changes about ``rate_hz`` times a second.

    Cosine interpolation between random points keeps the slope continuous, so the curve never jumps.
    """
    points = max(2, int(np.ceil(n / SAMPLE_RATE * rate_hz)) + 2)
    values = rng.uniform(low, high, points)
    position = np.linspace(0, points - 1.0001, n)
    index = position.astype(int)
    frac = position - index
    weight = 0.5 - 0.5 * np.cos(np.pi * frac)
    return values[index] * (1 - weight) + values[index + 1] * weight


def fade(n: int, attack_s: float, release_s: float) -> np.ndarray:
    """A raised-cosine fade-in and fade-out envelope of length ``n``."""
    env = np.ones(n)
    a, r = min(n // 2, seconds(attack_s)), min(n // 2, seconds(release_s))
    if a > 0:
        env[:a] = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, a))
    if r > 0:
        env[-r:] = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, r))
    return env


def add_at(buffer: np.ndarray, start: int, grain: np.ndarray) -> None:
    """Mix ``grain`` into ``buffer`` from ``start``, cutting what runs past the end."""
    if start >= len(buffer):
        return
    end = min(len(buffer), start + len(grain))
    buffer[start:end] += grain[: end - start]


def tilt(x: np.ndarray, brightness: float) -> np.ndarray:
    """Spectral tilt: shelves at 3 kHz and 250 Hz, up to +-9 dB, from a brightness in [-1, 1]."""
    if abs(brightness) < 1e-3:
        return x
    board = Pedalboard(
        [HighShelfFilter(cutoff_frequency_hz=3000, gain_db=9 * brightness), LowShelfFilter(cutoff_frequency_hz=250, gain_db=-4 * brightness)]
    )
    return board(x.astype(np.float32)[None, :], SAMPLE_RATE)[0].astype(np.float64)
