"""In-tune notes played by the effect itself: the whole sound drives a string tuned to the note.

A note is computed in the frequency domain (one forward and two inverse FFTs):

* the **drive** is the effect (from one of its events), already moved near the note when it has a pitch of its own
  (:func:`pitch_to`), with its spectral envelope pulled towards a musical slope by ``1 - character``;
* the **string** is an ideal lossy waveguide tuned exactly to ``f0``: ``1 / (1 - g(f) exp(-2j pi f D / sr))`` with
  ``D = sr / f0`` evaluated on the FFT grid, an exact fractional delay whose resonances sit on ``k * f0``. Driven by
  the whole effect it keeps the effect's time structure and texture and adds a clear pitch;
* the **dry** effect is mixed back in by ``character`` (0: clean string, 1: mostly the raw sound);
* a short clean pluck under the drive gives every note a fundamental, which is then lifted to within 6 dB of the
  strongest partial so the pitch is heard where the note is written (not an octave up).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr
from scipy import fft

from pipeline.instruments.spectrum import highpass_curve, lowpass_curve, sample_envelope, spectral_tilt

_EPS = 1e-9
MAX_FOLDED_SHIFT = 6.0  # semitones a pitched effect is resampled by at most; whole octaves are left to the string
MAX_FUNDAMENTAL_LIFT_DB = 30.0
HARMONICS_CHECKED_HZ = 8000.0
SOFT_CUTOFF_MAX_HZ = 3000.0
BRIEF_RING_S = 0.1  # T60 of the string the near-dry sound passes through


@dataclass(frozen=True)
class Voicing:
    """How one session turns an effect into notes."""

    decay_s: float  # T60 of the string's fundamental at 110 Hz (higher notes ring a little shorter)
    damping_hz: float  # partials around this frequency decay twice as fast as the fundamental
    tilt_db_per_octave: float  # the musical slope the clean end of the character control leans to
    pluck_share: float  # level of the clean pluck in the drive at character 0 (relative to the effect)
    dry_share: float  # level of the dry effect at character 1, relative to the string
    soft_cutoff_harmonic: float  # soft velocity layer: low-pass at this harmonic number (at least 900 Hz)
    fundamental_within_db: float  # the fundamental is lifted to at least this far below the strongest partial


def folded_shift(root_hz: float, f0: float) -> float:
    """Semitones to move a sound pitched at ``root_hz`` onto a harmonic of ``f0``: the note's pitch class,
    within half an octave, so a far-away sound keeps its register and only the string supplies the octave."""
    semitones = 12.0 * np.log2(f0 / root_hz)
    return float(semitones - 12.0 * np.round(semitones / 12.0))


def pitch_to(audio: np.ndarray, semitones: float) -> np.ndarray:
    """``audio`` read faster or slower by ``semitones`` (resampling, as a sampler does; soxr's high quality)."""
    if abs(semitones) < 1e-3:
        return audio
    ratio = 2.0 ** (semitones / 12.0)
    return soxr.resample(audio, ratio, 1.0, quality="HQ").astype(np.float32)


def string_response(freqs: np.ndarray, sample_rate: int, f0: float, decay_s: float, damping_hz: float) -> np.ndarray:
    """Frequency response of a lossy waveguide string tuned exactly to ``f0`` (resonances at k * f0).

    Scaled by ``sqrt(1 - g(f)^2)`` so its average power gain is 1 at every frequency: the string adds a pitch
    without changing the long-term spectral envelope of what drives it (a plain comb would darken it, since high
    partials ring shorter).
    """
    delay = sample_rate / f0
    decay = decay_s / (1.0 + (freqs / np.float32(damping_hz)) ** 2)
    loss = np.exp(np.float32(-3.0 * np.log(10.0) * delay / sample_rate) / np.maximum(decay, np.float32(1e-3)))
    phase = (freqs * np.float32(2.0 * np.pi * delay / sample_rate)).astype(np.float32)
    flat = np.sqrt(1.0 - loss**2).astype(np.float32)
    return flat / (1.0 - loss * (np.cos(phase) - 1j * np.sin(phase)).astype(np.complex64))


def _decay_for(voicing: Voicing, f0: float) -> float:
    return voicing.decay_s * float(np.clip((110.0 / f0) ** 0.25, 0.45, 1.3))


def _rms(spectrum: np.ndarray) -> float:
    return float(np.sqrt(np.sum(np.abs(spectrum) ** 2))) + _EPS


def _lift_fundamental(spectrum: np.ndarray, freqs: np.ndarray, f0: float, within_db: float) -> None:
    """Raise the band around ``f0`` (in place) until the fundamental is ``within_db`` of the strongest partial."""
    step = float(freqs[1])
    harmonics = f0 * np.arange(1, max(2, int(min(HARMONICS_CHECKED_HZ, freqs[-1]) / f0)) + 1)
    centres = np.round(harmonics / step).astype(int)
    centres = centres[centres < len(freqs) - 3]
    if not len(centres):
        return
    near = np.clip(centres[:, None] + np.arange(-2, 3)[None, :], 0, len(freqs) - 1)
    peaks = np.abs(spectrum[near]).max(axis=1)
    wanted = peaks.max() * 10 ** (within_db / 20)
    if peaks[0] >= wanted:
        return
    lift = min(wanted / (peaks[0] + _EPS), 10 ** (MAX_FUNDAMENTAL_LIFT_DB / 20))
    band = (freqs > 0.5 * f0) & (freqs < 1.5 * f0)
    spectrum[band] *= np.float32(lift)


def string_notes(
    drive: np.ndarray,
    colour: tuple[np.ndarray, np.ndarray],
    sample_rate: int,
    f0: float,
    voicing: Voicing,
    character: float,
    length: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(hard, soft) velocity layers of ``length`` samples: ``drive`` played through a string tuned to ``f0``.

    ``colour`` is the drive's long-term spectral envelope (:func:`~pipeline.instruments.spectrum.average_envelope`).
    """
    n_fft = fft.next_fast_len(length, real=True)
    freqs = fft.rfftfreq(n_fft, 1.0 / sample_rate).astype(np.float32)
    spectrum = fft.rfft(drive[:length], n_fft).astype(np.complex64)
    own = sample_envelope(colour, freqs, floor_db=-60.0)
    above = freqs >= 0.6 * f0
    tilt = spectral_tilt(freqs, f0, voicing.tilt_db_per_octave)
    highpass = highpass_curve(freqs, 0.6 * f0)
    # Pull the effect's envelope towards the slope by (1 - character): 0 gives the slope, 1 the effect's own colour.
    correction = (tilt / tilt[above].max() / (own / own[above].max())) ** np.float32(1.0 - character)
    coloured = spectrum * correction
    drive_spectrum = coloured * highpass

    pluck_delay_s = 0.002
    delay_phase = freqs * np.float32(2.0 * np.pi * pluck_delay_s)
    pluck = tilt * (np.cos(delay_phase) - 1j * np.sin(delay_phase)).astype(np.complex64) * highpass
    pluck *= np.float32(voicing.pluck_share * (1.0 - 0.7 * character) * _rms(drive_spectrum) / _rms(pluck))

    string = (drive_spectrum + pluck) * string_response(freqs, sample_rate, f0, _decay_for(voicing, f0), voicing.damping_hz)
    # The near-dry sound keeps the effect's texture, through a string that rings only briefly: wide harmonic
    # peaks, a periodic lilt the ear and pyin hear as the note, and the noise between them left in place. The
    # fundamental's band belongs to the tuned string: a strong sound under or near it (a hum an octave down)
    # would pull the note's pitch.
    brief = string_response(freqs, sample_rate, f0, BRIEF_RING_S, 4.0 * voicing.damping_hz)
    dry = coloured * highpass_curve(freqs, 1.5 * f0, order=8) * brief
    note = string / np.float32(_rms(string)) + dry * np.float32(voicing.dry_share * character / _rms(dry))
    _lift_fundamental(note, freqs, f0, voicing.fundamental_within_db)
    hard = fft.irfft(note, n_fft)[:length].astype(np.float32)
    note *= lowpass_curve(freqs, max(900.0, min(voicing.soft_cutoff_harmonic * f0, SOFT_CUTOFF_MAX_HZ)))
    soft = fft.irfft(note, n_fft)[:length].astype(np.float32)
    return hard, soft
