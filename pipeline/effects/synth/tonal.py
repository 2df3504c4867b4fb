"""Pitched textures: mains hum, insect buzz and bird-like chirps."""

from __future__ import annotations

import numpy as np

from pipeline.effects.synth.common import add_at, fade, lowpass, seconds, slow_curve
from pipeline.effects.words import Timbre

# Mains hum: the supply frequency and its harmonics, the second (magnetostriction) nearly as strong.
HUM_LEVELS = (1.0, 0.7, 0.35, 0.3, 0.15, 0.12, 0.08, 0.05)


def hum(rng: np.random.Generator, timbre: Timbre, mains_hz: float = 50.0, duration_s: float = 4.0) -> np.ndarray:
    """A steady electrical hum locked to the mains frequency (it does not follow timbre pitch words)."""
    n = seconds(duration_s)
    t = np.arange(n) / 44100
    out = np.zeros(n)
    for k, level in enumerate(HUM_LEVELS, start=1):
        level *= (1 + 0.5 * timbre.brightness) ** (k - 1) if timbre.brightness > -1 else 1
        out += level * np.sin(2 * np.pi * mains_hz * k * t + rng.uniform(0, 2 * np.pi))
    breathing = slow_curve(rng, n, 0.5, 0.85, 1.0)
    hiss = lowpass(rng.standard_normal(n), 3000) * 0.02 * (1 + timbre.roughness)
    return (out * breathing + hiss) * fade(n, 0.3, 0.3)


def buzz(rng: np.random.Generator, timbre: Timbre, duration_s: float = 3.5) -> np.ndarray:
    """A flying insect: a buzzy wingbeat tone (many harmonics) under tremolo, drifting in pitch and level as it
    moves about."""
    n = seconds(duration_s)
    t = np.arange(n) / 44100
    wingbeat = rng.uniform(170, 260) * timbre.pitch
    freq = wingbeat * slow_curve(rng, n, 1.2, 0.92, 1.08)
    phase = 2 * np.pi * np.cumsum(freq) / 44100
    tone = sum((0.8**k) * np.sin(k * phase) for k in range(1, 14))
    tremolo = 0.65 + 0.35 * np.sin(2 * np.pi * rng.uniform(8, 16) * t)
    distance = slow_curve(rng, n, 0.8, 0.3, 1.0)
    out = lowpass(tone, 5000 * (1 + 0.5 * timbre.brightness)) * tremolo * distance
    return out * fade(n, 0.25, 0.3)


def chirp_call(rng: np.random.Generator, low_hz: float, high_hz: float, length_s: float, upward: bool) -> np.ndarray:
    """One chirp: a sweep between two pitches (exponential in frequency) with a weaker second harmonic."""
    n = seconds(length_s)
    x = np.linspace(0.0, 1.0, n)
    ratio = high_hz / low_hz
    freq = low_hz * ratio ** (x if upward else 1 - x)
    phase = 2 * np.pi * np.cumsum(freq) / 44100
    envelope = np.sin(np.pi * x) ** 1.5
    return envelope * (np.sin(phase) + 0.25 * np.sin(2 * phase + 0.3))


def chirps(rng: np.random.Generator, timbre: Timbre, duration_s: float = 3.0) -> np.ndarray:
    """Phrases of a few chirps separated by short gaps, each phrase sweeping in one direction."""
    n = seconds(duration_s)
    out = np.zeros(n)
    time = rng.uniform(0.05, 0.2)
    while time < duration_s - 0.5:
        upward = bool(rng.random() < 0.5)
        # Songbird chirps mostly sweep within 1.5-6 kHz; pitch words move them within that register.
        low = min(3500.0, rng.uniform(1200, 2100) * float(np.sqrt(timbre.pitch)))
        high = min(7000.0, low * 2 ** (rng.uniform(7, 11) / 12))
        for _ in range(int(rng.integers(2, 6))):
            length = rng.uniform(0.07, 0.14)
            call = chirp_call(rng, low, high, length, upward) * rng.uniform(0.6, 1.0)
            add_at(out, seconds(time), call)
            time += length + rng.uniform(0.04, 0.09)
        time += rng.uniform(0.3, 0.6)
    return out
