"""Loudness (ITU-R BS.1770-4) and true peak (4x oversampling) of stereo or mono audio.

Both meters follow their references value for value, only faster. Loudness uses pyloudnorm's K-weighting filters
and gating rules, with the filtering and the per-block sums done in one compiled pass that keeps no filtered copy
of the signal (pyloudnorm filters twice per channel into new arrays and sums 2000 blocks a song in Python). The true
peak uses the very filter that ``scipy.signal.resample_poly(x, 4, 1)`` designs, in a compiled loop that keeps only
the running maximum instead of the 4x longer oversampled signal, and skips the stretches that provably cannot hold
the highest peak.
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
# Float32 sums may land a few ulp above the exact bound; the skip test allows for that.
BOUND_ROUNDING = 1.0 + 1e-4


@lru_cache(maxsize=8)
def _k_weighting(sample_rate: int) -> np.ndarray:
    """pyloudnorm's two K-weighting stages (high shelf, then high pass) as second-order sections ``(2, 6)``."""
    stages = pyloudnorm.Meter(sample_rate)._filters.values()
    return np.array([np.concatenate([stage.b, stage.a / stage.a[0]]) for stage in stages], dtype=np.float64)


def window_levels_db(audio: np.ndarray, sample_rate: int, window_s: float = BLOCK_S) -> np.ndarray:
    """K-weighted level (dB, channels summed) of each whole window of channel-first ``(channels, n)`` audio."""
    # float32 is plenty for a level per window, and half the work of the float64 the integrated meter uses.
    weighted = sosfilt(_k_weighting(sample_rate).astype(np.float32), np.asarray(audio, np.float32), axis=-1)
    size = int(window_s * sample_rate)
    count = weighted.shape[-1] // size
    power = (weighted[:, : count * size] ** 2).reshape(len(weighted), count, size).mean(axis=2).sum(axis=0)
    return 10 * np.log10(power + 1e-12)


def _as_frames(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio)
    return audio[:, None] if audio.ndim == 1 else audio


