"""What a melodic instrument takes from its effect: an attack to excite the resonator and a spectral colour."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.audio import LoadedEffect
from pipeline.instruments.spectrum import average_envelope

ONSET_THRESHOLD = 0.1  # fraction of the peak that counts as the start of the sound
PRE_ONSET_S = 0.002


@dataclass
class Excitation:
    """The parts of an effect a melodic voice is made of."""

    audio: np.ndarray  # the effect from just before its onset on (mono float32, peak 1)
    sample_rate: int
    colour: tuple[np.ndarray, np.ndarray]  # (freqs, magnitude) long-term spectral envelope, peak 1
    notes: list[str] = field(default_factory=list)

    def attack(self, seconds: float) -> np.ndarray:
        """The first ``seconds`` of the sound with a short fade-out, so a slice never ends on a click."""
        n = max(16, min(len(self.audio), int(seconds * self.sample_rate)))
        clip = self.audio[:n].copy()
        fade = min(n // 2, int(0.005 * self.sample_rate))
        clip[n - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        return clip


def fallback_excitation(sample_rate: int, seed: int) -> np.ndarray:
    """A soft pink-noise pluck (80 ms), used when an effect has nothing to excite a string with."""
    rng = np.random.default_rng(seed)
    n = int(0.08 * sample_rate)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise = np.fft.irfft(spectrum, n)
    noise *= np.exp(-np.arange(n) / (0.02 * sample_rate))
    return (noise / np.max(np.abs(noise))).astype(np.float32)


def extract_excitation(loaded: LoadedEffect, *, seed: int = 0) -> Excitation:
    """Find the effect's onset and measure its colour; a silent effect gets a noise pluck and a note saying so."""
    sr = loaded.sample_rate
    notes: list[str] = []
    audio = np.asarray(loaded.audio, dtype=np.float32)
    if loaded.silent or audio.size == 0 or not np.any(audio):
        audio = fallback_excitation(sr, seed)
        notes.append("the effect was silent, so a soft noise pluck excites the instrument instead")
    peak = float(np.max(np.abs(audio)))
    onset = int(np.argmax(np.abs(audio) >= ONSET_THRESHOLD * peak))
    start = max(0, onset - int(PRE_ONSET_S * sr))
    audio = audio[start:] / peak
    return Excitation(audio=audio.astype(np.float32), sample_rate=sr, colour=average_envelope(audio, sr), notes=notes)
