"""Writing the master: a WAV plus a compressed copy small enough for chat uploads."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import soundfile as sf

from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.mix.master import MasterResult

log = logging.getLogger(__name__)

UPLOAD_LIMIT_BYTES = 10 * 1024 * 1024  # Discord's per-file limit
SIZE_MARGIN = 0.9  # container overhead and encoder variation
# Constant-bitrate MP3 steps as libsndfile maps them from its compression level (0 = 320 kbit/s).
MP3_LEVEL_KBPS = ((0.0, 320), (0.25, 256), (0.4, 192), (0.5, 160), (0.6, 128), (0.75, 96), (0.9, 64))
# Vorbis quality steps (compression level) with a generous bitrate estimate for dense stereo music.
OGG_LEVEL_KBPS = ((0.3, 224), (0.5, 160), (0.7, 112), (0.9, 80))
PREFERRED_KBPS = 192


def fitting_level(steps: tuple[tuple[float, int], ...], seconds: float) -> tuple[float, int]:
    """The best quality step whose size stays under the upload limit for ``seconds`` of audio."""
    budget_kbps = UPLOAD_LIMIT_BYTES * SIZE_MARGIN * 8 / 1000 / max(seconds, 1e-3)
    fitting = [(level, kbps) for level, kbps in steps if kbps <= min(budget_kbps, PREFERRED_KBPS + 40)]
    return fitting[0] if fitting else steps[-1]


def compressed_formats() -> list[str]:
    """Compressed formats this soundfile build can write, best first."""
    available = sf.available_formats()
    return [name.lower() for name in ("MP3", "OGG") if name in available]


def write_compressed(
    audio: np.ndarray, sample_rate: int, out_dir: Path, compressed_format: str = "mp3"
) -> Path:
    formats = compressed_formats()
    if not formats:
        raise WaveEngineError("This system's libsndfile writes neither MP3 nor Ogg Vorbis.")
    fmt = compressed_format.lower()
    if fmt not in ("mp3", "ogg"):
        raise WaveInputError(f"Unknown compressed format '{compressed_format}' (use mp3 or ogg).")
    if fmt not in formats:
        log.info("%s is not available in this libsndfile; writing %s", fmt, formats[-1])
        fmt = formats[-1]
    seconds = len(audio) / sample_rate
    clipped = np.clip(audio, -1.0, 1.0)
    path = out_dir / f"mix.{fmt}"
    if fmt == "mp3":
        level, _ = fitting_level(MP3_LEVEL_KBPS, seconds)
        sf.write(path, clipped, sample_rate, format="MP3", subtype="MPEG_LAYER_III",
                 compression_level=level, bitrate_mode="CONSTANT")
    else:
        level, _ = fitting_level(OGG_LEVEL_KBPS, seconds)
        sf.write(path, clipped, sample_rate, format="OGG", subtype="VORBIS", compression_level=level)
    if path.stat().st_size > UPLOAD_LIMIT_BYTES:
        log.warning("compressed mix is %d bytes, over the upload limit", path.stat().st_size)
    return path


def write_mix(result: MasterResult, out_dir: Path, compressed_format: str = "mp3") -> tuple[Path, Path]:
    """Write ``mix.wav`` (24-bit stereo) and ``mix.mp3`` (or ``mix.ogg``) into ``out_dir``; return both."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wav = out_dir / "mix.wav"
    sf.write(wav, np.clip(result.audio, -1.0, 1.0), result.sample_rate, subtype="PCM_24")
    return wav, write_compressed(result.audio, result.sample_rate, out_dir, compressed_format)
