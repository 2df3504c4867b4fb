"""The shared Butterworth filters."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.dsp.filters import bandpass, highpass, lowpass

SR = 44100


def tone(hz: float, dtype: type = np.float32) -> np.ndarray:
    return np.sin(2 * np.pi * hz * np.arange(SR) / SR).astype(dtype)


def level_db(audio: np.ndarray) -> float:
    steady = audio[SR // 4 :]  # past the filter's start-up
    return 20 * np.log10(np.sqrt(np.mean(steady.astype(np.float64) ** 2)) / np.sqrt(0.5))


def test_each_filter_passes_its_band_and_cuts_the_rest() -> None:
    assert level_db(highpass(tone(8000), 1000, SR)) > -0.5 > -40 > level_db(highpass(tone(100), 1000, SR))
    assert level_db(lowpass(tone(100), 1000, SR)) > -0.5 > -40 > level_db(lowpass(tone(8000), 1000, SR))
    passed, below, above = (level_db(bandpass(tone(hz), 500, 2000, SR, order=4)) for hz in (1000, 60, 16000))
    assert passed > -1.0 and below < -30 and above < -30


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_keeps_the_input_precision(dtype: type) -> None:
    assert lowpass(tone(440, dtype), 1000, SR).dtype == dtype


def test_cutoffs_beyond_nyquist_are_clamped_not_refused() -> None:
    out = highpass(tone(440), 30000, 22050)
    assert np.all(np.isfinite(out))
    assert np.all(np.isfinite(bandpass(tone(440), 1, 50000, SR)))
