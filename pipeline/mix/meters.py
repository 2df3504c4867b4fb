"""Loudness (ITU-R BS.1770-4) and true peak (4x oversampling) of stereo or mono audio.

Both meters follow their references value for value, only faster: loudness uses pyloudnorm's K-weighting
filters and gating rules with the per-block loop vectorised (pyloudnorm filters twice per channel and sums 2000
blocks a song in Python); the true peak uses the very filter that ``scipy.signal.resample_poly(x, 4, 1)`` designs,
in a compiled loop that keeps only the running maximum instead of the 4x longer oversampled signal.
The K-weighted signal is linear in the audio, so callers that mix weighted stems (see
:func:`loudness_of_weighted`) measure a sum of stems without filtering it again.
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np
import pyloudnorm
from scipy.signal import firwin, sosfilt

# Below BS.1770's absolute gate everything counts as silence; reported values never go lower than these floors.
SILENCE_LUFS = -70.0
SILENCE_DBTP = -120.0
MIN_MEASURE_S = 0.4  # one BS.1770 gating block
BLOCK_S = 0.4
BLOCK_STEP = 0.25  # 75 % overlap
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)  # L, R, C, Ls, Rs
OVERSAMPLING = 4
HALF_TAPS = 10 * OVERSAMPLING  # resample_poly's filter half-length for 4x
PEAK_BLOCK = 4096


@lru_cache(maxsize=8)
def _k_weighting(sample_rate: int) -> np.ndarray:
    """pyloudnorm's two K-weighting stages (high shelf, then high pass) as second-order sections."""
    stages = pyloudnorm.Meter(sample_rate)._filters.values()
    return np.array([np.concatenate([stage.b, stage.a]) for stage in stages], dtype=np.float64)


def _as_frames(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio)
    return audio[:, None] if audio.ndim == 1 else audio


