"""What a melodic instrument needs to know about its effect: the sound trimmed, its pitch (if any) and its events.

Sample hygiene as a sampler import does it: the silence before the first onset and after the last audible frame is
cut, the level is normalised, the root is detected (``librosa.yin`` over the loud frames) and the effect is split
into events (``librosa.onset``) so round robins can be cut from different moments of the sound.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import librosa
import numpy as np
import soxr

from pipeline.audio import LoadedEffect

MAX_SOURCE_S = 4.0  # the longest stretch of an effect an instrument keeps
TRIM_FLOOR_DB = -50.0  # frames quieter than this below the peak are silence
PRE_ONSET_S = 0.002
PITCH_FMIN = 32.0
PITCH_FMAX = 2000.0
# A sound is pitched when most of its loud frames agree on a pitch (within this many cents of their median)...
PITCH_AGREEMENT_CENTS = 40.0
PITCHED_SHARE = 0.6
# ...and that pitch stands out of the spectrum: the share of the energy within a quarter tone of its harmonics.
HARMONIC_SHARE = 0.45
MIN_EVENT_GAP_S = 0.08
ANALYSIS_SR = 11025  # pitch and onsets are found on a lighter copy


@dataclass
class Source:
    """An effect ready to be played: trimmed (mono float32, peak 1), its root and its events."""

    audio: np.ndarray
    sample_rate: int
    root_hz: float | None  # None for a sound without a clear pitch
    events: list[int]  # onset frames into ``audio``, first one at 0
    notes: list[str] = field(default_factory=list)

    @property
    def pitched(self) -> bool:
        return self.root_hz is not None

    def segment(self, index: int) -> np.ndarray:
        """The sound from its ``index``-th event on (events wrap around), with a short fade-in so it starts clean."""
        start = self.events[index % len(self.events)]
        if index >= len(self.events):  # fewer events than asked for: start a little later in the same one
            start = min(len(self.audio) - 1, start + int(0.004 * self.sample_rate * (index // len(self.events))))
        clip = self.audio[start:].copy()
        fade = min(len(clip), int(0.001 * self.sample_rate))
        clip[:fade] *= np.linspace(0.0, 1.0, fade, dtype=np.float32)
        return clip


def fallback_sound(sample_rate: int, seed: int) -> np.ndarray:
    """A soft pink-noise burst (80 ms), used when an effect has nothing to play."""
    rng = np.random.default_rng(seed)
    n = int(0.08 * sample_rate)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise = np.fft.irfft(spectrum, n)
    noise *= np.exp(-np.arange(n) / (0.02 * sample_rate))
    return (noise / np.max(np.abs(noise))).astype(np.float32)


def trim(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """From just before the first frame within ``TRIM_FLOOR_DB`` of the peak to the last one, at most MAX_SOURCE_S."""
    hop = 256
    rms = librosa.feature.rms(y=audio, frame_length=512, hop_length=hop, center=False)[0]
    if not len(rms) or rms.max() <= 0:
        return audio[: int(MAX_SOURCE_S * sample_rate)]
    loud = np.flatnonzero(rms >= rms.max() * 10 ** (TRIM_FLOOR_DB / 20))
    start = max(0, loud[0] * hop - int(PRE_ONSET_S * sample_rate))
    end = min(len(audio), (loud[-1] + 2) * hop)
    clip = audio[start:end][: int(MAX_SOURCE_S * sample_rate)].copy()
    fade = min(len(clip) // 4, int(0.01 * sample_rate))
    if fade:
        clip[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return clip


def _harmonic_share(audio: np.ndarray, sample_rate: int, f0: float) -> float:
    """Share of the spectrum's energy within a quarter tone of the harmonics of ``f0`` (up to 8 kHz)."""
    n = min(len(audio), 1 << 15)
    spectrum = np.abs(np.fft.rfft(audio[:n] * np.hanning(n))) ** 2
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    band = (freqs >= 0.8 * f0) & (freqs <= 8000.0)
    ratio = freqs[band] / f0
    near = np.abs(1200 * np.log2(ratio / np.maximum(np.round(ratio), 1))) <= 50
    total = float(spectrum[band].sum())
    return float(spectrum[band][near].sum()) / total if total > 0 else 0.0


