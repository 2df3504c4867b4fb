"""Animal calls other than songbird chirps: each animal's call has its own shape and register.

Calls are harmonic sources (a syrinx, a larynx, a vocal sac) shaped by a resonance band; a purr is a train of
soft noisy pulses; a cricket's trill is a pure carrier switched on and off by its wings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.effects.synth.common import SAMPLE_RATE, add_at, bandpass, fade, seconds, slow_curve
from pipeline.effects.words import Timbre


@dataclass(frozen=True)
class CallShape:
    f0: tuple[float, float]  # starting pitch range
    glide: tuple[float, float]  # end pitch / start pitch
    length_s: tuple[float, float]
    harmonics: int
    resonance: tuple[float, float]  # band that shapes the harmonics
    noise: float  # breath and roughness, 0..1
    calls: tuple[int, int]  # calls in a phrase
    gap_s: tuple[float, float]


SHAPES: dict[str, CallShape] = {
    "gull": CallShape((650, 950), (0.7, 0.85), (0.2, 0.35), 10, (900, 4500), 0.25, (2, 4), (0.15, 0.35)),
    "duck": CallShape((220, 380), (0.8, 0.95), (0.12, 0.2), 18, (900, 3500), 0.35, (2, 5), (0.12, 0.3)),
    "hen": CallShape((300, 460), (0.9, 1.1), (0.06, 0.1), 14, (700, 3500), 0.2, (3, 7), (0.15, 0.45)),
    "owl": CallShape((330, 430), (0.92, 0.98), (0.3, 0.5), 2, (250, 1200), 0.1, (2, 4), (0.25, 0.6)),
    "frog": CallShape((140, 260), (0.95, 1.05), (0.25, 0.45), 16, (400, 2500), 0.3, (3, 5), (0.3, 0.6)),
    "dog": CallShape((380, 600), (0.75, 0.9), (0.12, 0.2), 14, (600, 3500), 0.45, (2, 4), (0.25, 0.5)),
}


def harmonic_call(rng: np.random.Generator, shape: CallShape, timbre: Timbre) -> np.ndarray:
    length = rng.uniform(*shape.length_s)
    n = seconds(length)
    x = np.linspace(0.0, 1.0, n)
    start = rng.uniform(*shape.f0) * float(np.sqrt(timbre.pitch))
    freq = start * (1 + (rng.uniform(*shape.glide) - 1) * x)
    phase = 2 * np.pi * np.cumsum(freq) / SAMPLE_RATE
    tone = sum(np.sin(k * phase) / k**0.6 for k in range(1, shape.harmonics + 1) if start * k < 0.45 * SAMPLE_RATE)
    breath = rng.standard_normal(n) * shape.noise * 2.0
    if shape is SHAPES["frog"]:  # a croak is pulsed by the vocal sac
        tone = tone * (0.5 + 0.5 * np.sign(np.sin(2 * np.pi * rng.uniform(25, 40) * x * length)))
    voiced = bandpass(tone + breath, *shape.resonance)
    envelope = np.sin(np.pi * x) ** 0.6
    return voiced * envelope


def purr(rng: np.random.Generator, timbre: Timbre, duration_s: float = 3.6) -> np.ndarray:
    """About 25 soft noisy pulses a second, louder on the out-breath than the in-breath."""
    n = seconds(duration_s)
    out = np.zeros(n)
    rate = rng.uniform(22, 28)
    breath = rng.uniform(1.4, 2.0)
    pulse_n = seconds(0.02)
    shape = np.exp(-np.linspace(0, 5, pulse_n))
    for k in range(int(duration_s * rate)):
        time = k / rate
        level = 1.0 if (time / breath) % 1.0 < 0.55 else 0.6
        add_at(out, seconds(time), rng.standard_normal(pulse_n) * shape * level)
    return bandpass(out, 60, 700 * (1 + 0.3 * timbre.brightness), order=4) * fade(n, 0.2, 0.3)


def cricket(rng: np.random.Generator, timbre: Timbre, duration_s: float = 3.2) -> np.ndarray:
    """Chirps of three to five wing pulses on a pure carrier near 4.5 kHz, a few chirps a second."""
    n = seconds(duration_s)
    out = np.zeros(n)
    carrier = rng.uniform(4000, 5000) * float(np.sqrt(timbre.pitch))
    pulse_n = seconds(0.015)
    t = np.arange(pulse_n) / SAMPLE_RATE
    pulse = np.sin(2 * np.pi * carrier * t) * np.hanning(pulse_n)
    period = rng.uniform(0.35, 0.6)
    time = rng.uniform(0.02, 0.1)
    while time < duration_s - 0.2:
        for p in range(int(rng.integers(3, 6))):
            add_at(out, seconds(time + p * 0.025), pulse)
        time += period * rng.uniform(0.95, 1.05)
    return out * slow_curve(rng, n, 0.5, 0.7, 1.0)


def calls(rng: np.random.Generator, voice: str, timbre: Timbre) -> np.ndarray:
    """A phrase of calls for ``voice`` (see :data:`SHAPES`; ``cat`` purrs, ``cricket`` trills)."""
    if voice == "cat":
        return purr(rng, timbre)
    if voice == "cricket":
        return cricket(rng, timbre)
    shape = SHAPES[voice]
    parts, time = [], rng.uniform(0.03, 0.1)
    for _ in range(int(rng.integers(shape.calls[0], shape.calls[1] + 1))):
        call = harmonic_call(rng, shape, timbre) * rng.uniform(0.7, 1.0)
        parts.append((time, call))
        time += len(call) / SAMPLE_RATE + rng.uniform(*shape.gap_s)
    out = np.zeros(seconds(time + 0.2))
    for start, call in parts:
        add_at(out, seconds(start), call)
    return out
