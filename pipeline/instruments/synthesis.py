"""In-tune melodic notes made from an effect's own sound.

Two voices, both computed in the frequency domain so a note costs a couple of FFTs:

* :func:`plucked_notes` (bass, guitar): the effect's attack excites an ideal digital waveguide string. The string's
  transfer function ``1 / (1 - g(f) exp(-2j pi f D / sr))`` with loop delay ``D = sr / f0`` is evaluated on the
  FFT grid, which gives an exact fractional delay: its resonances sit exactly on ``k * f0``, so the note is in tune
  whatever the effect is. ``g(f)`` is the loss per round trip, set from a decay time that shortens for higher
  partials, as on a real string.
* :func:`sustained_notes` (keyboard): the same string rings out the effect's attack, then a periodic tone takes over
  whose harmonics follow the effect's spectral envelope (spectral-envelope transfer), with a breath of the effect's
  colour between them. The periodic part is built as an exact whole number of periods, so it loops seamlessly.

The effect's colour is blended with a musical slope (``colour_share``) so a hiss still has a fundamental and a
thump still has overtones; a short share of the raw attack is mixed back on top so the note starts like its source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft

from pipeline.instruments.excitation import Excitation
from pipeline.instruments.spectrum import (
    highpass_curve,
    lowpass_curve,
    sample_envelope,
    smooth_log_frequency,
    spectral_tilt,
)

_EPS = 1e-9
MAX_PARTIAL_HZ = 16000.0
EFFECT_SHARE = 0.6  # level of the effect's attack in the string's drive, relative to the clean pluck
MAX_EFFECT_PEAK = 1.0  # how far a bin of the whitened attack may stand above its smoothed envelope


@dataclass(frozen=True)
class Voicing:
    """How one session turns an effect into notes."""

    seconds: float  # length of a plucked sample; for sustained ones, how long the attack is kept before the loop
    decay_s: float  # T60 of the fundamental at 110 Hz (higher notes decay a little faster)
    damping_hz: float  # partials around this frequency decay twice as fast as the fundamental
    excitation_s: float  # how much of the effect's attack drives the string
    colour_share: float  # 0: a plain musical slope, 1: the effect's own spectral envelope
    colour_range_db: float  # the colour is floored this far below its peak, so one resonance cannot swamp a note
    tilt_db_per_octave: float
    transient_share: float  # level of the raw effect attack mixed on top, relative to the note's peak
    transient_s: float
    soft_cutoff_harmonic: float  # soft velocity layer: low-pass at this harmonic number (at least 900 Hz)


def _decay_for(voicing: Voicing, f0: float) -> float:
    return voicing.decay_s * float(np.clip((110.0 / f0) ** 0.25, 0.45, 1.3))


def harmonic_target(excitation: Excitation, voicing: Voicing, f0: float, freqs: np.ndarray) -> np.ndarray:
    """The note's spectral envelope: the effect's colour blended with a musical slope.

    The fundamental is kept within 6 dB of the strongest harmonic, so a sound whose energy sits high up (a hiss, a
    glass ring) still gives a note whose pitch is heard where it is played, not an octave or a fifth above.
    """
    colour = sample_envelope(excitation.colour, freqs, floor_db=voicing.colour_range_db)
    tilt = spectral_tilt(freqs, f0, voicing.tilt_db_per_octave)
    target = colour**voicing.colour_share * tilt ** (1.0 - voicing.colour_share)
    harmonic_bins = np.searchsorted(freqs, f0 * np.arange(1, int(freqs[-1] / f0) + 1))
    harmonic_bins = harmonic_bins[harmonic_bins < len(freqs)]
    if len(harmonic_bins):
        strongest = float(target[harmonic_bins].max())
        near_fundamental = (freqs > 0.5 * f0) & (freqs < 1.5 * f0)
        target[near_fundamental] = np.maximum(target[near_fundamental], 0.5 * strongest)
    return target


def _shaped_excitation_spectrum(
    excitation: Excitation, voicing: Voicing, f0: float, n_fft: int, freqs: np.ndarray
) -> np.ndarray:
    """What drives the string: a clean pluck shaped like the target envelope plus the effect's own attack.

    The effect's attack is whitened by its smoothed envelope and re-coloured with the target, so it keeps its
    phases and fine structure (its character) but not its level balance. Alone, a short noisy attack would give
    each harmonic a random level (one Rayleigh draw per harmonic) and some notes would be heard an octave or a
    fifth off; the clean pluck underneath keeps every harmonic near the target level.
    """
    attack = excitation.attack(voicing.excitation_s)
    spectrum = fft.rfft(attack, n_fft)
    own_envelope = smooth_log_frequency(np.abs(spectrum), freqs, 0.5) + _EPS
    target = harmonic_target(excitation, voicing, f0, freqs)
    pluck_delay_s = 0.003  # the clean pluck is zero-phase; a small delay keeps its ringing after the onset
    delay_phase = freqs * np.float32(2.0 * np.pi * pluck_delay_s)
    pluck = (np.cos(delay_phase) - 1j * np.sin(delay_phase)).astype(np.complex64)
    whitened = spectrum / own_envelope
    # A strong partial of a tonal effect must not outweigh the note's own harmonics.
    whitened *= np.minimum(1.0, MAX_EFFECT_PEAK / (np.abs(whitened) + _EPS))
    drive = pluck + EFFECT_SHARE * whitened
    return drive * target * highpass_curve(freqs, 0.6 * f0)


def string_response(freqs: np.ndarray, sample_rate: int, f0: float, decay_s: float, damping_hz: float) -> np.ndarray:
    """Frequency response of a lossy waveguide string tuned exactly to ``f0`` (resonances at k * f0)."""
    delay = sample_rate / f0
    decay = decay_s / (1.0 + (freqs / np.float32(damping_hz)) ** 2)
    loss = np.exp(np.float32(-3.0 * np.log(10.0) * delay / sample_rate) / np.maximum(decay, np.float32(1e-3)))
    phase = (freqs * np.float32(2.0 * np.pi * delay / sample_rate)).astype(np.float32)
    return 1.0 / (1.0 - loss * (np.cos(phase) - 1j * np.sin(phase)).astype(np.complex64))


def _transient(excitation: Excitation, voicing: Voicing, f0: float) -> np.ndarray:
    """The raw start of the effect, high-passed just under the note so a thump cannot blur the note's pitch."""
    raw = excitation.attack(voicing.transient_s)
    raw = raw * np.linspace(1.0, 0.0, len(raw), dtype=np.float32) ** 2
    n_fft = fft.next_fast_len(2 * len(raw), real=True)
    freqs = fft.rfftfreq(n_fft, 1.0 / excitation.sample_rate).astype(np.float32)
    return fft.irfft(fft.rfft(raw, n_fft) * highpass_curve(freqs, 0.9 * f0), n_fft)[: len(raw)].astype(np.float32)


