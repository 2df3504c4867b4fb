"""In-tune notes that keep the effect's own time-frequency envelope: the pitch is imposed only as fine structure.

In every short-time frame of the effect, its energy in the band of width ``f0`` around each harmonic ``k * f0`` is
given to one sinusoid at exactly ``k * f0`` (phase-coherent from frame to frame); a share of the effect itself, set
by ``character``, is kept above the fundamental. The energy in every band stays the effect's, so its spectral
envelope, its loudness contour and its modulations survive; only the fine structure inside each band becomes
harmonic. The first partials (those the pitch is heard from) ring on after a hit, and the fundamental is never far
below the strongest partial, so every note is heard in tune for its length; the partials above them follow the
effect's own rhythm. While the effect itself plays, everything above its ``RAW_ABOVE_HARMONIC``-th harmonic (and
above ``RAW_ABOVE_MIN_HZ``, so low notes keep enough partials to be heard in tune) is the raw effect: its texture
stays the source's own. ``character`` sets how much of the raw effect stays below that. Clicks and crackle are
softened so they do not set the sample's peak, and so its level.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import librosa
import numpy as np
import scipy.fft
from scipy.ndimage import uniform_filter1d
from scipy.signal import butter, sosfilt

from pipeline.instruments.spectrum import highpass_curve

N_FFT = 2048
HOP = N_FFT // 4
LOBE_BINS = 2  # a Hann window's main lobe is 2 bins either side of a partial
KERNEL_STEPS = 64  # resolution of the main-lobe table, per bin
MAX_PARTIAL_HZ = 16000.0
RAW_SHARE_AT_FULL_CHARACTER = 0.5
PITCH_CARRIERS = 4  # the partials pitch is mostly heard from
RESIDUAL_ABOVE_F0 = 1.5
SOFT_CUTOFF_MIN_HZ = 900.0
SOFT_CUTOFF_MAX_HZ = 2000.0
CLICK_CREST = 3.0  # samples above this many times the local RMS are softly clipped
CLICK_WINDOW_S = 0.02
RAW_ABOVE_HARMONIC = 6.0  # lower reads more like the source, but the raw top then masks the pitch of low notes
RAW_ABOVE_MIN_HZ = 2000.0
RAW_FADE_FRAMES = 8  # after the effect's end its raw top fades into partials over this many hops (~90 ms)


@dataclass(frozen=True)
class Voicing:
    """How one session turns an effect into notes."""

    decay_s: float  # T60 of a partial near 0 Hz once what excites it stops (higher partials ring shorter)
    damping_hz: float  # partials around this frequency ring half as long
    soft_cutoff_harmonic: float  # soft velocity layer: low-pass at this harmonic number (900..2000 Hz)
    fundamental_within_db: float  # the fundamental is at least this far below the strongest partial
    tilt_db_per_octave: float  # partials 2..4 lean to this slope below the fundamental at character 0


@cache
def _lobe_table() -> tuple[np.ndarray, np.ndarray, float]:
    """The real main lobe of the centred Hann window, sampled at offsets -2..2 bins, and its energy sum(w^2)."""
    window = librosa.filters.get_window("hann", N_FFT, fftbins=True)
    t = np.arange(N_FFT) - N_FFT // 2
    offsets = np.linspace(-LOBE_BINS, LOBE_BINS, 2 * LOBE_BINS * KERNEL_STEPS + 1)
    lobe = np.cos(2 * np.pi * offsets[:, None] * t[None, :] / N_FFT) @ window
    return offsets, lobe, float(np.sum(window**2))


@cache
def _synthesis_window() -> np.ndarray:
    window = librosa.filters.get_window("hann", N_FFT, fftbins=True).astype(np.float32)
    window.flags.writeable = False
    return window


@cache
def _window_sumsquare(frames: int) -> np.ndarray:
    """The overlap-added squared window of ``frames`` frames, from the centre of the first frame on."""
    total = librosa.filters.window_sumsquare(
        window="hann", n_frames=frames, win_length=N_FFT, n_fft=N_FFT, hop_length=HOP, dtype=np.float32
    )[N_FFT // 2 :]
    total.flags.writeable = False
    return total


@cache
def _frequencies(sample_rate: int) -> np.ndarray:
    freqs = librosa.fft_frequencies(sr=sample_rate, n_fft=N_FFT).astype(np.float32)
    freqs.flags.writeable = False
    return freqs


@cache
def _soft_layer_filter(cutoff_hz: float, sample_rate: int) -> np.ndarray:
    return butter(4, cutoff_hz, fs=sample_rate, output="sos")  # sosfilt needs it writeable; it never writes it


def _inverse_stft(spectrum: np.ndarray, length: int) -> np.ndarray:
    """``librosa.istft(spectrum, hop_length=HOP, window="hann", center=True, length=length)`` in float32, with
    every frame transformed in one call and overlap-added a quarter frame at a time."""
    overlap = N_FFT // HOP
    frames = min(spectrum.shape[1], int(np.ceil((length + 2 * (N_FFT // 2)) / HOP)))
    blocks = scipy.fft.irfft(spectrum[:, :frames].T, n=N_FFT, axis=1)
    blocks *= _synthesis_window()
    quarters = blocks.reshape(frames, overlap, HOP)
    summed = np.zeros((frames + overlap - 1, HOP), np.float32)
    for quarter in reversed(range(overlap)):  # frame by frame, as librosa adds them
        summed[quarter : quarter + frames] += quarters[:, quarter]
    audio = np.zeros(length, np.float32)
    available = min(length, summed.size - N_FFT // 2)
    audio[:available] = summed.ravel()[N_FFT // 2 : N_FFT // 2 + available]
    norm = np.zeros(length, np.float32)
    norm[: min(length, len(_window_sumsquare(frames)))] = _window_sumsquare(frames)[:length]
    np.divide(audio, norm, out=audio, where=norm > np.finfo(np.float32).tiny)
    return audio


def _ring_on(amplitude: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Each row's running maximum of its amplitudes, each falling by its ``ring`` factor per frame:
    ``max_j(a_j * ring^(i - j)) = ring^i * max_j(a_j * ring^-j)``, taken in the log domain."""
    with np.errstate(divide="ignore"):
        ramp = np.log(ring)[:, None] * np.arange(amplitude.shape[1])[None, :]
        return np.exp(np.maximum.accumulate(np.log(amplitude) - ramp, axis=1) + ramp)


