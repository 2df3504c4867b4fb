"""Liquids from bubbles: each a damped sinusoid at the Minnaert frequency of its radius whose pitch rises as it
nears the surface. Drips, boiling, pouring and streams differ in bubble sizes, counts and timing."""

from __future__ import annotations

import numpy as np

from pipeline.effects.synth.common import add_at, bandpass, fade, lowpass, seconds
from pipeline.effects.words import Timbre


def minnaert_hz(radius_m: float) -> float:
    """Resonance of an air bubble in water (Minnaert): about 3.26 Hz metres / radius."""
    return 3.26 / radius_m


def bubble(rng: np.random.Generator, radius_m: float, rise_semitones: float, decay_s: float | None = None) -> np.ndarray:
    f0 = minnaert_hz(radius_m)
    # Damping of a bubble (viscous + thermal + radiation), in 1/s; its inverse is the ring time.
    tau = decay_s if decay_s is not None else 1.0 / (0.13 / radius_m + 0.0072 * radius_m**-1.5)
    n = seconds(5 * tau)
    t = np.arange(n) / 44100
    # Pitch glides up by rise_semitones over the audible ring (three time constants).
    freq = f0 * 2 ** (rise_semitones / 12 * np.minimum(t / (3 * tau), 1.0))
    phase = 2 * np.pi * np.cumsum(freq) / 44100
    onset = np.minimum(1.0, t / 0.0008)
    return np.sin(phase) * np.exp(-t / tau) * onset


def drips(rng: np.random.Generator, timbre: Timbre, duration_s: float = 3.5) -> np.ndarray:
    """Single drops into water at an uneven but slow pace; each rings with a clear upward glide."""
    n = seconds(duration_s)
    out = np.zeros(n)
    time = rng.uniform(0.05, 0.2)
    while time < duration_s - 0.4:
        radius = rng.uniform(0.0025, 0.0045) / timbre.pitch
        drop = bubble(rng, radius, rise_semitones=rng.uniform(7, 10), decay_s=0.045 * timbre.decay)
        add_at(out, seconds(time), drop * rng.uniform(0.7, 1.0))
        time += rng.uniform(0.55, 0.9)
    return lowpass(out, 12000)


def _bubble_cloud(rng, n, rate_per_s, radius_range, rise, level_curve=None, radius_curve=None) -> np.ndarray:
    out = np.zeros(n)
    count = rng.poisson(rate_per_s * n / 44100)
    starts = np.sort(rng.integers(0, n, count))
    for start in starts:
        low, high = radius_range
        if radius_curve is not None:
            scale = radius_curve[start]
            low, high = low * scale, high * scale
        radius = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        level = rng.uniform(0.3, 1.0) * (level_curve[start] if level_curve is not None else 1.0)
        add_at(out, int(start), level * bubble(rng, radius, rise))
    return out


def boiling(rng: np.random.Generator, timbre: Timbre, duration_s: float = 3.0) -> np.ndarray:
    n = seconds(duration_s)
    radii = (0.002 / timbre.pitch, 0.008 / timbre.pitch)
    out = _bubble_cloud(rng, n, 60, radii, rise=rng.uniform(3, 6))
    return out * fade(n, 0.15, 0.3)


def pouring(rng: np.random.Generator, timbre: Timbre, duration_s: float = 3.5) -> np.ndarray:
    """Dense bubbles that get smaller (higher) as the vessel fills, over a splashy noise bed."""
    n = seconds(duration_s)
    filling = np.linspace(1.0, 0.55, n)
    out = _bubble_cloud(rng, n, 180, (0.0015 / timbre.pitch, 0.005 / timbre.pitch), 3.0, radius_curve=filling)
    splash = bandpass(rng.standard_normal(n), 600, 6000) * 0.08
    return (out + splash) * fade(n, 0.1, 0.25)


def stream(rng: np.random.Generator, timbre: Timbre, duration_s: float = 4.0) -> np.ndarray:
    """Many small bubbles with a steady low rush: a brook, a fountain, rain."""
    n = seconds(duration_s)
    out = _bubble_cloud(rng, n, 260, (0.001 / timbre.pitch, 0.006 / timbre.pitch), 2.0)
    rush = lowpass(rng.standard_normal(n), 1200 * (1 + 0.3 * timbre.brightness)) * 0.3
    return (out + rush) * fade(n, 0.4, 0.4)
