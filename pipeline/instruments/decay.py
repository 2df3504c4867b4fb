"""How a note's level may move once it has peaked: it fades, never swells back, and stops fading at a held level.

A held note goes on with the effect's texture (:mod:`pipeline.instruments.texture`) and its ringing partials. A
texture that swings (a crackle, a sound with most of its energy below the note) could make the note swell back
after it has decayed, which a listener hears as a second, unplayed note: from the effect's end on, the level (RMS
in 20 ms frames) stays within a few dB of the quietest it has been since. A struck sound dies away faster than a
note is held: its fall stops at a held level, as a string's slow second decay follows its fast first one, so the
note is still heard at its end (the amplitude envelope then sets how fast it fades). The gain is measured on one
velocity layer and applied to every layer of the note, so they keep their balance.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from pipeline.dsp.levels import frame_levels_db

FRAME_S = 0.02
SMOOTH_FRAMES = 3  # the gain moves over about 60 ms, so limiting a swing does not itself click
RISE_DB = 3.0  # how far the continuation may come back up over the quietest it has been
MAX_RAISE_DB = 40.0  # a held level is never made of what was next to silence


def held_note_gain_db(audio: np.ndarray, sample_rate: int, effect_end: int, held_db: float) -> np.ndarray:
    """Per 20 ms frame of ``audio``, the gain (dB) that stops swells after ``effect_end`` and holds the level
    within ``held_db`` of the peak."""
    hop = max(1, int(FRAME_S * sample_rate))
    frames = len(audio) // hop
    if frames < 2:
        return np.zeros(max(frames, 0))
    level_db = frame_levels_db(audio, sample_rate, FRAME_S)
    first = min(frames, -(-max(0, int(effect_end)) // hop))  # the first whole frame after the effect
    cut_db = np.zeros(frames)
    allowed_db = np.minimum.accumulate(level_db[first:]) + RISE_DB
    cut_db[first:] = np.minimum(0.0, allowed_db - level_db[first:])
    level_db += cut_db
    peak = int(np.argmax(level_db))
    raise_db = np.zeros(frames)
    raise_db[peak:] = np.clip(level_db[peak] + held_db - np.minimum.accumulate(level_db[peak:]), 0.0, MAX_RAISE_DB)
    gain_db = uniform_filter1d(cut_db + raise_db, SMOOTH_FRAMES, mode="nearest")
    gain_db[:first] = np.maximum(gain_db[:first], 0.0)  # the effect keeps its own swells
    return gain_db


def apply_gain_db(audio: np.ndarray, sample_rate: int, gain_db: np.ndarray) -> np.ndarray:
    """``audio`` times the per-frame gain of :func:`held_note_gain_db`, interpolated between frame centres."""
    moving = np.flatnonzero(np.abs(gain_db) > 0.01)
    if not len(moving):
        return audio
    hop = max(1, int(FRAME_S * sample_rate))
    first = max(0, int(moving[0]) - 1) * hop  # most notes change only late in the sample, if at all
    centres = (np.arange(len(gain_db)) + 0.5) * hop
    out = audio.copy()
    out[first:] *= np.interp(np.arange(first, len(audio)), centres, 10 ** (gain_db / 20)).astype(audio.dtype)
    return out
