"""The drum kit builder: one effect becomes a General MIDI drum kit (keys 35-81).

How a kit is made:

1. **Hits.** The effect is sliced at its onsets (librosa onset detection on a light spectrogram, backtracked to the
   preceding energy minimum). A slice counts as a *hit* when it starts with a real jump in level and then decays;
   a stationary or swelling sound (hiss, a swoosh) has no hits and is used as raw material only.
2. **Classes.** Each hit is described by four spectral numbers (centroid, share of energy below 150 Hz, spectral
   flatness, decay time) and given the class of the nearest prototype: kick, snare, hat or percussion.
3. **Pieces.** Every GM key has a recipe (:data:`GM_KIT`): the family it belongs to, a pitch offset, a length,
   filters and flams. A family plays its own hits where the effect has them; missing families are derived from the
   best available hit (or from the raw sound) by filtering and pitching - a kick is low-passed and pitched down with
   a fast pitch drop, a snare is band-passed with a noise body, a hat is high-passed and short, toms are pitched.
4. **Finish.** Each piece is trimmed, its tail faded, its edges de-clicked and its peak normalised; a darker copy
   makes the soft velocity layer. WAVs, SFZ and instrument.json are written to ``out_dir``.

Filtering, pitching and envelopes are a few lines of numpy/scipy each and run on short pieces, which keeps a kit
for a 5 s effect well under 0.1 s of work.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import librosa
import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

from pipeline.audio import LoadedEffect, loudest_window, resample
from pipeline.errors import WaveInputError
from pipeline.instruments.samplefiles import write_pcm16
from pipeline.instruments.sfz import write_sfz
from pipeline.types import Envelope, Instrument, Session, Zone

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------------------- hit analysis

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


def _envelope_db(audio: np.ndarray, sample_rate: int, frame_s: float = 0.005) -> np.ndarray:
    hop = max(1, int(frame_s * sample_rate))
    n = max(1, len(audio) // hop)
    frames = np.pad(audio, (0, max(0, n * hop - len(audio))))[: n * hop].reshape(n, hop)
    return 10.0 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)


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
    env = _envelope_db(audio, sample_rate)
    peak = int(np.argmax(env))
    below = np.flatnonzero(env[peak:] < env[peak] - 24.0)
    decay_frames = int(below[0]) if below.size else len(env) - peak
    return HitFeatures(
        centroid_hz=float((freqs * power).sum() / total),
        low_share=float(power[freqs < LOW_BAND_HZ].sum() / total),
        flatness=flatness,
        decay_s=decay_frames * 0.005,
    )


def _decays(audio: np.ndarray, sample_rate: int) -> bool:
    """Peaks early and falls at least MIN_HIT_DECAY_DB before the slice ends."""
    env = _envelope_db(audio, sample_rate)
    peak = int(np.argmax(env))
    if peak * 0.005 > HIT_PEAK_WITHIN_S:
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
            frames = _envelope_db(audio[onset : onset + gap], sample_rate)
            if float(frames.max()) - 20.0 * np.log10(before) < ONSET_JUMP_DB:
                continue
        starts.append((int(onset), float(strength)))
    hits: list[Hit] = []
    for i, (start, strength) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(audio)
        piece = audio[start : min(end, start + int(MAX_HIT_S * sample_rate))]
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


# ---------------------------------------------------------------------------------------------------- DSP pieces


@lru_cache(maxsize=256)
def _sos(kind: str, cutoff: float | tuple[float, float], sample_rate: int, order: int = 4) -> np.ndarray:
    """Butterworth sections, designed once per (kind, cutoff, rate, order): a kit uses the same few filters often."""
    nyquist = sample_rate / 2.0
    if isinstance(cutoff, tuple):
        lo, hi = max(cutoff[0], 10.0), min(cutoff[1], 0.95 * nyquist)
        return butter(order, [lo, hi], btype="bandpass", fs=sample_rate, output="sos")
    return butter(order, min(cutoff, 0.95 * nyquist), btype=kind, fs=sample_rate, output="sos")


def highpass(audio: np.ndarray, cutoff: float, sample_rate: int, order: int = 4) -> np.ndarray:
    return sosfilt(_sos("highpass", cutoff, sample_rate, order), audio).astype(np.float32)


def lowpass(audio: np.ndarray, cutoff: float, sample_rate: int, order: int = 4) -> np.ndarray:
    return sosfilt(_sos("lowpass", cutoff, sample_rate, order), audio).astype(np.float32)


def bandpass(audio: np.ndarray, lo: float, hi: float, sample_rate: int, order: int = 2) -> np.ndarray:
    return sosfilt(_sos("bandpass", (lo, hi), sample_rate, order), audio).astype(np.float32)


def repitch(audio: np.ndarray, semitones: float, sample_rate: int) -> np.ndarray:
    """Play ``audio`` faster (up) or slower (down) like a tape: pitch and length change together.

    Linear interpolation after an anti-alias low-pass when going up; exact enough for drums and far cheaper than
    a polyphase resampler with an arbitrary ratio.
    """
    if abs(semitones) < 1e-3 or len(audio) < 2:
        return audio.astype(np.float32, copy=False)
    rate = 2.0 ** (semitones / 12.0)
    if rate > 1.0:
        audio = lowpass(audio, 0.45 * sample_rate / rate, sample_rate, order=6)
    positions = np.arange(0.0, len(audio) - 1, rate)
    return np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)


def pitch_drop(audio: np.ndarray, start_rate: float, end_rate: float, time_constant_s: float, sample_rate: int,
               length_s: float) -> np.ndarray:
    """Tape-style playback whose speed falls from ``start_rate`` to ``end_rate``: the classic kick pitch sweep."""
    t = np.arange(int(length_s * sample_rate)) / sample_rate
    rate = end_rate + (start_rate - end_rate) * np.exp(-t / time_constant_s)
    positions = np.cumsum(rate)
    positions = positions[positions < len(audio) - 1]
    return np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)


def decay_envelope(n: int, time_constant_s: float, sample_rate: int, attack_s: float = 0.001) -> np.ndarray:
    t = np.arange(n) / sample_rate
    attack = np.clip(t / max(attack_s, 1e-6), 0.0, 1.0)
    return (attack * np.exp(-t / time_constant_s)).astype(np.float32)


def coloured_noise(source: np.ndarray, seconds: float, time_constant_s: float, sample_rate: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Decaying noise with the spectrum of the source's attack: a body or tail that still sounds like the source."""
    n = max(1, int(seconds * sample_rate))
    noise = rng.standard_normal(n).astype(np.float32) * decay_envelope(n, time_constant_s, sample_rate)
    colour = source[: int(0.02 * sample_rate)]
    colour = colour * np.hanning(len(colour)) if len(colour) > 2 else np.ones(1, np.float32)
    return fftconvolve(noise, colour)[:n].astype(np.float32)


