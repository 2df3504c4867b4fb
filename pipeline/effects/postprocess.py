"""Finishing every generated effect the same way: clean samples, silence trimmed, edges faded, level normalised."""

from __future__ import annotations

import logging

import numpy as np
import pyloudnorm

from pipeline.audio import dbfs, resample, to_mono, trim_silence

log = logging.getLogger(__name__)

TARGET_LUFS = -20.0
PEAK_CEILING_DBFS = -1.0
SILENT_DBFS = -70.0
FADE_IN_S = 0.003
FADE_OUT_S = 0.03
_MIN_LOUDNESS_SECONDS = 0.4  # pyloudnorm's gating block


def fade_edges(audio: np.ndarray, sample_rate: int, fade_in_s: float = FADE_IN_S, fade_out_s: float = FADE_OUT_S) -> np.ndarray:
    """Short raised-cosine fades so trimmed edges do not click."""
    out = audio.copy()
    n_in = min(len(out) // 4, int(fade_in_s * sample_rate))
    n_out = min(len(out) // 4, int(fade_out_s * sample_rate))
    if n_in > 1:
        out[:n_in] *= 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n_in, dtype=np.float32))
    if n_out > 1:
        out[-n_out:] *= 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, n_out, dtype=np.float32))
    return out


def normalise_level(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Integrated loudness to -20 LUFS where the clip is long enough to measure, never above -1 dBFS peak."""
    peak = float(np.max(np.abs(audio)))
    if peak <= 0:
        return audio
    gain = 1.0
    if len(audio) >= _MIN_LOUDNESS_SECONDS * sample_rate:
        loudness = pyloudnorm.Meter(sample_rate).integrated_loudness(audio.astype(np.float64))
        if np.isfinite(loudness):
            gain = 10 ** ((TARGET_LUFS - loudness) / 20)
    ceiling = 10 ** (PEAK_CEILING_DBFS / 20)
    if gain == 1.0 or peak * gain > ceiling:
        gain = ceiling / peak
    return (audio * gain).astype(np.float32)


def audio_problem(audio: np.ndarray) -> str | None:
    """Why a generated effect cannot be used ("NaN or infinite samples", "silence"), or None when it can."""
    samples = np.asarray(audio, dtype=np.float32)
    if samples.size == 0:
        return "no samples"
    if not np.isfinite(samples).all():
        return "NaN or infinite samples"
    if dbfs(to_mono(samples)) < SILENT_DBFS:
        return "silence"
    return None


def finish_effect(audio: np.ndarray, sample_rate: int, out_rate: int | None = None) -> np.ndarray:
    """Mono float32 at ``out_rate`` (default: unchanged), trimmed, faded and level-normalised.

    A silent input stays silent (a short stretch of zeros); the audio intake of later stages reports it.
    """
    mono = to_mono(np.nan_to_num(np.asarray(audio, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0))
    rate = out_rate or sample_rate
    mono = resample(mono, sample_rate, rate)
    if mono.size == 0 or dbfs(mono) < SILENT_DBFS:
        log.warning("generated effect is silent")
        return np.zeros(max(1, rate // 2), np.float32)
    mono = mono - float(np.mean(mono))
    mono = trim_silence(mono, rate, threshold_db=-50.0)
    return normalise_level(fade_edges(mono, rate), rate)
