"""Noise-based textures: rustle, scrape, wind, waves, fire crackle and hiss.

All of them are shaped noise; what differs is the shaping: many short grains (rustle), band-passed noise under a
slow amplitude modulation (scrape), slowly wandering band-passed noise with no onsets (wind), slow swells (waves)
and sparse clicks over a soft roar (fire).
"""

from __future__ import annotations

import numpy as np

from pipeline.effects.synth.common import add_at, bandpass, fade, highpass, lowpass, seconds, slow_curve
from pipeline.effects.words import Timbre


def rustle(rng: np.random.Generator, timbre: Timbre, duration_s: float = 3.0) -> np.ndarray:
    """Many short noise grains (leaves, paper, cloth) at a density that drifts over time."""
    n = seconds(duration_s)
    out = np.zeros(n)
    density = slow_curve(rng, n, 4.0, 0.1, 1.0)
    rate = 260 * (1 + 0.5 * timbre.roughness)
    count = int(rate * duration_s)
    starts = np.sort(rng.integers(0, n, count))
    keep = rng.random(count) < density[starts]
    low = 1200 * timbre.pitch
    for start in starts[keep]:
        length = seconds(rng.uniform(0.004, 0.03))
        grain = rng.standard_normal(length) * np.hanning(length) * rng.uniform(0.2, 1.0)
        add_at(out, int(start), grain)
    out = bandpass(out, low, min(16000, low * 10 * (1 + 0.3 * timbre.brightness)), order=1)
    return out * fade(n, 0.1, 0.3)


def scrape(rng: np.random.Generator, timbre: Timbre, duration_s: float = 2.6) -> np.ndarray:
    """Band-passed noise under slow amplitude modulation, with stick-slip grains for roughness."""
    n = seconds(duration_s)
    noise = rng.standard_normal(n)
    center = rng.uniform(900, 2200) * timbre.pitch
    banded = bandpass(noise, center / 1.6, center * 1.6)
    stroke_hz = rng.uniform(1.2, 3.0)
    t = np.arange(n) / 44100
    strokes = 0.65 + 0.35 * np.sin(2 * np.pi * stroke_hz * t + rng.uniform(0, 2 * np.pi))
    # Stick-slip: the contact catches and lets go several times a second, each release a small burst.
    wobble = slow_curve(rng, n, rng.uniform(26.0, 34.0), 0.55, 1.0) ** 2
    grains = (rng.random(n) < 0.004 * (1 + timbre.roughness)) * rng.standard_normal(n)
    texture = bandpass(grains, center, center * 3) * 3
    out = (banded + texture) * strokes * wobble
    return out * fade(n, 0.06, 0.6)


def wind(rng: np.random.Generator, timbre: Timbre, duration_s: float = 4.5) -> np.ndarray:
    """Noise through three bands whose levels wander slowly; long fades and no transients anywhere."""
    n = seconds(duration_s)
    noise = lowpass(rng.standard_normal(n), 6000 * (1 + 0.4 * timbre.brightness))
    out = np.zeros(n)
    base = 380 * timbre.pitch ** 0.5
    for k, width in enumerate((2.2, 1.9, 1.7)):
        center = base * (2.2**k) * rng.uniform(0.85, 1.15)
        band = bandpass(noise, center / width, center * width)
        level = slow_curve(rng, n, 0.8, 0.1, 1.0) ** 2
        out += band * level * (0.8**k)
    out += 0.3 * noise * slow_curve(rng, n, 0.5, 0.3, 1.0)  # the broadband rush the bands sit on
    gusts = slow_curve(rng, n, 1.2, 0.25, 1.0) ** 1.5
    # Turbulence: the level flutters several times a second inside each gust.
    gusts *= slow_curve(rng, n, rng.uniform(9.0, 12.0), 0.35, 1.0)
    return out * gusts * fade(n, 1.0, 1.2)


def waves(rng: np.random.Generator, timbre: Timbre, duration_s: float = 5.0) -> np.ndarray:
    """Slow swells of low noise with a foam hiss on each crest."""
    n = seconds(duration_s)
    t = np.arange(n) / 44100
    period = rng.uniform(3.0, 4.0) / max(0.5, timbre.pitch)
    phase = (t / period + rng.uniform(0, 1)) % 1.0
    # Asymmetric swell: a slow rise to the break, then a longer wash out.
    swell = np.where(phase < 0.4, np.sin(np.pi / 2 * phase / 0.4) ** 2, np.exp(-(phase - 0.4) / 0.25))
    rumble = lowpass(rng.standard_normal(n), 500) * 3
    foam = bandpass(rng.standard_normal(n), 2000, 9000 * (1 + 0.3 * timbre.brightness))
    out = rumble * (0.3 + swell) + foam * swell**3 * (0.6 + 0.3 * timbre.roughness)
    return out * fade(n, 0.8, 0.8)


def crackle(rng: np.random.Generator, timbre: Timbre, duration_s: float = 3.5) -> np.ndarray:
    """Sparse random clicks of heavy-tailed size over a soft, low roar (burning wood)."""
    n = seconds(duration_s)
    out = np.zeros(n)
    rate = rng.uniform(6, 11) * (1 + 0.5 * timbre.roughness)
    count = rng.poisson(rate * duration_s)
    for start in rng.integers(0, n, count):
        length = seconds(rng.uniform(0.001, 0.006))
        size = min(1.0, 0.25 * rng.pareto(1.5) + 0.1)
        click = rng.standard_normal(length) * np.exp(-np.linspace(0, 8, length)) * size
        add_at(out, int(start), click)
    out = highpass(out, 800 / max(0.5, timbre.pitch))
    roar = bandpass(rng.standard_normal(n), 150, 1500) * slow_curve(rng, n, 2.0, 0.5, 1.0) * 0.06
    return (out + roar) * fade(n, 0.2, 0.3)


def hiss(rng: np.random.Generator, timbre: Timbre, short: bool = False) -> np.ndarray:
    """Gas escaping through a narrow opening (steam, air brakes, a spray): broadband noise above a few kHz whose
    level flutters with the turbulence; a release is a burst that dies away, a steady jet holds."""
    duration_s = rng.uniform(1.2, 1.8) if short else rng.uniform(2.8, 3.6)
    n = seconds(duration_s)
    corner = rng.uniform(1300, 2200) * timbre.pitch ** 0.5 * (1 + 0.3 * timbre.brightness)
    jet = highpass(rng.standard_normal(n), corner, order=2)
    jet = lowpass(jet, min(19000.0, corner * 12), order=1)
    # Turbulent jets sputter: the level jumps about ten times a second.
    flutter = slow_curve(rng, n, rng.uniform(9.0, 12.0), 0.35, 1.0) * slow_curve(rng, n, 1.0, 0.7, 1.0)
    if short:
        envelope = np.exp(-np.linspace(0, rng.uniform(2.0, 3.0), n)) * fade(n, 0.01, 0.2)
    else:
        envelope = fade(n, 0.15, 0.4)
    return jet * flutter * envelope