def _normalised(audio: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return (audio / peak).astype(np.float32) if peak > 0 else audio.astype(np.float32)


def _fit(audio: np.ndarray, n: int) -> np.ndarray:
    return audio[:n] if len(audio) >= n else np.pad(audio, (0, n - len(audio)))


def finish(audio: np.ndarray, length_s: float, sample_rate: int, floor_db: float = -50.0) -> np.ndarray:
    """Trim to ``length_s`` and to where the sound falls under ``floor_db``, fade the tail, de-click, normalise."""
    audio = audio[: int(length_s * sample_rate)].astype(np.float32)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= 0:
        raise WaveInputError("A drum piece came out silent; the effect is too quiet to build a kit from.")
    loud = np.flatnonzero(np.abs(audio) >= peak * 10 ** (floor_db / 20))
    audio = audio[: int(loud[-1]) + 1]
    n = len(audio)
    fade_in = min(n // 4, int(0.0005 * sample_rate))
    fade_out = max(min(n // 2, int(0.01 * sample_rate)), int(0.3 * n))  # the last 30 % fades away, at least 10 ms
    if fade_in:
        audio[:fade_in] *= np.linspace(0.0, 1.0, fade_in, endpoint=False, dtype=np.float32)
    if fade_out:
        audio[n - fade_out :] *= np.linspace(1.0, 0.0, fade_out, dtype=np.float32) ** 2
    return (_normalised(audio) * 10 ** (-1.0 / 20)).astype(np.float32)


# --------------------------------------------------------------------------------------------- kit families


class KitFamily(StrEnum):
    """What a GM key is, by how it is made. Native hit class in brackets."""

    KICK = "kick"  # [kick]
    SNARE = "snare"  # [snare]
    HAT = "hat"  # [hat], short
    CYMBAL = "cymbal"  # [hat], long; a short hat gets a tail of its own noise
    TOM = "tom"  # [perc], pitched
    PERC = "perc"  # [perc], or whatever the effect has


NATIVE_CLASS: dict[KitFamily, HitClass] = {
    KitFamily.KICK: HitClass.KICK,
    KitFamily.SNARE: HitClass.SNARE,
    KitFamily.HAT: HitClass.HAT,
    KitFamily.CYMBAL: HitClass.HAT,
    KitFamily.TOM: HitClass.PERC,
    KitFamily.PERC: HitClass.PERC,
}


@dataclass(frozen=True)
class KitPiece:
    """The recipe of one GM key."""

    key: int
    name: str
    family: KitFamily
    semitones: float = 0.0
    length_s: float = 0.5
    highpass_hz: float = 0.0
    lowpass_hz: float = 0.0
    flams_ms: tuple[float, ...] = ()  # extra strikes after the first (claps, guiros, vibraslap)
    volume_db: float = 0.0
    pick: int = 0  # which of the family's hits to use (0 = most typical), for variety between related keys
    pan: float = 0.0


_CLAP = (9.0, 19.0, 31.0)
_RASP_SHORT = tuple(12.0 * i for i in range(1, 6))
_RASP_LONG = tuple(14.0 * i for i in range(1, 16))

GM_KIT: tuple[KitPiece, ...] = (
    KitPiece(35, "Acoustic Bass Drum", KitFamily.KICK, -2, 0.55, pick=1),
    KitPiece(36, "Bass Drum 1", KitFamily.KICK, 0, 0.5),
    KitPiece(37, "Side Stick", KitFamily.SNARE, 5, 0.09, highpass_hz=1200, volume_db=-3, pick=1),
    KitPiece(38, "Acoustic Snare", KitFamily.SNARE, 0, 0.45),
    KitPiece(39, "Hand Clap", KitFamily.SNARE, 2, 0.3, highpass_hz=700, lowpass_hz=7000, flams_ms=_CLAP),
    KitPiece(40, "Electric Snare", KitFamily.SNARE, 2, 0.35, highpass_hz=180, pick=1),
    KitPiece(41, "Low Floor Tom", KitFamily.TOM, -10, 0.7, pan=-0.3),
    KitPiece(42, "Closed Hi-Hat", KitFamily.HAT, 0, 0.09, volume_db=-3, pan=0.2),
    KitPiece(43, "High Floor Tom", KitFamily.TOM, -8, 0.65, pan=-0.25),
    KitPiece(44, "Pedal Hi-Hat", KitFamily.HAT, -1, 0.06, volume_db=-6, pick=1, pan=0.2),
    KitPiece(45, "Low Tom", KitFamily.TOM, -6, 0.6, pan=-0.15),
    KitPiece(46, "Open Hi-Hat", KitFamily.CYMBAL, 0, 0.45, highpass_hz=4000, volume_db=-4, pan=0.2),
    KitPiece(47, "Low-Mid Tom", KitFamily.TOM, -4, 0.55, pan=-0.05),
    KitPiece(48, "Hi-Mid Tom", KitFamily.TOM, -2, 0.5, pan=0.05),
    KitPiece(49, "Crash Cymbal 1", KitFamily.CYMBAL, -2, 1.5, highpass_hz=1500, volume_db=-3, pan=-0.3),
    KitPiece(50, "High Tom", KitFamily.TOM, 0, 0.45, pan=0.15),
    KitPiece(51, "Ride Cymbal 1", KitFamily.CYMBAL, 1, 1.0, highpass_hz=2500, volume_db=-5, pan=0.35),
    KitPiece(52, "Chinese Cymbal", KitFamily.CYMBAL, 3, 1.1, highpass_hz=2000, lowpass_hz=9000, volume_db=-4, pan=-0.35),
    KitPiece(53, "Ride Bell", KitFamily.PERC, 12, 0.6, highpass_hz=1500, volume_db=-5, pan=0.35),
    KitPiece(54, "Tambourine", KitFamily.HAT, 3, 0.25, highpass_hz=3000, flams_ms=(25.0,), volume_db=-5, pan=0.3),
    KitPiece(55, "Splash Cymbal", KitFamily.CYMBAL, 4, 0.7, highpass_hz=3000, volume_db=-4, pan=0.3),
    KitPiece(56, "Cowbell", KitFamily.PERC, 7, 0.3, highpass_hz=400, lowpass_hz=5000, volume_db=-4, pan=0.2),
    KitPiece(57, "Crash Cymbal 2", KitFamily.CYMBAL, 1, 1.5, highpass_hz=1500, volume_db=-3, pick=1, pan=0.3),
    KitPiece(58, "Vibraslap", KitFamily.PERC, 9, 0.6, flams_ms=_RASP_LONG, volume_db=-6, pan=-0.2),
    KitPiece(59, "Ride Cymbal 2", KitFamily.CYMBAL, -1, 1.0, highpass_hz=2500, volume_db=-5, pick=1, pan=-0.35),
    KitPiece(60, "Hi Bongo", KitFamily.PERC, 5, 0.25, pan=0.25),
    KitPiece(61, "Low Bongo", KitFamily.PERC, 2, 0.3, pan=0.2),
    KitPiece(62, "Mute Hi Conga", KitFamily.PERC, 3, 0.12, pan=-0.2),
    KitPiece(63, "Open Hi Conga", KitFamily.PERC, 3, 0.4, pan=-0.2),
    KitPiece(64, "Low Conga", KitFamily.PERC, -1, 0.45, pan=-0.25),
    KitPiece(65, "High Timbale", KitFamily.TOM, 6, 0.35, highpass_hz=300, pan=0.3),
    KitPiece(66, "Low Timbale", KitFamily.TOM, 3, 0.4, highpass_hz=200, pan=0.25),
    KitPiece(67, "High Agogo", KitFamily.PERC, 14, 0.3, highpass_hz=800, volume_db=-4, pan=-0.3),
    KitPiece(68, "Low Agogo", KitFamily.PERC, 10, 0.3, highpass_hz=600, volume_db=-4, pan=-0.3),
    KitPiece(69, "Cabasa", KitFamily.HAT, 2, 0.12, flams_ms=(15.0,), volume_db=-6, pan=0.35),
    KitPiece(70, "Maracas", KitFamily.HAT, 4, 0.08, volume_db=-6, pan=-0.35),
    KitPiece(71, "Short Whistle", KitFamily.PERC, 17, 0.15, highpass_hz=1000, volume_db=-6, pan=0.4),
    KitPiece(72, "Long Whistle", KitFamily.PERC, 17, 0.5, highpass_hz=1000, volume_db=-6, pan=0.4),
    KitPiece(73, "Short Guiro", KitFamily.HAT, -2, 0.12, flams_ms=_RASP_SHORT, volume_db=-6, pan=-0.3),
    KitPiece(74, "Long Guiro", KitFamily.HAT, -2, 0.35, flams_ms=_RASP_LONG, volume_db=-6, pan=-0.3),
    KitPiece(75, "Claves", KitFamily.PERC, 12, 0.1, highpass_hz=700, volume_db=-4, pan=0.3),
    KitPiece(76, "Hi Wood Block", KitFamily.PERC, 9, 0.12, highpass_hz=500, volume_db=-4, pan=0.2),
    KitPiece(77, "Low Wood Block", KitFamily.PERC, 6, 0.14, highpass_hz=400, volume_db=-4, pan=0.2),
    KitPiece(78, "Mute Cuica", KitFamily.PERC, 8, 0.15, volume_db=-5, pan=-0.25),
    KitPiece(79, "Open Cuica", KitFamily.PERC, 6, 0.4, volume_db=-5, pan=-0.25),
    KitPiece(80, "Mute Triangle", KitFamily.HAT, 9, 0.1, highpass_hz=3000, volume_db=-7, pan=0.4),
    KitPiece(81, "Open Triangle", KitFamily.CYMBAL, 9, 0.8, highpass_hz=3000, volume_db=-7, pan=0.4),
)
GM_KEYS: tuple[int, ...] = tuple(piece.key for piece in GM_KIT)


# ------------------------------------------------------------------------------------- sources for each family


@dataclass
class FamilySource:
    """The material one family is made from: its own hits, or one sound to derive from."""

    family: KitFamily
    native: list[np.ndarray] = field(default_factory=list)  # hits of the family's class, most typical first
    derived: np.ndarray | None = None  # made by filtering/pitching when the effect has no native hit
    note: str = ""

    def pick(self, index: int) -> tuple[np.ndarray, int]:
        """(audio, extra semitones): a native hit, cycling; when index runs past them, a slightly detuned one."""
        if self.native:
            lap, i = divmod(index, len(self.native))
            return self.native[i], -1.0 * lap
        assert self.derived is not None
        return self.derived, -1.0 * index


def _kick_from(source: np.ndarray, centroid_hz: float, sample_rate: int) -> np.ndarray:
    """Low-pass and pitch down with a fast drop, then a low body resonance excited by the same sound."""
    end_rate = float(np.clip(70.0 / max(centroid_hz, 70.0), 1 / 24, 1.0))
    swept = pitch_drop(_normalised(source[: int(0.12 * sample_rate)]), min(1.0, 4.0 * end_rate), end_rate, 0.025,
                       sample_rate, 0.6)
    if len(swept) < int(0.01 * sample_rate):
        swept = _fit(swept, int(0.01 * sample_rate))
    low = lowpass(swept, 160.0, sample_rate)
    body = lowpass(_fit(low, int(0.6 * sample_rate)), 90.0, sample_rate, order=2)
    kick = _normalised(_fit(low, len(body))) + 0.8 * _normalised(body)
    # A bright source (paper, leaves) has almost nothing below 160 Hz: a swept sine under it gives the kick a
    # body, so the piece never comes out silent.
    t = np.arange(len(kick)) / sample_rate
    sweep = np.sin(2 * np.pi * np.cumsum(50.0 + 90.0 * np.exp(-t / 0.03)) / sample_rate)
    kick = kick + 0.5 * sweep.astype(np.float32)
    return kick * decay_envelope(len(kick), 0.12, sample_rate, attack_s=0.002)


def _snare_from(source: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Band-passed tone of the source plus a noise body (the wires) coloured by the source."""
    n = int(0.45 * sample_rate)
    tone = bandpass(_fit(_normalised(source), n), 150.0, 2500.0, sample_rate, order=4)
    tone *= decay_envelope(n, 0.05, sample_rate)
    wires = bandpass(coloured_noise(source, 0.45, 0.09, sample_rate, rng), 1500.0, 9000.0, sample_rate, order=4)
    return 0.7 * _normalised(tone) + 0.6 * _normalised(wires)


def _hat_from(source: np.ndarray, centroid_hz: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Pitch the source up until it is bright, high-pass it and make it short; a little of its own noise on top."""
    semitones = float(np.clip(12.0 * np.log2(7000.0 / max(centroid_hz, 20.0)), 0.0, 48.0))
    bright = repitch(_normalised(source[: int(0.4 * sample_rate)]), semitones, sample_rate)
    n = int(0.3 * sample_rate)
    sizzle = coloured_noise(bright, 0.3, 0.03, sample_rate, rng)
    hat = _normalised(highpass(_fit(bright, n), 6000.0, sample_rate))
    hat += _normalised(highpass(sizzle, 6000.0, sample_rate))
    return hat * decay_envelope(n, 0.03, sample_rate)


def _tom_from(source: np.ndarray, centroid_hz: float, sample_rate: int) -> np.ndarray:
    """Pitch the source so its centre sits near a high tom's, soften its top and give it a tom's decay."""
    semitones = float(np.clip(12.0 * np.log2(400.0 / max(centroid_hz, 20.0)), -36.0, 24.0))
    tom = lowpass(repitch(_normalised(source[: int(0.4 * sample_rate)]), semitones, sample_rate), 3000.0,
                  sample_rate, order=2)
    tom = _fit(tom, int(0.7 * sample_rate))
    return tom * decay_envelope(len(tom), 0.15, sample_rate)


def _cymbal_tail(source: np.ndarray, length_s: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """A short bright sound stretched into a cymbal: the sound itself, then its own noise ringing on."""
    n = int(length_s * sample_rate)
    tail = _normalised(coloured_noise(source, length_s, length_s / 3.5, sample_rate, rng))
    head = _fit(_normalised(source), n)
    return 0.8 * head + 0.7 * tail


def _percussive(sound: np.ndarray, time_constant_s: float, sample_rate: int) -> np.ndarray:
    """Give a sustained sound a hit's shape (used when the effect has no hits at all)."""
    return sound * decay_envelope(len(sound), time_constant_s, sample_rate)


DERIVED_TEXTURE_SHARE = 0.25  # share of a derived piece that is the hit itself, shaped like the piece


def _keep_texture(derived: np.ndarray, hit: np.ndarray, sample_rate: int) -> np.ndarray:
    """Blend the hit itself back into a piece derived from it, under the derived piece's own loudness contour,
    so a kick made from a teaspoon still sounds like the teaspoon."""
    frame = max(1, int(0.005 * sample_rate))
    n = len(derived) // frame * frame
    if n == 0:
        return derived
    contour = np.sqrt(np.mean(derived[:n].reshape(-1, frame) ** 2, axis=1))
    contour = np.repeat(contour / (contour.max() + 1e-12), frame)
    own = _fit(_normalised(hit), n)
    own_contour = np.repeat(np.sqrt(np.mean(own.reshape(-1, frame) ** 2, axis=1)), frame)
    shaped = own * contour / np.maximum(own_contour, own_contour.max() * 1e-2 + 1e-12)
    blend = (1.0 - DERIVED_TEXTURE_SHARE) * _normalised(derived[:n]) + DERIVED_TEXTURE_SHARE * _normalised(shaped)
    return np.concatenate([blend, derived[n:] * 0.0]).astype(np.float32)


BORROW_MIN_HITS = 3
BORROW_KICK_LOW_SHARE = 0.1
BORROW_HAT_CENTROID_HZ = 2500.0


def _without_bleed(family: KitFamily, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Slices of a groove carry the other drums played with them: keep a kick's lows and a hat's highs."""
    if family == KitFamily.KICK:
        return lowpass(audio, 1000.0, sample_rate, order=2)
    if family in (KitFamily.HAT, KitFamily.CYMBAL):
        return highpass(audio, 4000.0, sample_rate)
    return audio


def _borrow(family: KitFamily, playable: list[Hit], sample_rate: int, rng: np.random.Generator) -> FamilySource | None:
    """In a groove, a kick or hat buried under other drums (a kick under a ride) still sits at its end of the
    spectrum: take that hit and filter the other drums away rather than synthesising a new piece."""
    if len(playable) < BORROW_MIN_HITS:
        return None
    if family == KitFamily.KICK:
        h = max(playable, key=lambda x: x.features.low_share)
        lowest_two = sorted(x.features.centroid_hz for x in playable)[:2]
        if h.features.low_share < BORROW_KICK_LOW_SHARE or h.features.centroid_hz > lowest_two[-1]:
            return None
        audio = lowpass(h.audio, 250.0, sample_rate, order=2)
    elif family in (KitFamily.HAT, KitFamily.CYMBAL):
        h = max(playable, key=lambda x: x.features.centroid_hz)
        if h.features.centroid_hz < BORROW_HAT_CENTROID_HZ:
            return None
        audio = highpass(h.audio, 5000.0, sample_rate)
        if family == KitFamily.CYMBAL:
            audio = _cymbal_tail(audio, 1.5, sample_rate, rng)
    else:
        return None
    note = f"{family.value}: the {h.hit_class.value}-like hit at {h.start_s:.2f} s, filtered"
    return FamilySource(family, [audio], note=note)


def family_sources(hits: list[Hit], raw: np.ndarray, sample_rate: int, seed: int) -> dict[KitFamily, FamilySource]:
    """Decide, for each family, which hits play it or what it is derived from (and say so)."""
    rng = np.random.default_rng([seed, 0])
    playable = [h for h in hits if h.percussive]
    by_class = {c: sorted((h for h in playable if h.hit_class == c), key=lambda h: -h.typicality) for c in HitClass}
    if playable:
        pool = playable
        material = "hit"
    else:
        # No clear onsets: shape the sound's loudest half second into a hit and derive everything from it.
        features = describe(raw, sample_rate)
        sound = _percussive(_normalised(loudest_window(raw, sample_rate, 0.5)), 0.15, sample_rate)
        pool = [Hit(sound, 0.0, features, True, *classify(features), 1.0)]
        material = "sound (no clear hits)"

    def lowest() -> Hit:
        return min(pool, key=lambda h: h.features.centroid_hz)

    def brightest() -> Hit:
        return max(pool, key=lambda h: h.features.centroid_hz)

    def nearest(c: HitClass) -> Hit:
        return min(pool, key=lambda h: np.linalg.norm((h.features.vector() - CLASS_PROTOTYPES[c]) / FEATURE_SCALES))

    sources: dict[KitFamily, FamilySource] = {}
    for family in KitFamily:
        native = [h.audio for h in by_class[NATIVE_CLASS[family]]]
        if len(playable) >= BORROW_MIN_HITS:
            native = [_without_bleed(family, a, sample_rate) for a in native]
        if family == KitFamily.CYMBAL:
            native = [_cymbal_tail(a, 1.5, sample_rate, rng) for a in native]
        if native:
            sources[family] = FamilySource(family, native)
            continue
        borrowed = _borrow(family, playable, sample_rate, rng)
        if borrowed is not None:
            sources[family] = borrowed
            continue
        if family == KitFamily.KICK:
            h = lowest()
            derived = _kick_from(h.audio, h.features.centroid_hz, sample_rate)
        elif family == KitFamily.SNARE:
            h = nearest(HitClass.SNARE)
            derived = _snare_from(h.audio, sample_rate, rng)
        elif family in (KitFamily.HAT, KitFamily.CYMBAL):
            h = brightest()
            derived = _hat_from(h.audio, h.features.centroid_hz, sample_rate, rng)
            if family == KitFamily.CYMBAL:
                derived = _cymbal_tail(derived[: int(0.05 * sample_rate)], 1.5, sample_rate, rng)
        elif family == KitFamily.TOM:
            h = nearest(HitClass.PERC)
            derived = _tom_from(h.audio, h.features.centroid_hz, sample_rate)
        else:
            h = max(pool, key=lambda x: x.typicality)
            derived = h.audio
        derived = _keep_texture(derived, h.audio, sample_rate)
        where = f"at {h.start_s:.2f} s" if material == "hit" else ""
        note = f"{family.value}: derived from the {h.hit_class.value}-like {material} {where}".rstrip()
        sources[family] = FamilySource(family, derived=derived, note=note)
    return sources


# ------------------------------------------------------------------------------------------------ kit assembly


def render_piece(piece: KitPiece, source: FamilySource, sample_rate: int) -> np.ndarray:
    """One GM key's sound at full velocity."""
    audio, detune = source.pick(piece.pick)
    semitones = piece.semitones + detune
    # Only what can still sound after pitching is processed: cymbal material is long, a closed hat is not.
    needed = int(piece.length_s * sample_rate * 2.0 ** (semitones / 12.0)) + 64
    audio = repitch(_normalised(audio[:needed]), semitones, sample_rate)
    if piece.flams_ms:
        strikes = [0.0, *piece.flams_ms]
        n = len(audio) + int(max(strikes) / 1000 * sample_rate)
        out = np.zeros(n, np.float32)
        for i, ms in enumerate(strikes):
            at = int(ms / 1000 * sample_rate)
            out[at : at + len(audio)] += audio * (0.85**i)
        audio = out
    if piece.highpass_hz:
        audio = highpass(audio, piece.highpass_hz, sample_rate, order=2)
    if piece.lowpass_hz:
        audio = lowpass(audio, piece.lowpass_hz, sample_rate, order=2)
    return finish(audio, piece.length_s, sample_rate)


def soft_layer(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """A drum struck softly is darker, not just quieter (the level itself comes from amp_veltrack)."""
    return (_normalised(lowpass(audio, 2500.0, sample_rate, order=1)) * 10 ** (-1.0 / 20)).astype(np.float32)


SOFT_VELOCITY_MAX = 72


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def build_drum_kit(loaded: LoadedEffect, out_dir: Path, *, name: str, source_effect: str, sample_rate: int,
                   seed: int = 0) -> Instrument:
    """Build a GM drum kit from one effect and write it (WAVs, SFZ, instrument.json) to ``out_dir``.

    Every GM key from 35 to 81 sounds. Raises WaveInputError when the effect is silent.
    """
    if loaded.silent or loaded.audio.size == 0 or not np.any(loaded.audio):
        raise WaveInputError(f"The sound '{source_effect}' is silent, so no drum kit can be made from it.")
    audio = resample(np.asarray(loaded.audio, dtype=np.float32), loaded.sample_rate, sample_rate)
    out_dir = Path(out_dir)
    (out_dir / "samples").mkdir(parents=True, exist_ok=True)

    hits = find_hits(audio, sample_rate)
    sources = family_sources(hits, audio, sample_rate, seed)
    zones: list[Zone] = []
    for piece in GM_KIT:
        hard = render_piece(piece, sources[piece.family], sample_rate)
        soft = soft_layer(hard, sample_rate)
        layers = (("soft", soft, 1, SOFT_VELOCITY_MAX), ("hard", hard, SOFT_VELOCITY_MAX + 1, 127))
        for layer, data, lovel, hivel in layers:
            rel = f"samples/{piece.key}_{_slug(piece.name)}_{layer}.wav"
            write_pcm16(out_dir / rel, data, sample_rate)
            zones.append(
                Zone(sample=rel, lokey=piece.key, hikey=piece.key, pitch_keycenter=piece.key, lovel=lovel,
                     hivel=hivel, loop_mode="one_shot", volume_db=piece.volume_db, pan=piece.pan)
            )

    counts = {c: sum(h.percussive and h.hit_class == c for h in hits) for c in HitClass}
    notes = list(loaded.notes)
    notes.append("hits: " + ", ".join(f"{n} {c.value}" for c, n in counts.items()) if hits else "hits: none")
    notes += [s.note for s in sources.values() if s.note]
    instrument = Instrument(
        session=Session.DRUMS,
        name=name,
        source_effect=source_effect,
        engine="dsp",
        sample_rate=sample_rate,
        directory=out_dir,
        zones=zones,
        envelope=Envelope(attack_s=0.0, decay_s=0.0, sustain_level=1.0, release_s=0.05),
        amp_veltrack=80.0,
        notes=notes,
    )
    write_sfz(instrument)
    instrument.save()
    log.info("drum kit %s from %s: %s", name, source_effect, "; ".join(notes))
    return instrument
