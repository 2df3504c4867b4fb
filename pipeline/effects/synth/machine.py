"""Machines: a tonal part locked to what turns inside (a motor's rotation, an engine's firing, a fan's blades)
mixed with the broadband noise of air, bearings and tyres, each machine in its own register.

A machine's noise is modulated at its rotation rate, so the two parts sound like one mechanism.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.effects.synth.common import SAMPLE_RATE, bandpass, fade, seconds, slow_curve
from pipeline.effects.words import Timbre


@dataclass(frozen=True)
class MachineKind:
    rotation_hz: tuple[float, float] | None  # fundamental of the tonal part; None: locked to the mains
    harmonics: int
    noise_band: tuple[float, float]
    noise_share: float  # 0 = all tone, 1 = all noise (by RMS)
    modulation: float  # depth of the noise's modulation at the rotation rate
    swell_hz: float  # how often the overall level drifts (passing cars, load changes)
    swell_depth: float


KINDS: dict[str, MachineKind] = {
    # Tyre and wind roar of passing cars, engines faint underneath, levels swelling as each one passes.
    "traffic": MachineKind((28, 45), 8, (200, 3000), 0.6, 0.05, 0.35, 0.6),
    # Cylinders firing: a low, rough pulse with exhaust noise.
    "engine": MachineKind((24, 48), 24, (150, 3000), 0.45, 0.6, 0.25, 0.25),
    # Blade-pass tone over airy broadband noise.
    "fan": MachineKind((90, 180), 5, (300, 7000), 0.55, 0.15, 0.2, 0.1),
    # A small fast motor's whine with the rattle of its gears.
    "small_motor": MachineKind((220, 520), 16, (1500, 9000), 0.45, 0.35, 0.5, 0.2),
    # Mains-driven compressor: hum at twice the mains frequency, piston knock in the mechanical noise.
    "compressor": MachineKind(None, 12, (200, 2500), 0.45, 0.45, 0.15, 0.1),
}


def _unit_rms(x: np.ndarray) -> np.ndarray:
    return x / (float(np.sqrt(np.mean(x * x))) + 1e-12)


def machine(
    rng: np.random.Generator, kind: str, timbre: Timbre, mains_hz: float = 50.0, duration_s: float = 4.0
) -> np.ndarray:
    spec = KINDS.get(kind, KINDS["compressor"])
    n = seconds(duration_s)
    if spec.rotation_hz is None:  # an induction motor turns with the supply
        speed = np.full(n, mains_hz)
    else:
        # Pitch words move a machine within its register, not out of it.
        rotation = rng.uniform(*spec.rotation_hz) * float(np.sqrt(timbre.pitch))
        speed = rotation * slow_curve(rng, n, 0.4, 0.99, 1.01)
    rotation = float(speed[0])
    phase = 2 * np.pi * np.cumsum(speed) / SAMPLE_RATE
    tone = np.zeros(n)
    for k in range(1, spec.harmonics + 1):
        if rotation * k >= 0.45 * SAMPLE_RATE:
            break
        tone += rng.uniform(0.5, 1.0) / k**0.8 * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    low, high = spec.noise_band
    tilt = 1.0 + 0.3 * timbre.brightness
    noise = bandpass(rng.standard_normal(n), low * tilt, high * tilt)
    beat = 1.0 + spec.modulation * np.sin(phase + rng.uniform(0, 2 * np.pi))
    noise *= beat * (1.0 + 0.3 * timbre.roughness * rng.standard_normal(n).clip(-1, 1))
    share = float(np.clip(spec.noise_share + 0.1 * timbre.roughness, 0.1, 0.95))
    out = (1 - share) * _unit_rms(tone) + share * _unit_rms(noise)
    swell = 1.0 - spec.swell_depth * slow_curve(rng, n, spec.swell_hz, 0.0, 1.0)
    return out * swell * fade(n, 0.3, 0.4)
