"""Multisample layout: zones over a key range, velocity layers, seamless loops, even levels."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

ZONE_SPACING = 3  # semitones between root keys; each zone plays its root +-1, so no sample is stretched further
EDGE_EXTENSION = 12  # the outer zones also answer this many keys beyond the session's range
LOOP_CROSSFADE_S = 0.02
TARGET_RMS_DB = -12.0  # hot enough that other SoundFont players sound it like a General MIDI bank
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
    """A loop ``[start, end)`` starting on a rising zero crossing, a whole number of periods of ``f0`` long.

    ``start`` is a rising zero crossing at or after ``earliest`` (the first one that has candidate ends). Every
    rising crossing within a twentieth of a period of a whole number of periods after ``start``, between
    ``min_length`` and twice that, is a candidate end; the one whose following stretch best matches the stretch
    after ``start`` wins (least squared difference over two periods). Where no crossing qualifies, the ends are
    exact whole numbers of periods (rounded to a sample). ``end`` is exclusive: the sample played after
    ``end - 1`` is ``start``.
    """
    period = sample_rate / f0
    window = max(8, int(2 * period))
    crossings = _rising_zero_crossings(audio, earliest, earliest + int(4 * period) + 2)
    later = _rising_zero_crossings(audio, earliest + int(4 * period) + 2, earliest + int(40 * period) + 2)
    # A waveform may cross zero upwards more than once per period; try each crossing of the first periods as start.
    # Ends on a rising crossing within 1/20 of a period of a whole number of periods are preferred; a sound whose
    # crossings drift (its own texture over the note) ends exactly a whole number of periods after the start instead.
    starts = [int(c) for c in crossings] or [earliest]
    for start in [*starts, *(int(c) for c in later[:32])]:
        ends = _rising_zero_crossings(audio, start + min_length, start + 2 * min_length + int(period) + 2)
        offset_in_periods = (ends - start) / period
        ends = ends[np.abs(offset_in_periods - np.round(offset_in_periods)) <= 0.05]
        ends = ends[ends + window <= len(audio)]
        if start + window <= len(audio) and len(ends):
            return start, _best_end(audio, start, ends, window)
    start = starts[0]
    counts = np.arange(int(np.ceil(min_length / period)), int(2 * min_length / period) + 1)
    ends = start + np.round(counts * period).astype(int)
    ends = ends[ends + window <= len(audio)]
    if start + window <= len(audio) and len(ends):
        return start, _best_end(audio, start, ends, window)
    raise ValueError("the sample is too short for a loop of that length")


def _best_end(audio: np.ndarray, start: int, ends: np.ndarray, window: int) -> int:
    """The end whose following stretch best matches the stretch after ``start`` (least squared difference)."""
    reference = audio[start : start + window]
    stretches = audio[ends[:, None] + np.arange(window)[None, :]]
    return int(ends[int(np.argmin(np.sum((stretches - reference[None, :]) ** 2, axis=1)))])


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


def loop_at_steady_level(
    audio: np.ndarray,
    sample_rate: int,
    f0: float,
    *,
    earliest: int,
    min_length: int,
    tail: int,
    crossfade_s: float = 0.05,
) -> tuple[np.ndarray, tuple[int, int]]:
    """Cut ``audio`` to a loop ``[start, end)`` of whole periods of ``f0`` plus a ``tail`` that fades out.

    ``audio`` must run at least ``2 * min_length`` plus two periods past ``earliest``.

    A ringing sound still decays inside its loop, which would make every pass jump back up; the level is first
    evened out over the loop (a gain that rises in dB at the rate the sound falls, held after the loop), then the
    loop's end is crossfaded into what precedes its start (:func:`crossfade_loop`).
    """
    start, end = find_loop(audio, sample_rate, f0, earliest, min_length)
    span = end - start
    quarter = max(1, span // 4)
    level_start = float(np.sqrt(np.mean(audio[start : start + quarter] ** 2))) + 1e-12
    level_end = float(np.sqrt(np.mean(audio[end - quarter : end] ** 2))) + 1e-12
    slope = np.log(level_start / level_end) / max(1, span - quarter)  # nepers per frame
    fade = min(int(crossfade_s * sample_rate), start)
    ramp_from = start - fade
    kept = min(len(audio), end + tail)
    gain = np.empty(kept, np.float32)
    gain[:ramp_from] = 1.0
    gain[ramp_from:end] = np.exp(slope * np.arange(end - ramp_from)).astype(np.float32)
    gain[end:] = np.float32(np.exp(slope * (end - ramp_from)))
    steady = crossfade_loop(audio[:kept] * gain, start, end, crossfade_s, sample_rate)
    tail = len(steady) - end
    steady[end:] *= np.linspace(1.0, 0.0, tail, dtype=np.float32)
    return steady.astype(np.float32, copy=False), (start, end)