def _padded(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    short = int(MIN_MEASURE_S * sample_rate) + 1 - len(audio)
    return np.concatenate([audio, np.zeros((short,) + audio.shape[1:], audio.dtype)]) if short > 0 else audio


def k_weighted(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The BS.1770 K-weighted signal, ``(n, channels)`` float64. Clips shorter than 400 ms are padded."""
    audio = _padded(_as_frames(audio), sample_rate)
    if audio.size == 0:
        return np.zeros((0,) + audio.shape[1:])
    return sosfilt(_k_weighting(sample_rate), audio.astype(np.float64, copy=False), axis=0)


def loudness_of_weighted(weighted: np.ndarray, sample_rate: int) -> float:
    """Gated integrated loudness (LUFS) of an already K-weighted signal; ``SILENCE_LUFS`` for silence."""
    weighted = _as_frames(weighted)
    frames, channels = weighted.shape
    if frames == 0:
        return SILENCE_LUFS
    block = BLOCK_S * sample_rate
    count = int(np.round((frames / sample_rate - BLOCK_S) / (BLOCK_S * BLOCK_STEP))) + 1
    if count < 1:
        return SILENCE_LUFS
    j = np.arange(count)
    # Block bounds computed with the same float expressions as pyloudnorm, so both cut at the same samples.
    lower = (BLOCK_S * (j * BLOCK_STEP) * sample_rate).astype(np.int64)
    upper = np.minimum((BLOCK_S * (j * BLOCK_STEP + 1) * sample_rate).astype(np.int64), frames)
    # The gates and the mean act on the channel-weighted sum of block powers, so weight the channels first.
    weights = np.array(CHANNEL_WEIGHTS[:channels], dtype=np.float64)
    weighted_square = np.square(weighted, dtype=np.float64) @ weights
    # Sum between every block edge once, then add up those pieces per block (blocks overlap by 75 %).
    edges, where = np.unique(np.concatenate([lower, upper]), return_inverse=True)
    pieces = np.add.reduceat(weighted_square[: edges[-1]], edges[:-1]) if len(edges) > 1 else np.zeros(0)
    running = np.concatenate([[0.0], np.cumsum(pieces)])
    power = (running[where[count:]] - running[where[:count]]) / block
    with np.errstate(divide="ignore"):
        block_loudness = -0.691 + 10.0 * np.log10(power)
        above_absolute = block_loudness >= -70.0
        if not above_absolute.any():
            return SILENCE_LUFS
        relative_gate = -0.691 + 10.0 * np.log10(power[above_absolute].mean()) - 10.0
        gated = (block_loudness > relative_gate) & (block_loudness > -70.0)
        if not gated.any():
            return SILENCE_LUFS
        loudness = -0.691 + 10.0 * np.log10(power[gated].mean())
    return float(loudness) if np.isfinite(loudness) and loudness > SILENCE_LUFS else SILENCE_LUFS


def integrated_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness in LUFS; ``SILENCE_LUFS`` for silence. Clips shorter than 400 ms are padded."""
    audio = np.asarray(audio)
    if audio.size == 0:
        return SILENCE_LUFS
    return loudness_of_weighted(k_weighted(audio, sample_rate), sample_rate)


@lru_cache(maxsize=1)
def _oversampling_phases() -> np.ndarray:
    """resample_poly's 4x interpolation filter split into its four phases, ``(4, taps)`` float32, zero-padded."""
    taps = firwin(2 * HALF_TAPS + 1, 1.0 / OVERSAMPLING, window=("kaiser", 5.0)).astype(np.float32)
    taps *= np.float32(OVERSAMPLING)
    per_phase = len(taps) // OVERSAMPLING + 1
    phases = np.zeros((OVERSAMPLING, per_phase), np.float32)
    for phase in range(OVERSAMPLING):
        own = taps[phase::OVERSAMPLING]
        phases[phase, : len(own)] = own
    return phases


@numba.njit(cache=True, nogil=True, fastmath=True)
def _oversampled_peak(padded: np.ndarray, frames: int, phases: np.ndarray, block: int) -> float:
    """Largest magnitude of the 4x oversampled channel. ``padded`` holds it with ``taps`` zeros on each side.

    Output ``4q + p`` of the oversampled signal is ``sum_t phases[p, t] * x[q - 10 - t]``, for q in 10..frames+9
    (resample_poly's alignment), computed a block of q at a time so the inner loop is a plain multiply-add.
    """
    taps = phases.shape[1]
    acc = np.zeros(block, np.float32)
    peak = np.float32(0.0)
    first_q = HALF_TAPS // OVERSAMPLING
    for q0 in range(first_q, frames + first_q, block):
        size = min(block, frames + first_q - q0)
        for p in range(OVERSAMPLING):
            acc[:size] = 0.0
            for t in range(taps):
                weight = phases[p, t]
                source = padded[q0 - t + taps : q0 - t + taps + size]  # x[q0 - t], ...
                for b in range(size):
                    acc[b] += weight * source[b]
            for b in range(size):
                peak = max(peak, abs(acc[b]))
    return float(peak)


def true_peak_dbtp(audio: np.ndarray, sample_rate: int) -> float:
    """Highest peak between samples, in dBTP, found by 4x polyphase oversampling (as BS.1770-4 describes)."""
    audio = _as_frames(np.asarray(audio, dtype=np.float32))
    if audio.size == 0:
        return SILENCE_DBTP
    phases = _oversampling_phases()
    taps = phases.shape[1]
    peak = float(np.abs(audio).max())
    for channel in range(audio.shape[1]):
        padded = np.zeros(len(audio) + 2 * taps, np.float32)
        padded[taps : taps + len(audio)] = audio[:, channel]
        peak = max(peak, _oversampled_peak(padded, len(audio), phases, PEAK_BLOCK))
    return max(20.0 * np.log10(peak), SILENCE_DBTP) if peak > 0 else SILENCE_DBTP
