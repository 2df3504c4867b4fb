"""Hit analysis: slice an effect at its onsets and tell which slices are hits, and of which class.

The effect is sliced at its onsets (librosa onset detection on a light spectrogram, backtracked to the preceding
energy minimum). A slice counts as a *hit* when it starts with a real jump in level and then decays; a stationary
or swelling sound (hiss, a swoosh) has no hits. Each hit is described by four spectral numbers (centroid, share of
energy below 150 Hz, spectral flatness, decay time) and given the class of the nearest prototype: kick, snare, hat
or percussion.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import librosa
import numpy as np
from scipy.signal import resample_poly

from pipeline.dsp.levels import frame_levels_db

ONSET_RATE = 11025  # onsets are found on a decimated copy: transients survive, the spectrogram is 4x cheaper
ONSET_FFT = 512
ONSET_HOP = 128
MIN_HIT_S = 0.04  # shorter slices are merged into the one before
MAX_HIT_S = 1.5  # longer slices are cut; no kit piece is longer
CLEAR_ONSET_STRENGTH = 6.0  # spectral flux this many times the effect's median: a clear hit
ONSET_JUMP_DB = 3.0  # a weaker onset must rise this far above what rings just before it
MIN_HIT_DECAY_DB = 9.0  # a hit must fall this far from its peak before the slice ends
HIT_PEAK_WITHIN_S = 0.06  # ... and reach its peak this soon
NOISE_LIKE_SHARE = 0.5  # when fewer slices than this are hits, the effect has no clear onsets at all
QUIET_HIT_DB = -30.0  # slices quieter than this (re the effect's peak) are not hits of their own
# A slice backtracked to the quiet before its hit (a loop's gap), or a piece pitched far down, starts where the hit
# does, or it would play late.
ATTACK_FLOOR_DB = -30.0
RISE_DB_PER_STEP = 0.5  # going back from the attack, the rise goes on while the level falls this much per 0.5 ms
PRE_ATTACK_S = 0.002
ENVELOPE_FRAME_S = 0.005
ANALYSIS_FRAMES = 4096  # the attack window whose spectrum describes a hit
LOW_BAND_HZ = 150.0


class HitClass(StrEnum):
    KICK = "kick"
    SNARE = "snare"
    HAT = "hat"
    PERC = "perc"


@dataclass(frozen=True)
class HitFeatures:
    centroid_hz: float
    low_share: float  # energy below LOW_BAND_HZ / total energy
    flatness: float  # spectral flatness of the attack, 0 (tonal) .. 1 (white noise)
    decay_s: float  # from the peak to 24 dB below it

    def vector(self) -> np.ndarray:
        return np.array(
            [
                np.log2(max(self.centroid_hz, 20.0) / 1000.0),
                self.low_share,
                np.log10(max(self.flatness, 1e-12)),
                np.log2(max(self.decay_s, 0.005) / 0.1),
            ]
        )


# Nearest-prototype classifier over HitFeatures.vector(): (log2 centroid/kHz, low share, log10 flatness,
# log2 decay/100 ms). The prototypes are the class medians measured on labelled single hits of Debian's
# sonic-pi-samples (bd_*, sn_*/snares, cymbals/splashes, toms/tabla/wood/cowbell); the scales are the pooled spreads.
# Decay weighs least: in a loop the next hit cuts every slice short.
CLASS_PROTOTYPES: dict[HitClass, np.ndarray] = {
    HitClass.KICK: np.array([-3.94, 0.99, -4.7, 0.5]),
    HitClass.SNARE: np.array([0.45, 0.01, -1.45, 0.92]),
    HitClass.HAT: np.array([2.97, 0.0, -0.74, 2.5]),
    HitClass.PERC: np.array([-1.1, 0.5, -3.4, 1.1]),
}
FEATURE_SCALES = np.array([1.2, 0.3, 1.3, 3.0])


@dataclass
class Hit:
    """One slice of the effect."""

    audio: np.ndarray
    start_s: float
    features: HitFeatures
    percussive: bool
    hit_class: HitClass
    distance: float  # to its class prototype, in scaled units
    loudness: float  # peak re the effect's peak, 0..1

    @property
    def typicality(self) -> float:
        """Higher for loud hits close to their prototype: the hit that best represents its class."""
        return self.loudness / (1.0 + self.distance)


def classify(features: HitFeatures) -> tuple[HitClass, float]:
    v = features.vector()
    distances = {c: float(np.linalg.norm((v - p) / FEATURE_SCALES)) for c, p in CLASS_PROTOTYPES.items()}
    best = min(distances, key=distances.__getitem__)
    return best, distances[best]


@lru_cache(maxsize=8)
def _analysis_window(n: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    return np.hanning(n).astype(np.float32), np.fft.rfftfreq(n, 1.0 / sample_rate)


def describe(audio: np.ndarray, sample_rate: int) -> HitFeatures:
    """The four numbers the classifier uses, from the slice's attack window and its envelope."""
    n = ANALYSIS_FRAMES * sample_rate // 44100 or ANALYSIS_FRAMES
    taper, freqs = _analysis_window(n, sample_rate)
    window = audio[:n]
    power = np.abs(np.fft.rfft(np.pad(window, (0, n - len(window))) * taper)) ** 2 + 1e-12
    total = float(power.sum())
    band = (freqs > 50.0) & (freqs < min(16000.0, sample_rate / 2))
    flatness = float(np.exp(np.mean(np.log(power[band]))) / np.mean(power[band]))
    env = frame_levels_db(audio, sample_rate, ENVELOPE_FRAME_S)
    peak = int(np.argmax(env))
    below = np.flatnonzero(env[peak:] < env[peak] - 24.0)
    decay_frames = int(below[0]) if below.size else len(env) - peak
    return HitFeatures(
        centroid_hz=float((freqs * power).sum() / total),
        low_share=float(power[freqs < LOW_BAND_HZ].sum() / total),
        flatness=flatness,
        decay_s=decay_frames * ENVELOPE_FRAME_S,
    )