def _add_transient(note: np.ndarray, raw: np.ndarray, voicing: Voicing, scale: float | None = None) -> float:
    """Mix the raw attack on top of ``note`` in place; returns the level used so other layers can match it."""
    if scale is None:
        scale = voicing.transient_share * (float(np.max(np.abs(note))) + _EPS) / (float(np.max(np.abs(raw))) + _EPS)
    n = min(len(raw), len(note))
    note[:n] += scale * raw[:n]
    return scale


def _rung_layers(excitation: Excitation, f0: float, voicing: Voicing, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The string rung by the effect's attack, as (hard, soft) velocity layers of ``n`` samples."""
    sr = excitation.sample_rate
    n_fft = fft.next_fast_len(n, real=True)
    freqs = fft.rfftfreq(n_fft, 1.0 / sr).astype(np.float32)
    spectrum = _shaped_excitation_spectrum(excitation, voicing, f0, n_fft, freqs)
    spectrum *= string_response(freqs, sr, f0, _decay_for(voicing, f0), voicing.damping_hz)
    hard = fft.irfft(spectrum, n_fft)[:n].astype(np.float32)
    spectrum *= lowpass_curve(freqs, max(900.0, voicing.soft_cutoff_harmonic * f0))
    soft = fft.irfft(spectrum, n_fft)[:n].astype(np.float32)
    return hard, soft


def plucked_notes(excitation: Excitation, f0: float, voicing: Voicing) -> tuple[np.ndarray, np.ndarray]:
    """A decaying string note at exactly ``f0`` excited by the effect's attack, as (hard, soft) layers."""
    sr = excitation.sample_rate
    layers = _rung_layers(excitation, f0, voicing, int(voicing.seconds * sr))
    scale = None
    fade = int(0.05 * sr)
    raw = _transient(excitation, voicing, f0)
    for note in layers:
        scale = _add_transient(note, raw, voicing, scale)
        note[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return layers


def periodic_tones(
    excitation: Excitation, f0: float, voicing: Voicing, *, loop_s: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One loop of a steady tone: a whole number of periods of ``f0`` whose harmonics follow the effect's colour.

    Each harmonic also gets two faint neighbours one loop-frequency away, which makes it breathe slowly (as the
    noise in the effect would) while the loop stays exactly periodic. Returns (hard, soft) layers, scaled so the
    hard one has RMS 1.
    """
    sr = excitation.sample_rate
    periods = max(1, round(f0 * loop_s))
    length = round(periods * sr / f0)
    n_bins = length // 2 + 1
    freqs = (np.arange(n_bins) * sr / length).astype(np.float32)
    target = harmonic_target(excitation, voicing, f0, freqs)
    spectrum = np.zeros(n_bins, np.complex64)
    harmonics = np.arange(1, int(min(MAX_PARTIAL_HZ, 0.45 * sr) / f0) + 1)
    bins = harmonics * periods
    bins = bins[bins < n_bins - 1]
    phases = np.exp(2j * np.pi * rng.random((3, len(bins))))
    spectrum[bins] = target[bins] * phases[0]
    if periods > 2:
        spectrum[bins - 1] += 0.18 * target[bins] * phases[1]
        spectrum[bins + 1] += 0.18 * target[bins] * phases[2]
    breath = target * 10 ** (-34 / 20) * np.exp(2j * np.pi * rng.random(n_bins)) * highpass_curve(freqs, 0.8 * f0)
    spectrum += breath * np.sqrt(len(bins) / max(1, n_bins))
    spectrum[0] = 0.0
    hard = fft.irfft(spectrum, length).astype(np.float32)
    spectrum *= lowpass_curve(freqs, max(900.0, voicing.soft_cutoff_harmonic * f0))
    soft = fft.irfft(spectrum, length).astype(np.float32)
    norm = float(np.sqrt(np.mean(hard**2))) + _EPS
    return hard / norm, soft / norm


def sustained_notes(
    excitation: Excitation, f0: float, voicing: Voicing, *, loop_s: float, rng: np.random.Generator
) -> tuple[tuple[np.ndarray, np.ndarray], int]:
    """Notes that ring the effect's attack into a steady tone: ((hard, soft), length of one seamless loop).

    Each note holds the attack (``voicing.seconds``) followed by two copies of the steady loop, so a loop can be
    cut anywhere in the last copy's span.
    """
    sr = excitation.sample_rate
    tones = periodic_tones(excitation, f0, voicing, loop_s=loop_s, rng=rng)
    loop_length = len(tones[0])
    head = int(voicing.seconds * sr)
    n = head + 2 * loop_length
    rung = _rung_layers(excitation, f0, voicing, n)
    ringing_norm = float(np.sqrt(np.mean(rung[0][: head // 2] ** 2))) + _EPS
    # The ringing must have died before the loop so the loop holds only the periodic tone.
    fade_out = np.zeros(n, np.float32)
    fade_out[: head // 2] = 1.0
    fade_out[head // 2 : head] = np.cos(np.linspace(0.0, np.pi / 2, head - head // 2, dtype=np.float32)) ** 2
    swell = np.minimum(1.0, np.arange(n, dtype=np.float32) / (0.03 * sr))
    notes = tuple(
        0.8 * ringing * fade_out / ringing_norm + 0.5 * swell * np.resize(tone, n) for ringing, tone in zip(rung, tones)
    )
    scale = None
    raw = _transient(excitation, voicing, f0)
    for note in notes:
        scale = _add_transient(note, raw, voicing, scale)
    return notes, loop_length