def detect_root(audio: np.ndarray, sample_rate: int) -> float | None:
    """The sound's pitch in Hz when it has a clear one, else None.

    ``librosa.yin`` runs over the frames within 20 dB of the loudest; the pitch counts when most of them agree and
    the harmonics of that pitch hold a good share of the energy (a hiss or a knock fails one test or the other).
    """
    frame = 2048 if sample_rate <= 22050 else 4096
    if len(audio) < frame:
        audio = np.pad(audio, (0, frame - len(audio)))
    hop = frame // 8
    f0 = librosa.yin(audio, fmin=PITCH_FMIN, fmax=PITCH_FMAX, sr=sample_rate, frame_length=frame, hop_length=hop,
                     center=False)
    rms = librosa.feature.rms(y=audio, frame_length=frame, hop_length=hop, center=False)[0][: len(f0)]
    loud = rms >= rms.max() * 0.1
    if loud.sum() < 2:
        return None
    candidates = f0[: len(rms)][loud]
    median = float(np.median(candidates))
    agree = np.abs(1200 * np.log2(candidates / median)) <= PITCH_AGREEMENT_CENTS
    if agree.mean() < PITCHED_SHARE:
        return None
    root = _refine_root(audio, sample_rate, float(np.median(candidates[agree])))
    return root if _harmonic_share(audio, sample_rate, root) >= HARMONIC_SHARE else None


def _refine_root(audio: np.ndarray, sample_rate: int, root: float) -> float:
    """The root from the sound's first partials on a fine spectrum (yin's frames are too short to tell a few
    cents): the median of each partial's peak frequency (parabolic interpolation) divided by its number."""
    n = 1 << 16
    spectrum = np.abs(np.fft.rfft(audio[:n] * np.hanning(min(n, len(audio))), n))
    step = sample_rate / n
    estimates = []
    for k in range(1, 7):
        lo, hi = int(k * root * 0.97 / step), int(k * root * 1.03 / step) + 1
        if hi + 1 >= len(spectrum) or hi - lo < 3:
            break
        peak = lo + int(np.argmax(spectrum[lo:hi]))
        if not lo < peak < hi - 1:
            continue
        a, b, c = np.log(spectrum[peak - 1 : peak + 2] + 1e-12)
        offset = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0
        estimates.append((peak + offset) * step / k)
    return float(np.median(estimates)) if estimates else root


def find_events(audio: np.ndarray, sample_rate: int, limit: int = 4) -> list[int]:
    """Onset frames of the sound's strongest events (the start first), at least MIN_EVENT_GAP_S apart."""
    hop = 128
    envelope = librosa.onset.onset_strength(y=audio, sr=sample_rate, hop_length=hop, n_fft=512)
    peaks = librosa.onset.onset_detect(onset_envelope=envelope, sr=sample_rate, hop_length=hop, backtrack=True,
                                       units="samples")
    strength = envelope[np.minimum(peaks // hop, len(envelope) - 1)] if len(peaks) else np.zeros(0)
    events = [0]
    for onset in (int(p) for p in np.asarray(peaks)[np.argsort(-strength)]):
        if len(events) >= limit:
            break
        # an event needs some sound after it to be played
        if all(abs(onset - e) >= MIN_EVENT_GAP_S * sample_rate for e in events) and onset < len(audio) - 0.05 * sample_rate:
            events.append(onset)
    return events


def prepare_source(loaded: LoadedEffect, *, seed: int = 0) -> Source:
    """Trim, normalise and analyse the effect; a silent one gets a noise burst and a note saying so."""
    sr = loaded.sample_rate
    notes: list[str] = []
    audio = np.asarray(loaded.audio, dtype=np.float32)
    if loaded.silent or audio.size == 0 or not np.any(audio):
        audio = fallback_sound(sr, seed)
        notes.append("the effect was silent, so a soft noise burst is played instead")
    audio = trim(audio, sr)
    audio = (audio / max(float(np.max(np.abs(audio))), 1e-9)).astype(np.float32)
    light = soxr.resample(audio, sr, ANALYSIS_SR, quality="LQ").astype(np.float32) if sr > ANALYSIS_SR else audio
    light_sr = min(sr, ANALYSIS_SR)
    root = detect_root(light, light_sr)
    events = [round(e * sr / light_sr) for e in find_events(light, light_sr)]
    return Source(audio=audio, sample_rate=sr, root_hz=root, events=events, notes=notes)