def _decays(audio: np.ndarray, sample_rate: int) -> bool:
    """Peaks early and falls at least MIN_HIT_DECAY_DB before the slice ends."""
    env = frame_levels_db(audio, sample_rate, ENVELOPE_FRAME_S)
    peak = int(np.argmax(env))
    if peak * ENVELOPE_FRAME_S > HIT_PEAK_WITHIN_S:
        return False
    tail = env[max(peak + 1, len(env) - 4) :]
    return tail.size > 0 and float(env[peak] - tail.mean()) >= MIN_HIT_DECAY_DB


def onsets(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Onsets in samples of ``audio`` (backtracked to the energy minimum before each; the first is always 0) and
    the strength of each, as a multiple of the effect's median spectral flux."""
    g = np.gcd(sample_rate, ONSET_RATE)
    small = resample_poly(audio, ONSET_RATE // g, sample_rate // g).astype(np.float32)
    if len(small) < ONSET_FFT:
        return np.array([0]), np.array([np.inf])
    spectrum = np.abs(librosa.stft(small, n_fft=ONSET_FFT, hop_length=ONSET_HOP))
    flux = librosa.onset.onset_strength(
        S=librosa.amplitude_to_db(spectrum, ref=np.max), sr=ONSET_RATE, n_fft=ONSET_FFT, hop_length=ONSET_HOP
    )
    rms = librosa.feature.rms(S=spectrum, frame_length=ONSET_FFT, hop_length=ONSET_HOP)[0]
    peaks = librosa.onset.onset_detect(onset_envelope=flux, sr=ONSET_RATE, hop_length=ONSET_HOP)
    starts = librosa.onset.onset_backtrack(peaks, rms)
    typical = float(np.median(flux)) + 1e-6
    head = int(0.05 * ONSET_RATE / ONSET_HOP) + 1
    frames = np.concatenate([[0], starts])
    strength = np.concatenate([[flux[:head].max()], flux[peaks]]) / typical
    samples = (frames * ONSET_HOP * sample_rate) // ONSET_RATE
    samples, first = np.unique(samples, return_index=True)
    return samples.astype(int), strength[first]


def attack_offset(piece: np.ndarray, sample_rate: int) -> int:
    """Samples from the slice's start to just before its hit: from the first moment within ``ATTACK_FLOOR_DB`` of
    the slice's loudest, back down the rise to where the level stops falling (the quiet just before the hit)."""
    window = max(1, int(0.001 * sample_rate))
    level = np.convolve(piece.astype(np.float64) ** 2, np.ones(window) / window, mode="same")
    if not len(level) or level.max() <= 0:
        return 0
    level_db = 10 * np.log10(level + level.max() * 1e-12)
    onset = int(np.argmax(level_db >= level_db.max() + ATTACK_FLOOR_DB))
    step = window // 2 or 1
    while onset >= step and level_db[onset - step] < level_db[onset] - RISE_DB_PER_STEP:
        onset -= step
    offset = onset - int(PRE_ATTACK_S * sample_rate)
    return offset if offset >= window else 0  # a shorter lead-in is not worth a cut


def _fade_pre_attack(piece: np.ndarray, sample_rate: int) -> np.ndarray:
    """The quiet lead-in kept before the attack faded in, so the cut does not click; the attack is untouched."""
    fade = min(len(piece), int(PRE_ATTACK_S * sample_rate))
    out = piece.copy()
    out[:fade] *= np.linspace(0.0, 1.0, fade, dtype=out.dtype)
    return out


def from_attack(piece: np.ndarray, sample_rate: int) -> np.ndarray:
    """``piece`` from just before its attack (unchanged when it already starts there)."""
    offset = attack_offset(piece, sample_rate)
    return _fade_pre_attack(piece[offset:], sample_rate) if offset else piece


def find_hits(audio: np.ndarray, sample_rate: int) -> list[Hit]:
    """Slice ``audio`` at its onsets; every slice loud and long enough is described and classified.

    A slice is ``percussive`` (a hit the kit may play as it is) when its onset is clearly stronger than the
    effect's typical flux or when it peaks early and decays; hiss and swells are neither.
    """
    peak = float(np.max(np.abs(audio))) or 1.0
    gap = int(0.03 * sample_rate)
    starts: list[tuple[int, float]] = []
    for onset, strength in zip(*onsets(audio, sample_rate)):
        if starts and onset - starts[-1][0] < MIN_HIT_S * sample_rate:
            continue
        if starts and strength < CLEAR_ONSET_STRENGTH:
            # A weak onset starts a new slice only when the level really jumps (else it is the same sound going on).
            before = float(np.sqrt(np.mean(audio[max(0, onset - gap) : onset] ** 2)) + 1e-9)
            frames = frame_levels_db(audio[onset : onset + gap], sample_rate, ENVELOPE_FRAME_S)
            if float(frames.max()) - 20.0 * np.log10(before) < ONSET_JUMP_DB:
                continue
        starts.append((int(onset), float(strength)))
    hits: list[Hit] = []
    for i, (start, strength) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(audio)
        # A later slice is backtracked to the quiet before its hit; the first one is the effect's own start.
        offset = attack_offset(audio[start:end], sample_rate) if i else 0
        start += offset
        piece = audio[start : min(end, start + int(MAX_HIT_S * sample_rate))]
        if offset:
            piece = _fade_pre_attack(piece, sample_rate)
        loudness = float(np.max(np.abs(piece))) / peak
        if len(piece) < MIN_HIT_S * sample_rate or 20.0 * np.log10(loudness + 1e-12) < QUIET_HIT_DB:
            continue
        features = describe(piece, sample_rate)
        hit_class, distance = classify(features)
        percussive = strength >= CLEAR_ONSET_STRENGTH or _decays(piece, sample_rate)
        hits.append(Hit(piece, start / sample_rate, features, percussive, hit_class, distance, loudness))
    if sum(h.percussive for h in hits) < NOISE_LIKE_SHARE * len(hits):
        # Mostly slices of a sound that goes on (hiss, rain, a swoosh): its few "hits" are chance ripples.
        for h in hits:
            h.percussive = False
    return hits
