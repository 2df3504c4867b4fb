"""Multisample layout: zones over a key range, velocity layers, seamless loops, even levels."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

ZONE_SPACING = 3  # semitones between root keys; each zone plays its root +-1, so no sample is stretched further
EDGE_EXTENSION = 12  # the outer zones also answer this many keys beyond the session's range
LOOP_CROSSFADE_S = 0.02
TARGET_RMS_DB = -20.0
PEAK_CEILING_DB = -1.0


class VelocityLayer(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    lovel: int = Field(ge=1, le=127)
    hivel: int = Field(ge=1, le=127)
    soft: bool  # darker tone (lower velocities)


VELOCITY_LAYERS: tuple[VelocityLayer, ...] = (
    VelocityLayer(name="soft", lovel=1, hivel=84, soft=True),
    VelocityLayer(name="hard", lovel=85, hivel=127, soft=False),
)


class KeySpan(BaseModel):
    """One zone's root and the keys it answers."""

    model_config = ConfigDict(frozen=True)

    root: int = Field(ge=0, le=127)
    lokey: int = Field(ge=0, le=127)
    hikey: int = Field(ge=0, le=127)


def key_spans(low: int, high: int, spacing: int = ZONE_SPACING, extension: int = EDGE_EXTENSION) -> list[KeySpan]:
    """Roots every ``spacing`` semitones over ``low..high`` with contiguous, non-overlapping key ranges.

    Each root sits in the middle of its keys, so a sample is never played more than ``spacing // 2 + 1``
    semitones away from where it was made (inside the range). The outer zones stretch ``extension`` keys further
    so a part that wanders a little outside the range still sounds.
    """
    if high < low:
        raise ValueError(f"empty key range {low}..{high}")
    below = spacing // 2
    roots = list(range(low + below, high + 1, spacing))
    if not roots or roots[-1] + (spacing - below - 1) < high:
        roots.append(min(high, (roots[-1] + spacing) if roots else low))
    spans = []
    for index, root in enumerate(roots):
        lokey = low - extension if index == 0 else spans[-1].hikey + 1
        hikey = high + extension if index == len(roots) - 1 else root + (spacing - below - 1)
        spans.append(KeySpan(root=root, lokey=max(0, lokey), hikey=min(127, hikey)))
    return spans


def midi_to_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def _rising_zero_crossings(audio: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Indices i in [start, stop) where audio[i - 1] < 0 <= audio[i]."""
    start = max(1, start)
    stop = min(len(audio), stop)
    if stop <= start:
        return np.empty(0, dtype=int)
    segment = audio[start - 1 : stop]
    return np.flatnonzero((segment[:-1] < 0) & (segment[1:] >= 0)) + start


def find_loop(audio: np.ndarray, sample_rate: int, f0: float, earliest: int, min_length: int) -> tuple[int, int]:
    """A loop ``[start, end)`` on rising zero crossings, a whole number of periods of ``f0`` long.

    ``start`` is the first rising zero crossing at or after ``earliest``. Every rising crossing within a quarter
    period of a whole number of periods after ``start``, between ``min_length`` and twice that, is a candidate
    end; the one whose following stretch best matches the stretch after ``start`` wins (least squared difference
    over two periods). ``end`` is exclusive: the sample played after ``end - 1`` is ``start``.
    """
    period = sample_rate / f0
    window = max(8, int(2 * period))
    crossings = _rising_zero_crossings(audio, earliest, earliest + int(4 * period) + 2)
    start = int(crossings[0]) if len(crossings) else earliest
    ends = _rising_zero_crossings(audio, start + min_length, start + 2 * min_length + int(period) + 2)
    offset_in_periods = (ends - start) / period
    ends = ends[np.abs(offset_in_periods - np.round(offset_in_periods)) <= 0.25]
    ends = ends[ends + window <= len(audio)]
    if start + window > len(audio) or not len(ends):
        raise ValueError("the sample is too short for a loop of that length")
    reference = audio[start : start + window]
    stretches = audio[ends[:, None] + np.arange(window)[None, :]]
    errors = np.sum((stretches - reference[None, :]) ** 2, axis=1)
    return start, int(ends[int(np.argmin(errors))])


def crossfade_loop(audio: np.ndarray, start: int, end: int, seconds: float, sample_rate: int) -> np.ndarray:
    """Blend the end of the loop into what precedes its start, so jumping from ``end - 1`` to ``start`` is seamless."""
    fade = min(int(seconds * sample_rate), start, end - start)
    out = audio.copy()
    if fade <= 0:
        return out
    ramp = np.linspace(0.0, 1.0, fade, endpoint=False, dtype=np.float32)
    out[end - fade : end] = audio[end - fade : end] * (1.0 - ramp) + audio[start - fade : start] * ramp
    return out


def zone_gains(samples: list[np.ndarray], sample_rate: int, window_s: float = 0.4) -> np.ndarray:
    """Gains that give every zone the same RMS over its first ``window_s``, then keep the loudest peak at -1 dBFS."""
    n = int(window_s * sample_rate)
    rms = np.array([float(np.sqrt(np.mean(s[:n].astype(np.float64) ** 2))) + 1e-12 for s in samples])
    gains = 10 ** (TARGET_RMS_DB / 20) / rms
    peaks = np.array([float(np.max(np.abs(s))) for s in samples]) * gains
    ceiling = 10 ** (PEAK_CEILING_DB / 20)
    return gains * min(1.0, ceiling / max(float(peaks.max()), 1e-12))
