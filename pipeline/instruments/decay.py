"""How a note's level may move once it has peaked: it fades, never swells back, and stops fading at a held level.

A held note goes on with the effect's texture (:mod:`pipeline.instruments.texture`) and its ringing partials. A
texture that swings (a crackle, a sound with most of its energy below the note) could make the note swell back
after it has decayed, which a listener hears as a second, unplayed note: :func:`no_rise_after` keeps the level (RMS
in 20 ms frames) within a few dB of the quietest it has been since the effect's end. A struck sound dies away
faster than a note is held: :func:`hold_above` stops its fall at a held level, as a string's slow second decay
follows its fast first one, so the note is still heard at its end (the amplitude envelope then sets how fast it
fades).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

FRAME_S = 0.02
SMOOTH_FRAMES = 3  # the gain moves over about 60 ms, so limiting a swing does not itself click
MAX_RAISE_DB = 40.0  # a held level is never made of what was next to silence


def _frame_levels_db(audio: np.ndarray, start: int, hop: int) -> np.ndarray:
    frames = (len(audio) - start) // hop
    framed = audio[start : start + frames * hop].astype(np.float64).reshape(frames, hop)
    return 10 * np.log10(np.mean(framed**2, axis=1) + 1e-20)


def _apply_gain_db(audio: np.ndarray, start: int, hop: int, gain_db: np.ndarray) -> np.ndarray:
    smoothed = uniform_filter1d(gain_db, SMOOTH_FRAMES, mode="nearest")
    centres = start + (np.arange(len(gain_db)) + 0.5) * hop
    gain = 10 ** (np.interp(np.arange(start, len(audio)), centres, smoothed) / 20)
    out = audio.copy()
    out[start:] *= gain.astype(audio.dtype)
    return out


def no_rise_after(audio: np.ndarray, sample_rate: int, start: int, rise_db: float = 3.0) -> np.ndarray:
    """``audio`` with every swell after sample ``start`` turned down to ``rise_db`` above the running minimum."""
    hop = max(1, int(FRAME_S * sample_rate))
    start = max(0, min(int(start), len(audio)))
    if (len(audio) - start) // hop < 2:
        return audio
    level_db = _frame_levels_db(audio, start, hop)
    allowed_db = np.minimum.accumulate(level_db) + rise_db
    return _apply_gain_db(audio, start, hop, np.minimum(0.0, allowed_db - level_db))


def hold_above(audio: np.ndarray, sample_rate: int, held_db: float) -> np.ndarray:
    """``audio`` whose fall after its loudest 20 ms stops ``held_db`` below it (a raise that only ever grows)."""
    hop = max(1, int(FRAME_S * sample_rate))
    if len(audio) // hop < 2:
        return audio
    level_db = _frame_levels_db(audio, 0, hop)
    peak = int(np.argmax(level_db))
    lowest_since_peak = np.minimum.accumulate(level_db[peak:])
    raise_db = np.zeros_like(level_db)
    raise_db[peak:] = np.clip(level_db[peak] + held_db - lowest_since_peak, 0.0, MAX_RAISE_DB)
    return _apply_gain_db(audio, 0, hop, raise_db)
