"""What casting listens for in one effect: attack, decay, pitch, brightness, weight and noise.

All features come from the first :data:`ANALYSIS_SECONDS` of the effect at :data:`ANALYSIS_RATE`: casting only needs
the character of the sound, and a short low-rate excerpt keeps analysis of a dozen effects well under a second each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pipeline.audio import LoadedEffect, load_effect
from pipeline.types import EffectInput

ANALYSIS_RATE = 22050
ANALYSIS_SECONDS = 4.0
N_FFT = 1024
HOP = 256
LOW_BAND_HZ = 200.0
DECAY_DB = 20.0  # sustain is the time the level takes to fall this far below its peak
PITCH_FRAME = 2048  # about 93 ms: almost three periods of 30 Hz, the lowest pitch casting looks for
# Synth basses reach C1 (33 Hz) and five-string basses B0 (31 Hz); the top is a high bell or whistle.
PITCH_RANGE_HZ = (30.0, 1200.0)
PITCH_FRAMES_MAX = 48
LOUD_FRAME_DB = 30.0  # frames quieter than the peak by more than this are ignored for pitch and spectrum
VOICED_CLARITY = 0.6
STRONG_ONSET_SHARE = 0.3
HPSS_KERNEL = 17
LEAD_IN_FRAMES = 8
DECAY_FLOOR_DB = 40.0  # the decay rate is fitted from the peak down to this far below it
# A partial counts as harmonic within this share of f0 (or two pitch-spectrum bins, whichever is wider) of k * f0.
HARMONIC_TOLERANCE = 0.03
OCTAVE_SLIP_ST = 0.7  # a pitch reading this close to a whole octave away from the median is an octave error


class EffectFeatures(BaseModel):
    """Numbers casting uses for one effect, each with a unit a musician can read."""

    model_config = ConfigDict(extra="forbid")

    duration_s: float = Field(ge=0, description="length after silence trimming")
    percussive_ratio: float = Field(ge=0, le=1, description="share of energy in the percussive part (HPSS)")
    onset_rate: float = Field(ge=0, description="strong onsets per second")
    attack_strength: float = Field(ge=0, description="largest onset strength: mean rise of the log-mel bands, dB, from silence before the sound")
    attack_s: float = Field(ge=0, description="time from the start to the loudest moment")
    sustain_s: float = Field(ge=0, description=f"time from the peak until the level is {DECAY_DB:.0f} dB lower")
    pitch_clarity: float = Field(ge=0, le=1, description="median normalised autocorrelation peak; 1 = pure tone")
    f0_hz: float | None = Field(default=None, description="median fundamental of clearly pitched frames")
    centroid_hz: float = Field(ge=0, description="energy-weighted spectral centroid")
    low_share: float = Field(ge=0, le=1, description=f"share of energy below {LOW_BAND_HZ:.0f} Hz")
    flatness: float = Field(ge=0, le=1, description="energy-weighted spectral flatness; near 1 = noise")
    decay_db_per_s: float = Field(
        default=0.0, ge=0, description=f"how fast the level falls after the peak (fit down to -{DECAY_FLOOR_DB:.0f} dB); 0 = held"
    )
    harmonicity: float | None = Field(
        default=None, ge=0, le=1, description="share of energy above the fundamental lying on its harmonics; None if unpitched"
    )
    overtone_share: float | None = Field(
        default=None, ge=0, le=1, description="share of the harmonic energy above the fundamental; near 0 = a sine-like thump"
    )
    pitch_glide_st: float | None = Field(
        default=None, description="semitones the pitch moves from the first to the last third of the sound; None if unpitched"
    )
    silent: bool = False
    notes: list[str] = Field(default_factory=list)

    @property
    def pitched(self) -> bool:
        return self.f0_hz is not None

    @property
    def midi_pitch(self) -> float | None:
        return None if self.f0_hz is None else float(librosa.hz_to_midi(self.f0_hz))


def analyse_effect(effect: EffectInput) -> EffectFeatures:
    """Load ``effect.path`` (raises WaveInputError naming the file if it cannot be read) and measure it."""
    return analyse_loaded(load_effect(effect.path, sample_rate=ANALYSIS_RATE))


def analyse_file(path: Path | str) -> EffectFeatures:
    return analyse_loaded(load_effect(path, sample_rate=ANALYSIS_RATE))


def analyse_loaded(loaded: LoadedEffect) -> EffectFeatures:
    notes = list(loaded.notes)
    if loaded.silent:
        return _silent_features(notes)
    sr = loaded.sample_rate
    if sr != ANALYSIS_RATE:
        loaded = LoadedEffect(librosa.resample(loaded.audio, orig_sr=sr, target_sr=ANALYSIS_RATE), ANALYSIS_RATE)
        sr = ANALYSIS_RATE
    duration = loaded.duration_s
    audio = loaded.audio[: int(ANALYSIS_SECONDS * sr)].astype(np.float32)
    if len(audio) < PITCH_FRAME:
        audio = np.pad(audio, (0, PITCH_FRAME - len(audio)))

    spectrum = np.abs(librosa.stft(audio, n_fft=N_FFT, hop_length=HOP))
    power = spectrum**2
    frame_energy = power.sum(axis=0)
    total = float(frame_energy.sum()) + 1e-12
    loud = frame_energy >= frame_energy.max() * 10 ** (-LOUD_FRAME_DB / 10)

    # Median filtering is most of the analysis cost: every second frame and a shorter kernel cover the same
    # ~0.4 s span as librosa's default at a quarter of the cost.
    harmonic, percussive = librosa.decompose.hpss(spectrum[:, ::2], kernel_size=HPSS_KERNEL)
    h_energy, p_energy = float((harmonic**2).sum()), float((percussive**2).sum())
    freqs = librosa.fft_frequencies(sr=sr, n_fft=N_FFT)
    centroid = float((freqs[:, None] * power).sum() / total)
    low_share = float(power[freqs < LOW_BAND_HZ].sum() / total)
    flatness_per_frame = librosa.feature.spectral_flatness(S=spectrum, power=2.0)[0]
    flatness = float(np.average(flatness_per_frame[loud], weights=frame_energy[loud]))

    attack_strength, onset_rate = _onsets(power, sr, duration)

    attack, sustain = _attack_and_sustain(np.sqrt(frame_energy), sr)
    pitch = _pitch(audio, sr, np.sqrt(frame_energy))
    return EffectFeatures(
        duration_s=round(duration, 4),
        percussive_ratio=_unit(p_energy / (h_energy + p_energy + 1e-12)),
        onset_rate=round(onset_rate, 3),
        attack_strength=round(attack_strength, 3),
        attack_s=round(attack, 4),
        sustain_s=round(sustain, 4),
        pitch_clarity=_unit(pitch.clarity),
        f0_hz=None if pitch.f0 is None else round(pitch.f0, 2),
        centroid_hz=round(centroid, 1),
        low_share=_unit(low_share),
        flatness=_unit(flatness),
        decay_db_per_s=round(_decay_rate(frame_energy, sr), 2),
        harmonicity=None if pitch.harmonicity is None else _unit(pitch.harmonicity),
        overtone_share=None if pitch.overtone_share is None else _unit(pitch.overtone_share),
        pitch_glide_st=None if pitch.glide_st is None else round(pitch.glide_st, 2),
        notes=notes,
    )


def _unit(value: float) -> float:
    return round(float(min(1.0, max(0.0, value))), 4)


def _silent_features(notes: list[str]) -> EffectFeatures:
    return EffectFeatures(
        duration_s=0.0,
        percussive_ratio=0.0,
        onset_rate=0.0,
        attack_strength=0.0,
        attack_s=0.0,
        sustain_s=0.0,
        pitch_clarity=0.0,
        centroid_hz=0.0,
        low_share=0.0,
        flatness=1.0,
        silent=True,
        notes=notes + ["silent effect: cast last, wherever a sound is still missing"],
    )


def _onsets(power: np.ndarray, sr: int, duration: float) -> tuple[float, float]:
    """Strength of the sharpest onset, and strong onsets per second.

    Loading trims the silence before the sound, so a lead-in of silent frames is put back: without it the very
    first attack, usually the one that matters, has nothing to rise from. Only onsets with at least
    :data:`STRONG_ONSET_SHARE` of the sharpest one count, so the ripples of a sustained sound are not a rhythm.
    """
    mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=64)
    mel = np.concatenate([np.zeros((mel.shape[0], LEAD_IN_FRAMES)), mel], axis=1)
    envelope = librosa.onset.onset_strength(S=librosa.power_to_db(mel, ref=1e-10 + mel.max()), sr=sr, hop_length=HOP)
    onsets = librosa.onset.onset_detect(onset_envelope=envelope, sr=sr, hop_length=HOP)
    strongest = float(envelope.max()) if envelope.size else 0.0
    strong = int(np.sum(envelope[onsets] >= STRONG_ONSET_SHARE * strongest)) if strongest > 0 else 0
    # A single hit analysed over a fraction of a second would read as a fast rate; a hit needs room to count.
    return strongest, strong / max(min(duration, ANALYSIS_SECONDS), 1.0)


def _attack_and_sustain(envelope: np.ndarray, sr: int) -> tuple[float, float]:
    """Seconds from start to peak, and from peak until the envelope stays below peak - DECAY_DB.

    The envelope is the frame magnitude sum (an RMS proxy). If the sound never decays that far inside the analysed
    excerpt, sustain is the time left in the excerpt: a lower bound, which is what matters for casting.
    """
    frame_s = HOP / sr
    peak = int(np.argmax(envelope))
    floor = envelope[peak] * 10 ** (-DECAY_DB / 20)
    above = np.flatnonzero(envelope[peak:] >= floor)
    last_above = int(above[-1]) if above.size else 0
    return peak * frame_s, (last_above + 1) * frame_s


@dataclass(frozen=True)
class _PitchReading:
    clarity: float
    f0: float | None
    harmonicity: float | None
    overtone_share: float | None
    glide_st: float | None


def _decay_rate(frame_energy: np.ndarray, sr: int) -> float:
    """dB per second the level falls after its peak: a least-squares line through the frame levels (dB) from the
    peak until they first drop :data:`DECAY_FLOOR_DB` below it, or the end of the excerpt.

    A held organ or pad reads about 0, a ringing string or bell a few to a few tens, a drum hit or a stab hundreds.
    A sound that ends within a frame or two of its peak simply stops: it gets the fall to the floor over that time.
    """
    level = 10 * np.log10(frame_energy + 1e-20)
    peak = int(np.argmax(level))
    after = level[peak:] - level[peak]
    below = np.flatnonzero(after < -DECAY_FLOOR_DB)
    stop = int(below[0]) if below.size else after.size
    frame_s = HOP / sr
    if stop < 4:
        return DECAY_FLOOR_DB / (max(stop, 1) * frame_s)
    times = np.arange(stop) * frame_s
    slope = float(np.polyfit(times, after[:stop], 1)[0])
    return max(0.0, -slope)


def _pitch(audio: np.ndarray, sr: int, envelope: np.ndarray) -> _PitchReading:
    """Pitch clarity and median f0 from the normalised square difference function (McLeod's pitch method), and for
    pitched sounds how harmonic the partials are and how far the pitch glides.

    Chosen over pyin because it costs one FFT per frame and its peak value is itself a clarity in [0, 1].
    """
    frames = librosa.util.frame(audio, frame_length=PITCH_FRAME, hop_length=HOP)
    n = frames.shape[1]
    env = np.interp(np.arange(n), np.arange(len(envelope)), envelope)
    loud = np.flatnonzero(env >= env.max() * 10 ** (-LOUD_FRAME_DB / 20))
    if loud.size == 0:
        return _PitchReading(0.0, None, None, None, None)
    picks = loud[np.linspace(0, loud.size - 1, min(PITCH_FRAMES_MAX, loud.size)).astype(int)]
    x = frames[:, picks].T.astype(np.float64)
    x = x - x.mean(axis=1, keepdims=True)
    size = 2 * PITCH_FRAME
    spec = np.fft.rfft(x, n=size, axis=1)
    acf = np.fft.irfft(np.abs(spec) ** 2, n=size, axis=1)[:, :PITCH_FRAME]
    sq = x**2
    cum = np.cumsum(sq, axis=1)
    total = cum[:, -1:]
    # m(tau) = sum_{j<W-tau} x_j^2 + x_{j+tau}^2
    head = np.concatenate([total, total - cum[:, :-1]], axis=1)  # sum from tau to end
    tail = np.concatenate([total, cum[:, ::-1][:, 1:]], axis=1)  # sum from 0 to W-1-tau
    nsdf = 2 * acf / np.maximum(head + tail, 1e-12)

    lo_lag = int(sr / PITCH_RANGE_HZ[1])
    hi_lag = min(int(sr / PITCH_RANGE_HZ[0]), PITCH_FRAME // 2)
    clarities, f0s = [], []
    for row in nsdf:
        lag, value = _key_maximum(row, lo_lag, hi_lag)
        clarities.append(value)
        if lag and value >= VOICED_CLARITY:
            f0s.append(sr / lag)
    clarity = float(np.median(clarities))
    voiced_share = len(f0s) / len(clarities)
    if not f0s or voiced_share < 0.3:
        return _PitchReading(clarity, None, None, None, None)
    f0 = float(np.median(f0s))
    windowed = np.fft.rfft(x * np.hanning(PITCH_FRAME), n=size, axis=1)
    power = (np.abs(windowed) ** 2).sum(axis=0)
    harmonicity, overtone_share = _partials(power, sr, size, f0)
    return _PitchReading(clarity, f0, harmonicity, overtone_share, _glide(np.array(f0s), f0))


def _partials(power: np.ndarray, sr: int, n_fft: int, f0: float) -> tuple[float, float]:
    """Harmonicity: the share of the energy from just below f0 upwards that lies on the harmonic comb k * f0; and
    the overtone share: how much of that comb energy is above the fundamental (k >= 2).

    Strings, reeds, voices and most synth notes put nearly all their energy on the comb; bells, cowbells and other
    struck plates spread it over partials that are not whole multiples of their pitch. A bass note carries
    overtones (they are what makes it audible on small speakers); a kick or tom body is a near-sine thump.
    """
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    band = freqs >= 0.75 * f0
    nearest = np.maximum(1.0, np.round(freqs / f0)) * f0
    tolerance = max(2 * sr / n_fft, HARMONIC_TOLERANCE * f0)
    on_comb = band & (np.abs(freqs - nearest) <= tolerance)
    comb_energy = float(power[on_comb].sum())
    above_fundamental = float(power[on_comb & (nearest > 1.5 * f0)].sum())
    return comb_energy / (float(power[band].sum()) + 1e-20), above_fundamental / (comb_energy + 1e-20)


def _glide(f0s: np.ndarray, f0: float) -> float:
    """Semitones from the first third of the voiced frames to the last (negative: the pitch falls).

    Frames a whole octave off the median are octave errors of the pitch tracker, not glides, and are folded back.
    """
    semitones = 12 * np.log2(f0s / f0)
    octaves = np.round(semitones / 12) * 12
    slipped = (octaves != 0) & (np.abs(semitones - octaves) <= OCTAVE_SLIP_ST)
    semitones = np.where(slipped, semitones - octaves, semitones)
    third = max(1, semitones.size // 3)
    return float(np.median(semitones[-third:]) - np.median(semitones[:third]))


def _key_maximum(row: np.ndarray, lo_lag: int, hi_lag: int) -> tuple[float, float]:
    """McLeod's peak pick: after the first zero crossing, the first local maximum within 90% of the highest."""
    negative = np.flatnonzero(row[1:hi_lag] < 0)
    if negative.size == 0:
        return 0.0, 0.0
    start = max(lo_lag, int(negative[0]) + 1)
    seg = row[start:hi_lag]
    if seg.size < 3:
        return 0.0, 0.0
    interior = np.flatnonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:])) + 1
    if interior.size == 0:
        return 0.0, 0.0
    best = float(seg[interior].max())
    if best <= 0:
        return 0.0, 0.0
    chosen = int(interior[np.argmax(seg[interior] >= 0.9 * best)])
    a, b, c = seg[chosen - 1], seg[chosen], seg[chosen + 1]
    denom = a - 2 * b + c
    shift = 0.5 * (a - c) / denom if denom != 0 else 0.0
    return start + chosen + shift, float(min(1.0, b))
