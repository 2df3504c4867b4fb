"""Levels of audio in consecutive frames, for builders that follow how a sound rises and falls."""

from __future__ import annotations

import numpy as np


def frame_levels_db(audio: np.ndarray, sample_rate: int, frame_s: float) -> np.ndarray:
    """Mean power (dB, floor -120 dB) of each whole ``frame_s`` frame of mono ``audio``; what is left after the last
    whole frame does not count (audio shorter than a frame is padded with silence to one)."""
    hop = max(1, int(frame_s * sample_rate))
    n = max(1, len(audio) // hop)
    frames = np.pad(audio, (0, max(0, n * hop - len(audio))))[: n * hop].reshape(n, hop)
    return 10.0 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
