"""Amplitude shaping of one voice: the ADSR envelope, SFZ velocity tracking and the constant-power pan law."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.types import Envelope

# A release or decay curve falls exponentially to this level and is then pulled to exactly zero, so tails end
# without a step (a purely exponential curve never reaches zero, a linear one sounds abrupt).
CURVE_FLOOR = 1e-3  # -60 dB
# Shorter releases click when a note stops mid-cycle.
MIN_RELEASE_S = 0.005


def falling_curve(frames: int) -> np.ndarray:
    """``frames`` values falling from 1 to 0: exponential, normalised to end at zero."""
    if frames <= 0:
        return np.zeros(0, np.float32)
    u = np.arange(frames, dtype=np.float64) / frames
    curve = (np.exp(u * np.log(CURVE_FLOOR)) - CURVE_FLOOR) / (1.0 - CURVE_FLOOR)
    return curve.astype(np.float32)


@dataclass
class EnvelopeCurves:
    """An :class:`Envelope` sampled at one rate.

    ``attack_decay`` runs from note-on until the sustain level is reached; ``release`` is the shape of the release
    stage scaled to start at 1, multiplied by whatever level the envelope had when the release began.
    """

    attack_decay: np.ndarray
    sustain_level: float
    release: np.ndarray
    _held: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32), repr=False)

    @property
    def release_frames(self) -> int:
        return len(self.release)

    def held(self, frames: int) -> np.ndarray:
        """The level for the first ``frames`` frames of a held note (a read-only view; do not modify)."""
        if frames > len(self._held):
            size = max(frames, 2 * len(self._held), len(self.attack_decay))
            sustain = np.full(size - len(self.attack_decay), self.sustain_level, np.float32)
            self._held = np.concatenate([self.attack_decay, sustain])
            self._held.flags.writeable = False
        return self._held[:frames]

    def level_at(self, frame: int) -> float:
        return float(self.attack_decay[frame]) if frame < len(self.attack_decay) else self.sustain_level


def envelope_curves(envelope: Envelope, sample_rate: int) -> EnvelopeCurves:
    attack = int(round(envelope.attack_s * sample_rate))
    decay = int(round(envelope.decay_s * sample_rate))
    release = max(int(round(envelope.release_s * sample_rate)), int(MIN_RELEASE_S * sample_rate))
    sustain = float(envelope.sustain_level)
    rise = np.arange(1, attack + 1, dtype=np.float32) / attack if attack else np.zeros(0, np.float32)
    fall = sustain + (1.0 - sustain) * falling_curve(decay)
    attack_decay = np.concatenate([rise, fall.astype(np.float32)])
    return EnvelopeCurves(attack_decay, sustain, falling_curve(release))


def velocity_gain(velocity: np.ndarray | int, amp_veltrack: float) -> np.ndarray:
    """SFZ ``amp_veltrack``: 100 % gives the concave curve (vel/127)^2, 0 % ignores velocity, in between mixes."""
    track = amp_veltrack / 100.0
    v = np.asarray(velocity, dtype=np.float64) / 127.0
    return (1.0 - track) + track * v * v


def pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power pan: -1 hard left, 0 centre (both channels -3 dB), +1 hard right."""
    theta = (float(np.clip(pan, -1.0, 1.0)) + 1.0) * np.pi / 4.0
    return float(np.cos(theta)), float(np.sin(theta))
