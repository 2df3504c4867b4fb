"""Moving a pitched effect onto a note's pitch class by resampling, as a sampler does."""

from __future__ import annotations

import numpy as np
import soxr


def folded_shift(root_hz: float, f0: float) -> float:
    """Semitones to move a sound pitched at ``root_hz`` onto a harmonic of ``f0``: the note's pitch class,
    within half an octave, so a far-away sound keeps its register and only the partials supply the octave."""
    semitones = 12.0 * np.log2(f0 / root_hz)
    return float(semitones - 12.0 * np.round(semitones / 12.0))


def pitch_to(audio: np.ndarray, semitones: float) -> np.ndarray:
    """``audio`` read faster or slower by ``semitones`` (resampling, as a sampler does; soxr's high quality)."""
    if abs(semitones) < 1e-3:
        return audio
    ratio = 2.0 ** (semitones / 12.0)
    return soxr.resample(audio, ratio, 1.0, quality="HQ").astype(np.float32)
