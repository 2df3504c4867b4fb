"""Long-term spectral balance: octave-band levels of a mix against a target tilt.

Well-balanced music falls by about 4.5 dB per octave in octave-band power across 63 Hz - 8 kHz. The master measures
a mix's bands against that line (shifted to the bands' mean, i.e. at equal loudness) and corrects what strays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import welch

from pipeline.mix import filters

OCTAVE_CENTRES_HZ: tuple[float, ...] = (63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)
TILT_DB_PER_OCTAVE = -4.5
WELCH_SEGMENT = 8192
MAX_ANALYSED_S = 60.0  # longer mixes are measured on stretches spread over the song
ANALYSED_STRETCHES = 6


def power_spectrum(audio: np.ndarray, sample_rate: int, max_seconds: float | None = MAX_ANALYSED_S
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Long-term power spectrum (channels summed) of channel-first ``(channels, n)`` audio: (freqs, power).

    Audio longer than ``max_seconds`` is measured on evenly spread stretches that add up to it (None: all of it).
    """
    audio = np.asarray(audio, np.float32)
    if audio.ndim == 1:
        audio = audio[None, :]
    limit = int(max_seconds * sample_rate) if max_seconds else audio.shape[1]
    if audio.shape[1] > limit:
        stretch = limit // ANALYSED_STRETCHES
        starts = np.linspace(0, audio.shape[1] - stretch, ANALYSED_STRETCHES).astype(int)
        audio = np.concatenate([audio[:, start : start + stretch] for start in starts], axis=1)
    freqs, psd = welch(audio, sample_rate, nperseg=WELCH_SEGMENT, noverlap=0, detrend=False, axis=-1)
    return freqs, psd.sum(axis=0)


def band_levels(freqs: np.ndarray, power: np.ndarray) -> np.ndarray:
    """Power per octave band in dB."""
    return np.array([10 * np.log10(power[(freqs >= c / np.sqrt(2)) & (freqs < c * np.sqrt(2))].sum() + 1e-20)
                     for c in OCTAVE_CENTRES_HZ])


def octave_band_levels(audio: np.ndarray, sample_rate: int, max_seconds: float | None = MAX_ANALYSED_S) -> np.ndarray:
    """Power per octave band (dB, channels summed) of channel-first ``(channels, n)`` audio."""
    return band_levels(*power_spectrum(audio, sample_rate, max_seconds))


def tilt_deviation(levels: np.ndarray, tilt_db_per_octave: float = TILT_DB_PER_OCTAVE) -> np.ndarray:
    """Each band's distance (dB) from a line of the given tilt through the bands' mean."""
    line = tilt_db_per_octave * np.log2(np.array(OCTAVE_CENTRES_HZ) / 1000.0)
    deviation = np.asarray(levels) - line
    return deviation - deviation.mean()


def band_filters(gains_db: np.ndarray, sample_rate: int) -> np.ndarray:
    """Shelves at the ends and octave-wide peaks between, one per band whose gain is worth a filter."""
    sections = []
    last = len(OCTAVE_CENTRES_HZ) - 1
    for index, (centre, gain) in enumerate(zip(OCTAVE_CENTRES_HZ, gains_db)):
        if abs(gain) < 0.25:
            continue
        if index == 0:
            sections.append(filters.low_shelf(sample_rate, centre * 1.4, float(gain), 0.7))
        elif index == last:
            sections.append(filters.high_shelf(sample_rate, centre / 1.4, float(gain), 0.7))
        else:
            sections.append(filters.peak(sample_rate, centre, float(gain), 1.4))
    return filters.chain(*sections)


def fit_band_gains(freqs: np.ndarray, power: np.ndarray, sample_rate: int, error: Callable[[np.ndarray], np.ndarray],
                   max_cut_db: np.ndarray | float, max_boost_db: np.ndarray | float, deadzone_db: float = 1.0,
                   passes: int = 4) -> np.ndarray:
    """Per-band gains (dB) for :func:`band_filters` that pull ``error(band levels)`` towards zero, band by band.

    The gains are refined on the measured spectrum through the filters' own response (their bands overlap), so
    the audio is filtered once, with the result.
    """
    total = np.zeros(len(OCTAVE_CENTRES_HZ))
    shaped = power
    for _ in range(passes):
        deviation = error(band_levels(freqs, shaped))
        correction = -np.sign(deviation) * np.clip(np.abs(deviation) - deadzone_db, 0.0, None)
        correction = np.clip(total + correction, -np.asarray(max_cut_db), max_boost_db) - total
        if np.abs(correction).max() < 0.5:
            break
        total += correction
        shaped = power * filters.power_response(band_filters(total, sample_rate), sample_rate, freqs)
    return total
