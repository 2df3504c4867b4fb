"""Decoded instrument samples, shared by every sampler in the process.

A remap or a second song with the same band reuses the decoded audio instead of reading the files again. Entries
are keyed by path, size, inode and modification time, so a rebuilt instrument is read afresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from pipeline.audio import read_audio, to_mono

MAX_CACHED_FRAMES = 32 * 1024 * 1024  # 128 MiB of float32 mono audio

_lock = threading.Lock()
_decoded: OrderedDict[tuple[str, int, int, int], tuple[np.ndarray, int]] = OrderedDict()
_cached_frames = 0


def load_sample(path: Path) -> tuple[np.ndarray, int]:
    """The file as finite mono float32 (read-only) and its sample rate. Raises WaveInputError like read_audio."""
    global _cached_frames
    path = Path(path)
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_ino, stat.st_mtime_ns)
    except OSError:
        key = None
    if key is not None:
        with _lock:
            if key in _decoded:
                _decoded.move_to_end(key)
                return _decoded[key]
    raw, sample_rate = read_audio(path)
    audio = to_mono(raw)
    audio = np.where(np.isfinite(audio), audio, 0.0).astype(np.float32)
    audio.flags.writeable = False
    if key is not None and len(audio) <= MAX_CACHED_FRAMES:
        with _lock:
            _decoded[key] = (audio, sample_rate)
            _cached_frames += len(audio)
            while _cached_frames > MAX_CACHED_FRAMES:
                _, (old, _) = _decoded.popitem(last=False)
                _cached_frames -= len(old)
    return audio, sample_rate


def forget_samples() -> None:
    """Empty the cache (tests and long-lived workers that rebuild many instruments)."""
    global _cached_frames
    with _lock:
        _decoded.clear()
        _cached_frames = 0
