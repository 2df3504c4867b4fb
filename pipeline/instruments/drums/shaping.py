"""Shaping one drum piece: tape-style pitching, decay envelopes, grains of the source and the final trim.

Each is a few lines of numpy/scipy and runs on short pieces, which keeps a kit for a 5 s effect well under 0.1 s
of work.
"""

from __future__ import annotations

import numpy as np

from pipeline.dsp.filters import lowpass
from pipeline.errors import WaveInputError


def repitch(audio: np.ndarray, semitones: float, sample_rate: int) -> np.ndarray:
    """Play ``audio`` faster (up) or slower (down) like a tape: pitch and length change together.

    Linear interpolation after an anti-alias low-pass when going up; exact enough for drums and far cheaper than
    a polyphase resampler with an arbitrary ratio.
    """
    if abs(semitones) < 1e-3 or len(audio) < 2:
        return audio.astype(np.float32, copy=False)
    rate = 2.0 ** (semitones / 12.0)
    if rate > 1.0:
        audio = lowpass(audio, 0.45 * sample_rate / rate, sample_rate, order=6)
    positions = np.arange(0.0, len(audio) - 1, rate)
    return np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)


def pitch_drop(audio: np.ndarray, start_rate: float, end_rate: float, time_constant_s: float, sample_rate: int,
               length_s: float) -> np.ndarray:
    """Tape-style playback whose speed falls from ``start_rate`` to ``end_rate``: the classic kick pitch sweep."""
    t = np.arange(int(length_s * sample_rate)) / sample_rate
    rate = end_rate + (start_rate - end_rate) * np.exp(-t / time_constant_s)
    positions = np.cumsum(rate)
    positions = positions[positions < len(audio) - 1]
    return np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)


def decay_envelope(n: int, time_constant_s: float, sample_rate: int, attack_s: float = 0.001) -> np.ndarray:
    t = np.arange(n) / sample_rate
    attack = np.clip(t / max(attack_s, 1e-6), 0.0, 1.0)
    return (attack * np.exp(-t / time_constant_s)).astype(np.float32)


GRAIN_S = 0.02  # grains short enough to smear the source's rhythm, long enough to keep its colour and grit
GRAIN_FLOOR_DB = -30.0  # grains start only where the source sounds, never in its silence


def own_grains(source: np.ndarray, seconds: float, time_constant_s: float, sample_rate: int,
               rng: np.random.Generator) -> np.ndarray:
    """A decaying body or tail woven from short grains of the source itself, taken at seeded random places with
    random signs: it rings on like noise but keeps the source's spectrum and grain (no synthetic noise)."""
    n = max(1, int(seconds * sample_rate))
    g = max(8, int(GRAIN_S * sample_rate))
    source = np.asarray(source, dtype=np.float32)
    if len(source) < g:
        source = np.pad(source, (0, g - len(source)))
    frames = np.abs(source[: len(source) - g + 1])
    peak = float(frames.max()) if frames.size else 0.0
    starts = np.flatnonzero(frames >= peak * 10 ** (GRAIN_FLOOR_DB / 20)) if peak > 0 else np.array([0])
    window = np.hanning(g).astype(np.float32)
    hop = g // 4
    out = np.zeros(n + g, np.float32)
    at = np.arange(0, n, hop)
    picks = rng.choice(starts, size=len(at))
    signs = rng.choice(np.array([-1.0, 1.0], np.float32), size=len(at))
    for position, start, sign in zip(at, picks, signs):
        out[position : position + g] += sign * window * source[start : start + g]
    return out[:n] * decay_envelope(n, time_constant_s, sample_rate)


def normalised(audio: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return (audio / peak).astype(np.float32) if peak > 0 else audio.astype(np.float32)


def fit(audio: np.ndarray, n: int) -> np.ndarray:
    return audio[:n] if len(audio) >= n else np.pad(audio, (0, n - len(audio)))


def finish(audio: np.ndarray, length_s: float, sample_rate: int, floor_db: float = -50.0) -> np.ndarray:
    """Trim to ``length_s`` and to where the sound falls under ``floor_db``, fade the tail, de-click, normalise."""
    audio = audio[: int(length_s * sample_rate)].astype(np.float32)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= 0:
        raise WaveInputError("A drum piece came out silent; the effect is too quiet to build a kit from.")
    loud = np.flatnonzero(np.abs(audio) >= peak * 10 ** (floor_db / 20))
    audio = audio[: int(loud[-1]) + 1]
    n = len(audio)
    fade_in = min(n // 4, int(0.0005 * sample_rate))
    fade_out = max(min(n // 2, int(0.01 * sample_rate)), int(0.3 * n))  # the last 30 % fades away, at least 10 ms
    if fade_in:
        audio[:fade_in] *= np.linspace(0.0, 1.0, fade_in, endpoint=False, dtype=np.float32)
    if fade_out:
        audio[n - fade_out :] *= np.linspace(1.0, 0.0, fade_out, dtype=np.float32) ** 2
    return (normalised(audio) * 10 ** (-1.0 / 20)).astype(np.float32)
