"""Struck objects by modal synthesis: a bank of exponentially damped sinusoids excited by a short noise burst.

Each material has its own mode frequency ratios (bars, plates and shells are inharmonic), fundamental range and
damping; higher modes die faster, as internal friction grows with frequency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.effects.synth.common import add_at, bandpass, lowpass, seconds, time_axis
from pipeline.effects.words import Material, Timbre


@dataclass(frozen=True)
class MaterialModes:
    ratios: tuple[float, ...]
    f0_range: tuple[float, float]
    decay_s: float  # ring time constant of the fundamental
    damping: float  # how much faster higher modes decay (per unit of ratio)
    noise: float  # level of the contact noise burst relative to the modes
    noise_band: tuple[float, float]


MATERIALS: dict[Material, MaterialModes] = {
    Material.WOOD: MaterialModes((1.0, 2.57, 4.21, 6.3, 8.6), (280, 650), 0.06, 0.6, 0.35, (300, 4000)),
    Material.METAL: MaterialModes((1.0, 2.76, 5.40, 8.93, 13.34, 3.17, 6.8), (500, 1300), 0.22, 0.12, 0.2, (1500, 12000)),
    Material.GLASS: MaterialModes((1.0, 2.32, 4.25, 6.63, 9.38), (1100, 2400), 0.45, 0.2, 0.12, (3000, 14000)),
    Material.STONE: MaterialModes((1.0, 1.83, 2.94, 4.11, 5.6), (140, 380), 0.04, 0.9, 0.6, (200, 6000)),
    Material.PLASTIC: MaterialModes((1.0, 1.92, 3.13, 4.6), (260, 750), 0.07, 0.8, 0.4, (400, 5000)),
    Material.CERAMIC: MaterialModes((1.0, 2.09, 3.62, 5.31, 7.4), (750, 1700), 0.3, 0.3, 0.2, (1500, 10000)),
    Material.EARTH: MaterialModes((1.0, 1.6, 2.3), (70, 160), 0.03, 1.0, 1.2, (150, 5000)),
}

MAX_RING_FACTOR = 1.5

# Church-bell partials relative to the nominal (hum, prime, tierce, quint, nominal, ...): strongly inharmonic.
BELL_RATIOS = (0.5, 1.0, 1.183, 1.506, 2.0, 2.514, 2.662, 3.011, 4.166, 5.433, 6.796)
BELL_LEVELS = (0.5, 0.8, 0.6, 0.35, 1.0, 0.4, 0.35, 0.3, 0.2, 0.12, 0.08)


def mode_bank(
    rng: np.random.Generator, n: int, f0: float, ratios, levels, decay_s: float, damping: float
) -> np.ndarray:
    t = time_axis(n)
    out = np.zeros(n)
    for ratio, level in zip(ratios, levels):
        freq = f0 * ratio * rng.uniform(0.995, 1.005)
        if freq >= 0.45 * 44100:
            continue
        tau = decay_s / (1.0 + damping * (ratio - 1.0))
        out += level * np.exp(-t / tau) * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
    return out


def strike(rng: np.random.Generator, modes: MaterialModes, timbre: Timbre, f0: float, force: float = 1.0) -> np.ndarray:
    """One hit: modes plus a contact-noise burst whose length sets how hard or soft the striker is."""
    # Ring words lengthen a hit within what its material allows: a struck object is not a bell.
    decay = modes.decay_s * min(timbre.decay, MAX_RING_FACTOR)
    n = seconds(min(2.5, 0.05 + 7.0 * decay))
    levels = [rng.uniform(0.6, 1.0) / (1 + 0.5 * k) for k in range(len(modes.ratios))]
    if timbre.brightness:
        levels = [lv * (1 + timbre.brightness) ** (0.5 * k) for k, lv in enumerate(levels)]
    body = mode_bank(rng, n, f0, modes.ratios, levels, decay, modes.damping)
    contact_s = 0.004 * (1.0 - 0.6 * timbre.attack)
    burst_n = max(8, seconds(contact_s))
    burst = rng.standard_normal(burst_n) * np.exp(-np.linspace(0, 6, burst_n))
    noise_level = modes.noise * (1 + 0.5 * timbre.roughness)
    excitation = np.zeros(n)
    excitation[:burst_n] = bandpass(burst, *modes.noise_band)
    out = body / (np.max(np.abs(body)) + 1e-9) + noise_level * excitation / (np.max(np.abs(excitation)) + 1e-9)
    return force * out


def soft_striker(timbre: Timbre) -> Timbre:
    """A fist or a palm: a long contact that excites the lowest modes of the whole body, damped by the hand."""
    return Timbre(
        brightness=max(-1.0, timbre.brightness - 0.7),
        pitch=timbre.pitch * 0.5,
        decay=timbre.decay * 0.35,
        attack=-0.8,
        roughness=timbre.roughness,
    )


def impact(rng: np.random.Generator, material: Material, timbre: Timbre, repeated: bool) -> np.ndarray:
    modes = MATERIALS[material]
    f0 = rng.uniform(*modes.f0_range) * timbre.pitch
    hits = int(rng.integers(4, 8)) if repeated else 1
    gap = rng.uniform(0.18, 0.35)
    first = strike(rng, modes, timbre, f0)
    out = np.zeros(len(first) + seconds(gap * (hits - 1)))
    for k in range(hits):
        hit = first if k == 0 else strike(rng, modes, timbre, f0 * rng.uniform(0.98, 1.02), rng.uniform(0.75, 1.0))
        add_at(out, seconds(k * gap), hit)
    return out


def bell(rng: np.random.Generator, material: Material, timbre: Timbre) -> np.ndarray:
    """A single struck bell: long, inharmonic partials with the hum ringing longest."""
    nominal = rng.uniform(700, 1300) * timbre.pitch
    decay = 1.4 * timbre.decay
    n = seconds(min(5.0, 4.0 * decay + 0.2))
    t = time_axis(n)
    out = np.zeros(n)
    for k, (ratio, level) in enumerate(zip(BELL_RATIOS, BELL_LEVELS)):
        freq = nominal * ratio
        if freq >= 0.45 * 44100:
            continue
        tau = decay * (1.6 if ratio < 1 else 1.0 / (1 + 0.15 * k))
        level *= (1 + timbre.brightness) ** (0.3 * k) if timbre.brightness > -1 else 1
        # A slight beat between the two halves of each degenerate mode pair, as in real bells.
        beat = 1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.5, 2.0) * t)
        out += level * beat * np.exp(-t / tau) * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
    click_n = seconds(0.003)
    out[:click_n] += 0.3 * rng.standard_normal(click_n) * np.linspace(1, 0, click_n)
    return out


def footsteps(rng: np.random.Generator, material: Material, timbre: Timbre, running: bool = False) -> np.ndarray:
    """Steps at a steady pace: each a heel and a toe contact on the surface, with a gritty texture on soft ground."""
    surface = material if material in (Material.WOOD, Material.STONE, Material.EARTH) else Material.EARTH
    modes = MATERIALS[surface]
    interval = rng.uniform(0.28, 0.34) if running else rng.uniform(0.5, 0.6)
    count = int(3.6 / interval)
    soft = Timbre(**{**timbre.model_dump(), "decay": timbre.decay * 0.6})
    out = np.zeros(seconds(interval * count + 0.6))
    f0 = rng.uniform(*modes.f0_range) * timbre.pitch
    for k in range(count):
        start = seconds(0.15 + (k + rng.uniform(-0.015, 0.015)) * interval)
        heel = strike(rng, modes, soft, f0 * rng.uniform(0.95, 1.05), rng.uniform(0.85, 1.0))
        toe = strike(rng, modes, soft, f0 * rng.uniform(1.05, 1.2), rng.uniform(0.35, 0.55))
        add_at(out, start, heel)
        add_at(out, start + seconds(rng.uniform(0.05, 0.08)), toe)
        if surface == Material.EARTH:
            grit_n = seconds(0.12)
            grains = (rng.random(grit_n) < 0.02) * rng.standard_normal(grit_n)
            grit = bandpass(grains, 1500, 9000) * np.exp(-np.linspace(0, 5, grit_n)) * (1 + timbre.roughness)
            add_at(out, start, 2.5 * grit)
    return lowpass(out, 9000 + 5000 * timbre.brightness)


def click(rng: np.random.Generator, timbre: Timbre, force: float = 1.0) -> np.ndarray:
    """A switch, key or mechanism snapping: a sub-millisecond noise snap and two small, stiff modes that die
    within a few tens of milliseconds."""
    n = seconds(0.06)
    t = time_axis(n)
    out = np.zeros(n)
    for _ in range(2):
        freq = rng.uniform(1800, 4500) * timbre.pitch
        out += rng.uniform(0.4, 1.0) * np.exp(-t / rng.uniform(0.003, 0.008)) * np.sin(2 * np.pi * freq * t)
    snap_n = seconds(rng.uniform(0.0005, 0.0015))
    snap = bandpass(rng.standard_normal(snap_n), 1500, 12000)
    out[:snap_n] += 1.5 * snap / (np.max(np.abs(snap)) + 1e-9)
    return force * out / (np.max(np.abs(out)) + 1e-9)


def clicks(rng: np.random.Generator, timbre: Timbre, repeated: bool, steady: bool) -> np.ndarray:
    """Typing is bursts of uneven presses; a clock or a signal ticks evenly; a single button clicks down and up."""
    if steady:
        interval = rng.uniform(0.45, 1.0)
        times = [0.05 + k * interval for k in range(int(3.2 / interval) + 1)]
    elif repeated:
        times, now = [], 0.05
        while now < 3.0:
            times.append(now)
            now += rng.uniform(0.3, 0.7) if rng.random() < 0.12 else rng.uniform(0.08, 0.2)
    else:
        times = [0.05, 0.05 + rng.uniform(0.12, 0.25)]
    out = np.zeros(seconds(times[-1] + 0.2))
    for k, start in enumerate(times):
        force = rng.uniform(0.6, 1.0) if not (k % 2 and not repeated) else rng.uniform(0.35, 0.55)
        add_at(out, seconds(start), click(rng, timbre, force))
    return out
