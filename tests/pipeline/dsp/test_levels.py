"""Frame levels: whole frames only, silence at the floor, a sound shorter than a frame still measured."""

from __future__ import annotations

import numpy as np

from pipeline.dsp.levels import frame_levels_db

SR = 1000


def test_each_whole_frame_has_its_mean_power_in_db() -> None:
    audio = np.concatenate([np.full(10, 1.0), np.full(10, 0.1), np.zeros(10), np.full(5, 1.0)]).astype(np.float32)
    levels = frame_levels_db(audio, SR, 0.01)
    assert len(levels) == 3  # the 5 samples after the last whole frame do not count
    assert np.allclose(levels, [0.0, -20.0, -120.0], atol=1e-6)


def test_a_sound_shorter_than_a_frame_is_one_padded_frame() -> None:
    assert np.allclose(frame_levels_db(np.ones(5, np.float32), SR, 0.01), [10 * np.log10(0.5)], atol=1e-6)
