"""Reading, checking and writing audio. Every stage that takes an effect file goes through :func:`load_effect`."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from pipeline.errors import WaveInputError

log = logging.getLogger(__name__)

MAX_EFFECT_FILE_BYTES = 200 * 1024 * 1024
MAX_EFFECT_SECONDS = 30.0  # longer effects are cut to their loudest stretch of this length
MIN_EFFECT_SECONDS = 0.05  # shorter effects are looped up to this length
SILENCE_DBFS = -60.0
MIN_SAMPLE_RATE = 4_000
MAX_SAMPLE_RATE = 384_000


@dataclass
class LoadedEffect:
    """A mono effect at ``sample_rate``, trimmed of silence and peak-normalised, with what was done to it."""

    audio: np.ndarray
    sample_rate: int
    notes: list[str] = field(default_factory=list)
    silent: bool = False

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate


def resample(audio: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """Polyphase resampling along the first axis (exact for integer ratios, good quality otherwise)."""
    if sr_from == sr_to:
        return audio.astype(np.float32, copy=False)
    g = np.gcd(int(sr_from), int(sr_to))
    return resample_poly(audio, sr_to // g, sr_from // g, axis=0).astype(np.float32)


def read_audio(path: Path | str) -> tuple[np.ndarray, int]:
    """Read any file libsndfile knows (WAV, FLAC, OGG, MP3...) as float32 ``(n,)`` or ``(n, ch)``.

    Raises WaveInputError with a plain message when the file is missing, too big or not audio.
    """
    path = Path(path)
    if not path.is_file():
        raise WaveInputError(f"Sound file not found: {path.name}")
    size = path.stat().st_size
    if size == 0:
        raise WaveInputError(f"Sound file {path.name} is empty.")
    if size > MAX_EFFECT_FILE_BYTES:
        raise WaveInputError(f"Sound file {path.name} is too large ({size // 2**20} MiB).")
    try:
        audio, sr = sf.read(str(path), dtype="float32", always_2d=False)
    except Exception as exc:  # libsndfile raises several types for broken data
        log.info("unreadable audio %s: %s", path, exc)
        raise WaveInputError(f"{path.name} is not a sound file WAVE can read (WAV, FLAC, OGG or MP3).") from exc
    if audio.size == 0:
        raise WaveInputError(f"Sound file {path.name} has no samples.")
    if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        # A header can claim any rate; resampling from an absurd one would need absurd memory.
        raise WaveInputError(
            f"Sound file {path.name} claims a sample rate of {sr:,} Hz; WAVE reads "
            f"{MIN_SAMPLE_RATE:,} to {MAX_SAMPLE_RATE:,} Hz."
        )
    return audio, int(sr)


def to_mono(audio: np.ndarray) -> np.ndarray:
    return audio.mean(axis=1).astype(np.float32) if audio.ndim == 2 else audio.astype(np.float32, copy=False)


def dbfs(audio: np.ndarray) -> float:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return 20.0 * np.log10(peak) if peak > 0 else -np.inf


def trim_silence(audio: np.ndarray, sample_rate: int, threshold_db: float = -50.0) -> np.ndarray:
    """Cut leading and trailing stretches quieter than ``threshold_db`` below the peak (keeps 5 ms margins)."""
    peak = float(np.max(np.abs(audio)))
    if peak <= 0:
        return audio
    loud = np.flatnonzero(np.abs(audio) >= peak * 10 ** (threshold_db / 20))
    margin = int(0.005 * sample_rate)
    start = max(0, int(loud[0]) - margin)
    end = min(len(audio), int(loud[-1]) + margin + 1)
    return audio[start:end]


def loudest_window(audio: np.ndarray, sample_rate: int, seconds: float) -> np.ndarray:
    """The stretch of ``seconds`` with the most energy."""
    n = int(seconds * sample_rate)
    if len(audio) <= n:
        return audio
    hop = max(1, sample_rate // 10)
    energy = np.cumsum(np.concatenate([[0.0], audio.astype(np.float64) ** 2]))
    starts = np.arange(0, len(audio) - n + 1, hop)
    best = int(starts[np.argmax(energy[starts + n] - energy[starts])])
    return audio[best : best + n]


def load_effect(path: Path | str, sample_rate: int = 44100) -> LoadedEffect:
    """Load an effect for instrument building or casting, repairing what can be repaired.

    NaN/inf samples become silence, long effects are cut to their loudest 30 s, very short ones are looped,
    silence around the sound is trimmed and the peak is normalised to -1 dBFS. A silent effect is returned with
    ``silent=True`` so callers can choose a fallback and say so.
    """
    raw, sr = read_audio(path)
    return condition_effect(raw, sr, sample_rate, name=Path(path).name)


def condition_effect(raw: np.ndarray, sr: int, sample_rate: int = 44100, name: str = "effect") -> LoadedEffect:
    notes: list[str] = []
    audio = to_mono(np.asarray(raw, dtype=np.float32))
    bad = ~np.isfinite(audio)
    if bad.any():
        notes.append(f"{name}: {int(bad.sum())} broken (NaN/inf) samples were replaced by silence")
        audio = np.where(bad, 0.0, audio).astype(np.float32)
    if len(audio) > MAX_EFFECT_SECONDS * sr:
        notes.append(f"{name}: {len(audio) / sr:.0f} s long; used its loudest {MAX_EFFECT_SECONDS:.0f} s")
        audio = loudest_window(audio, sr, MAX_EFFECT_SECONDS)
    audio = resample(audio, sr, sample_rate)
    if dbfs(audio) < SILENCE_DBFS:
        notes.append(f"{name}: silent")
        return LoadedEffect(np.zeros(int(0.5 * sample_rate), np.float32), sample_rate, notes, silent=True)
    audio = trim_silence(audio, sample_rate)
    min_len = int(MIN_EFFECT_SECONDS * sample_rate)
    if len(audio) < min_len:
        notes.append(f"{name}: only {1000 * len(audio) / sample_rate:.0f} ms long; repeated to {MIN_EFFECT_SECONDS * 1000:.0f} ms")
        audio = np.tile(audio, int(np.ceil(min_len / max(1, len(audio)))))[:min_len]
    audio = (audio / np.max(np.abs(audio)) * 10 ** (-1 / 20)).astype(np.float32)
    return LoadedEffect(audio, sample_rate, notes)


def write_wav(path: Path | str, audio: np.ndarray, sample_rate: int, subtype: str = "PCM_16") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Encoded in memory and written by Python: a full disk or a read-only folder then raises an OSError that names
    # its cause (libsndfile reports every one of them as "System error").
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(audio, -1.0, 1.0), sample_rate, subtype=subtype, format="WAV")
    path.write_bytes(buffer.getbuffer())
    return path