def _padded(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    short = int(MIN_MEASURE_S * sample_rate) + 1 - len(audio)
    return np.concatenate([audio, np.zeros((short,) + audio.shape[1:], audio.dtype)]) if short > 0 else audio


@numba.njit(cache=True, nogil=True)
def _add_weighted_powers(
    pieces: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    first_weight: float,
    second_weight: float,
    sos: np.ndarray,
    edges: np.ndarray,
) -> None:
    """Add ``w * y^2`` of two K-weighted channels, summed between consecutive ``edges``, into ``pieces``.

    ``y`` is the channel through both second-order sections of ``sos`` in direct form II transposed (what
    scipy's lfilter and sosfilt compute), in float64. Two channels share the loop so that their recurrences,
    each waiting on its previous sample, overlap in the processor.
    """
    b10, b11, b12, a11, a12 = sos[0, 0], sos[0, 1], sos[0, 2], sos[0, 4], sos[0, 5]
    b20, b21, b22, a21, a22 = sos[1, 0], sos[1, 1], sos[1, 2], sos[1, 4], sos[1, 5]
    p1, q1, r1, s1 = 0.0, 0.0, 0.0, 0.0  # first channel: two state values per section
    p2, q2, r2, s2 = 0.0, 0.0, 0.0, 0.0
    for piece in range(len(edges) - 1):
        total = 0.0
        for n in range(edges[piece], edges[piece + 1]):
            x = np.float64(first[n])
            u = b10 * x + p1
            p1 = b11 * x - a11 * u + q1
            q1 = b12 * x - a12 * u
            y = b20 * u + r1
            r1 = b21 * u - a21 * y + s1
            s1 = b22 * u - a22 * y
            x2 = np.float64(second[n])
            u2 = b10 * x2 + p2
            p2 = b11 * x2 - a11 * u2 + q2
            q2 = b12 * x2 - a12 * u2
            y2 = b20 * u2 + r2
            r2 = b21 * u2 - a21 * y2 + s2
            s2 = b22 * u2 - a22 * y2
            total += first_weight * y * y + second_weight * y2 * y2
        pieces[piece] += total


def _block_bounds(frames: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray] | None:
    """BS.1770 gating blocks as (lower, upper) sample bounds, cut with pyloudnorm's float expressions."""
    count = int(np.round((frames / sample_rate - BLOCK_S) / (BLOCK_S * BLOCK_STEP))) + 1
    if count < 1:
        return None
    j = np.arange(count)
    lower = (BLOCK_S * (j * BLOCK_STEP) * sample_rate).astype(np.int64)
    upper = np.minimum((BLOCK_S * (j * BLOCK_STEP + 1) * sample_rate).astype(np.int64), frames)
    return lower, upper


def _gated_loudness(power: np.ndarray) -> float:
    """BS.1770 gating (absolute -70 LUFS, relative -10 LU) of channel-weighted block powers."""
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
    return loudness_and_window_levels(audio, sample_rate, None)[0]


def loudness_and_window_levels(audio: np.ndarray, sample_rate: int, window_s: float | None = BLOCK_S
                               ) -> tuple[float, np.ndarray]:
    """Integrated loudness (LUFS, as :func:`integrated_lufs`) of ``(n, channels)`` audio and, from the same
    filtering pass, the K-weighted level (dB, channels summed) of each whole window of ``window_s`` (as
    :func:`window_levels_db`, in float64; none when ``window_s`` is None)."""
    audio = np.asarray(audio)
    size = int(window_s * sample_rate) if window_s else 0
    windows = len(audio) // size if size else 0
    if audio.size == 0:
        return SILENCE_LUFS, np.zeros(windows)
    if audio.dtype not in (np.float32, np.float64):
        audio = audio.astype(np.float64)
    audio = _padded(_as_frames(audio), sample_rate)
    frames, channels = audio.shape
    bounds = _block_bounds(frames, sample_rate)
    if bounds is None:
        return SILENCE_LUFS, np.zeros(windows)
    lower, upper = bounds
    window_edges = np.arange(windows + 1, dtype=np.int64) * size
    # Sum between every block and window edge once, then add up those pieces per block (blocks overlap by 75 %)
    # and per window.
    edges, where = np.unique(np.concatenate([lower, upper, window_edges]), return_inverse=True)
    pieces = np.zeros(len(edges) - 1)
    sos = _k_weighting(sample_rate)
    weights = CHANNEL_WEIGHTS[:channels]
    for c in range(0, channels, 2):
        second = c + 1 if c + 1 < channels else c  # an odd channel out is paired with itself at weight 0
        second_weight = weights[c + 1] if c + 1 < channels else 0.0
        _add_weighted_powers(pieces, audio[:, c], audio[:, second], weights[c], second_weight, sos, edges)
    running = np.concatenate([[0.0], np.cumsum(pieces)])
    count = len(lower)
    power = (running[where[count : 2 * count]] - running[where[:count]]) / (BLOCK_S * sample_rate)
    at_windows = running[where[2 * count :]]
    window_levels = 10 * np.log10(np.diff(at_windows) / max(size, 1) + 1e-12) if windows else np.zeros(0)
    return _gated_loudness(power), window_levels


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


@lru_cache(maxsize=1)
def _overshoot_bound() -> float:
    """The most an oversampled value can exceed the largest sample it is computed from, as a factor.

    An output is ``sum_t h[t] * x[q - t]`` over one phase's taps, so ``|output| <= sum_t |h[t]| * max |x|``; the
    largest such tap sum over the four phases bounds every output (about 2.24, i.e. +7 dB, for this filter).
    """
    return float(np.abs(_oversampling_phases()).astype(np.float64).sum(axis=1).max() * BOUND_ROUNDING)


@numba.njit(cache=True, nogil=True, fastmath=True)
def _oversampled_peak(padded: np.ndarray, frames: int, phases: np.ndarray, block: int, bound: float,
                      known: float) -> float:
    """Largest magnitude of the 4x oversampled channel, or ``known`` when nothing exceeds it.

    ``padded`` holds the channel with ``taps`` zeros on each side. Output ``4q + p`` of the oversampled signal
    is ``sum_t phases[p, t] * x[q - 10 - t]``, for q in 10..frames+9 (resample_poly's alignment), computed a block
    of q at a time so the inner loop is a plain multiply-add. Blocks are visited loudest input first; a block
    whose input peak times ``bound`` (see :func:`_overshoot_bound`) cannot beat the peak found so far is skipped,
    and so are all quieter ones, so the answer is exactly that of the full computation.
    """
    taps = phases.shape[1]
    first_q = HALF_TAPS // OVERSAMPLING
    count = (frames + block - 1) // block
    input_peak = np.zeros(count, np.float32)
    for b in range(count):
        q0 = first_q + b * block
        size = min(block, frames + first_q - q0)
        # The outputs of this block read padded[q0 + 1 : q0 + size + taps].
        top = np.float32(0.0)
        for n in range(q0 + 1, q0 + size + taps):
            top = max(top, abs(padded[n]))
        input_peak[b] = top
    acc = np.zeros(block, np.float32)
    peak = np.float32(known)
    for b in np.argsort(-input_peak):
        if input_peak[b] * bound <= peak:
            break
        q0 = first_q + b * block
        size = min(block, frames + first_q - q0)
        for p in range(OVERSAMPLING):
            acc[:size] = 0.0
            for t in range(taps):
                weight = phases[p, t]
                source = padded[q0 - t + taps : q0 - t + taps + size]  # x[q0 - t], ...
                for k in range(size):
                    acc[k] += weight * source[k]
            for k in range(size):
                peak = max(peak, abs(acc[k]))
    return float(peak)


def true_peak_dbtp(audio: np.ndarray, sample_rate: int) -> float:
    """Highest peak between samples, in dBTP, found by 4x polyphase oversampling (as BS.1770-4 describes)."""
    audio = _as_frames(np.asarray(audio, dtype=np.float32))
    if audio.size == 0:
        return SILENCE_DBTP
    phases = _oversampling_phases()
    taps = phases.shape[1]
    peak = float(np.abs(audio).max())
    padded = np.zeros(len(audio) + 2 * taps, np.float32)
    for channel in range(audio.shape[1]):
        padded[taps : taps + len(audio)] = audio[:, channel]
        peak = max(peak, _oversampled_peak(padded, len(audio), phases, PEAK_BLOCK, _overshoot_bound(), peak))
    return max(20.0 * np.log10(peak), SILENCE_DBTP) if peak > 0 else SILENCE_DBTP
