"""Artifacts (pictures, sheets, effects, mixes) stored by content hash behind a narrow interface."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from pipeline.safe_names import UnsafeNameError, safe_child

_CHUNK = 1 << 20


class ArtifactStore(Protocol):
    """Files named by the sha256 of their content: writing the same bytes twice stores them once."""

    def put_bytes(self, data: bytes, suffix: str = "") -> str: ...

    def put_file(self, path: Path) -> str: ...

    def open_path(self, key: str) -> Path:
        """A local path to read the artifact from."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[tuple[str, float]]:
        """Every stored key with its last-modified time (seconds since the epoch)."""


def _suffix(suffix: str) -> str:
    suffix = suffix.lower()
    if suffix and not suffix.startswith("."):
        suffix = "." + suffix
    if suffix and (len(suffix) > 10 or not suffix[1:].isalnum()):
        raise ValueError(f"bad artifact suffix {suffix!r}")
    return suffix


class FileArtifactStore:
    """The filesystem implementation: ``root/ab/abcdef....wav``. Writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        prefix, _, name = str(key).partition("/")
        if not name or name.startswith(".") or prefix != name[:2]:
            raise KeyError(f"not an artifact key: {key!r}")
        try:
            return safe_child(safe_child(self.root, prefix), name)
        except UnsafeNameError:
            raise KeyError(f"not an artifact key: {key!r}") from None

    def _commit(self, tmp: Path, digest: str, suffix: str) -> str:
        key = f"{digest[:2]}/{digest}{suffix}"
        final = self.root / key
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                tmp.unlink(missing_ok=True)
                os.utime(final)
            else:
                os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return key

    def put_bytes(self, data: bytes, suffix: str = "") -> str:
        digest = hashlib.sha256(data).hexdigest()
        with self._temp_file() as (handle, tmp):
            handle.write(data)
        return self._commit(tmp, digest, _suffix(suffix))

    def put_file(self, path: Path) -> str:
        path = Path(path)
        digest = hashlib.sha256()
        with open(path, "rb") as src, self._temp_file() as (dst, tmp):
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
        return self._commit(tmp, digest.hexdigest(), _suffix(path.suffix))

    @contextmanager
    def _temp_file(self) -> Iterator[tuple[BinaryIO, Path]]:
        """A temporary file in the store, removed again when writing it fails (a full disk leaves nothing)."""
        fd, name = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                yield handle, tmp
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def open_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.exists():
            raise FileNotFoundError(key)
        return path

    def read_bytes(self, key: str) -> bytes:
        return self.open_path(key).read_bytes()

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).exists()
        except KeyError:
            return False

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[tuple[str, float]]:
        for path in self.root.glob("??/*"):
            if path.is_file() and not path.name.startswith("."):
                yield f"{path.parent.name}/{path.name}", path.stat().st_mtime

    def remove_stale_temp_files(self, older_than_s: float = 3600) -> int:
        cutoff = time.time() - older_than_s
        removed = 0
        for tmp in self.root.glob(".tmp-*"):
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink(missing_ok=True)
                removed += 1
        return removed

    def copy_to(self, key: str, destination: Path) -> Path:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.open_path(key), destination)
        return destination