def _harmonic_stft(
    power: np.ndarray, sample_rate: int, f0: float, voicing: Voicing, character: float
) -> np.ndarray:
    """STFT of partials at ``k * f0`` whose per-frame energies are the band energies of ``power`` around them."""
    bins, frames = power.shape
    step = sample_rate / N_FFT
    count = int(min(MAX_PARTIAL_HZ, 0.5 * sample_rate - 2 * step) // f0)
    centres = f0 * np.arange(1, count + 1) / step  # in bins
    cumulative = np.cumsum(power, axis=0)  # cumulative[b - 1]: the energy below bin b

    def below_bin(index: np.ndarray) -> np.ndarray:
        energy = cumulative[np.maximum(index - 1, 0)].astype(np.float64)
        energy[index == 0] = 0.0
        return energy

    edges = np.clip(np.concatenate([centres - 0.5 * f0 / step, centres[-1:] + 0.5 * f0 / step]), 0, bins)
    below = np.floor(edges).astype(int)
    frac = (edges - below)[:, None]
    at_edges = below_bin(below) * (1 - frac) + below_bin(np.minimum(below + 1, bins)) * frac
    band_energy = np.maximum(np.diff(at_edges, axis=0), 0.0)  # (partials, frames)
    offsets, lobe, window_energy = _lobe_table()
    half_amplitude = np.sqrt(band_energy / (N_FFT * window_energy))
    # The partials the pitch is heard from ring on after what excites them stops, as a string's do (higher ones
    # shorter), instead of following a hit's fall: the note is heard in tune for its length, and a noisy band's
    # frame-to-frame swings do not blur the pitch of low notes. The partials above them follow the effect's rhythm.
    carriers = min(PITCH_CARRIERS, count)
    t60 = voicing.decay_s / (1.0 + (centres[:carriers] * step / voicing.damping_hz) ** 2)
    ring = 10 ** (-3.0 * HOP / sample_rate / np.maximum(t60, 1e-3))
    half_amplitude[:carriers] = _ring_on(half_amplitude[:carriers], ring)
    # The pitch is heard where the note is written, even from a sound with nothing low: the fundamental is lifted
    # to within ``fundamental_within_db`` of the strongest partial, and towards the clean end of the character
    # control the next partials to a musical slope below it (at the raw end they keep the effect's own pattern).
    octaves = np.log2(np.arange(1, carriers + 1))
    slope = 10 ** ((voicing.fundamental_within_db - voicing.tilt_db_per_octave * octaves) / 20)
    slope[1:] *= np.sqrt(1.0 - float(np.clip(character, 0.0, 1.0)))
    floor = half_amplitude.max(axis=0)[None, :] * slope[:, None]
    half_amplitude[:carriers] = np.maximum(half_amplitude[:carriers], floor)
    frame_centres = np.arange(frames) * HOP
    # Schroeder's phases: the partials never line up into a click train, so the note's peak stays near its level.
    numbers = np.arange(1, count + 1)
    cycles = np.outer(centres * step / sample_rate, frame_centres) + (0.5 * numbers * (numbers - 1) / count)[:, None]
    cycles -= np.rint(cycles)  # whole turns taken off in float64, so float32 keeps the phases exact enough
    phases = (2 * np.pi * cycles).astype(np.float32)
    amplitude = half_amplitude.astype(np.float32)
    partials = np.empty((count, frames), np.complex64)
    partials.real = amplitude * np.cos(phases)
    partials.imag = amplitude * np.sin(phases)
    harmonic = np.zeros((bins, frames), dtype=np.complex64)
    nearest = np.round(centres).astype(int)
    for offset in range(-LOBE_BINS, LOBE_BINS + 1):
        target = nearest + offset
        distance = target - centres
        keep = (target >= 0) & (target < bins) & (np.abs(distance) < LOBE_BINS)
        weight = np.interp(distance[keep], offsets, lobe)
        sign = np.where(target[keep] % 2 == 0, 1.0, -1.0)  # the frame is centred: bin b carries (-1)^b
        # partials lie over a bin apart: no target repeats
        harmonic[target[keep]] += (sign * weight).astype(np.float32)[:, None] * partials[keep]
    return harmonic


def short_time_spectrum(drive: np.ndarray, length: int) -> np.ndarray:
    """STFT of the first ``length`` samples of ``drive`` (zero-padded), as :func:`harmonic_notes` takes it."""
    audio = np.zeros(length, dtype=np.float32)
    audio[: min(length, len(drive))] = drive[:length]
    return librosa.stft(audio, n_fft=N_FFT, hop_length=HOP, window="hann", center=True)


def _soften_clicks(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Clicks and crackle (samples far above the local RMS) softly clipped, so they do not set the zone's peak."""
    audio = audio.astype(np.float32, copy=False)
    local_rms = np.sqrt(uniform_filter1d(np.square(audio), int(CLICK_WINDOW_S * sample_rate)))  # sums in float64
    limit = CLICK_CREST * local_rms + np.float32(1e-9)
    clicks = np.flatnonzero(np.abs(audio) > limit)  # everything else passes unchanged
    softened = audio.copy()
    peak, limit = audio[clicks].astype(np.float64), limit[clicks].astype(np.float64)
    softened[clicks] = np.sign(peak) * (limit + limit * np.tanh((np.abs(peak) - limit) / limit))
    return softened


def depth_for(character: float) -> float:
    """Share of each band's energy the partials carry: all of it at character 0, half at character 1."""
    return 1.0 - RAW_SHARE_AT_FULL_CHARACTER * float(np.clip(character, 0.0, 1.0))


def harmonic_notes(
    spectrum: np.ndarray,
    sample_rate: int,
    f0: float,
    voicing: Voicing,
    character: float,
    length: int,
    *,
    pitched: bool,
    raw_until: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(hard, soft) velocity layers of ``length`` samples: the sound whose :func:`short_time_spectrum` is
    ``spectrum`` (at least ``length`` long), with its fine structure made harmonic at ``f0``.

    The rest of each band's energy (:func:`depth_for`) stays the effect itself, above ``RESIDUAL_ABOVE_F0 * f0`` so
    nothing of it competes with the fundamental (and, when ``pitched``, only between the harmonics). Above the
    ``RAW_ABOVE_HARMONIC``-th harmonic all of it stays the effect for its first ``raw_until`` samples (the effect
    itself; the rest is its continuation), or throughout when ``raw_until`` is None.
    """
    spectrum = spectrum[:, : 1 + length // HOP]
    freqs = _frequencies(sample_rate)
    raw_share = (1.0 - depth_for(character)) * highpass_curve(freqs, RESIDUAL_ABOVE_F0 * f0, order=8) ** 2
    frames = spectrum.shape[1]
    playing = np.ones(frames, np.float32)
    if raw_until is not None:
        playing = np.clip(1.0 - (np.arange(frames) - raw_until / HOP) / RAW_FADE_FRAMES, 0.0, 1.0)
    top_from = max(RAW_ABOVE_HARMONIC * f0, RAW_ABOVE_MIN_HZ)
    # Frames differ only in how far the raw top has faded: one gain column per distinct fade.
    fades, column_of_frame = np.unique(playing, return_inverse=True)
    top = highpass_curve(freqs, top_from, order=8)[:, None] ** 2 * fades[None, :]
    residual_gain = np.sqrt(raw_share[:, None] * (1.0 - top) + top).astype(np.float32)
    if pitched:
        # A pitched effect already has its partials on the harmonics (it was moved there): its raw share keeps
        # only what lies between them, or two sounds on one frequency would beat and move the partials' levels.
        on_harmonics = np.round(np.arange(f0, freqs[-1], f0) / (sample_rate / N_FFT)).astype(int)
        residual_gain[np.clip(on_harmonics[:, None] + np.arange(-1, 2)[None, :], 0, len(freqs) - 1).ravel()] = 0.0
    harmonic_share = (1.0 - residual_gain**2)[:, column_of_frame]
    residual_gain = residual_gain[:, column_of_frame]
    power = np.abs(spectrum) ** 2
    harmonic = _harmonic_stft(power * harmonic_share, sample_rate, f0, voicing, character)
    harmonic += spectrum * residual_gain
    hard = _soften_clicks(_inverse_stft(harmonic, length), sample_rate)
    cutoff = max(SOFT_CUTOFF_MIN_HZ, min(voicing.soft_cutoff_harmonic * f0, SOFT_CUTOFF_MAX_HZ))
    soft = sosfilt(_soft_layer_filter(cutoff, sample_rate), hard).astype(np.float32)
    return hard, soft
