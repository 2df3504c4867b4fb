"""A content-addressed store of finished effect WAVs, so a repeated request costs a file copy, not a model run."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from pipeline.audio import write_wav
from pipeline.digests import fields_digest

DEFAULT_CACHE_DIR = Path(".wave/cache/effects")


def effect_key(
    *, engine: str, model: str | None, prompt: str, negative_prompt: str, seed: int, seconds: float, steps: int | None
) -> str:
    """sha256 over everything that decides the sound."""
    fields = {
        "engine": engine,
        "model": model,
        "prompt": prompt,
        "negative_prompt": negative_prompt,
        "seed": int(seed),
        "seconds": round(float(seconds), 4),
        "steps": steps,
    }
    return fields_digest(fields)


class EffectCache:
    def __init__(self, directory: Path | str = DEFAULT_CACHE_DIR) -> None:
        self.directory = Path(directory)

    def path_for(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.wav"

    def get(self, key: str) -> Path | None:
        path = self.path_for(key)
        return path if path.is_file() and path.stat().st_size > 0 else None

    def put(self, key: str, audio: np.ndarray, sample_rate: int) -> Path:
        """Store atomically: a crash mid-write never leaves a truncated entry behind."""
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".wav", dir=path.parent)
        os.close(fd)
        try:
            write_wav(tmp, audio, sample_rate)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    def copy_to(self, key: str, destination: Path) -> Path:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path_for(key), destination)
        return destination
