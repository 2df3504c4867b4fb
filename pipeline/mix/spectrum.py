"""Long-term spectral balance: octave-band levels of a mix against a target tilt.

Well-balanced music falls by about 4.5 dB per octave in octave-band power across 63 Hz - 8 kHz. The master measures
a mix's bands against that line (shifted to the bands' mean, i.e. at equal loudness) and corrects what strays.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import welch

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
