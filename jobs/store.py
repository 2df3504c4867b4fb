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
from typing import TYPE_CHECKING, BinaryIO, Protocol

from pipeline.safe_names import UnsafeNameError, safe_child

if TYPE_CHECKING:
    from wave_core.settings import Settings

_CHUNK = 1 << 20


class ArtifactStore(Protocol):
    """Files named by the sha256 of their content: writing the same bytes twice stores them once.

    Two implementations: :class:`FileArtifactStore` (a local folder) and ``jobs.s3store.S3ArtifactStore`` (an
    S3-compatible bucket that every host shares). :func:`open_store` picks one from the settings.
    """

    def put_bytes(self, data: bytes, suffix: str = "") -> str: ...

    def put_file(self, path: Path) -> str: ...

    def open_path(self, key: str) -> Path:
        """A local path to read the artifact from (for an object store: a verified copy in the host's cache)."""

    def read_bytes(self, key: str) -> bytes: ...

    def copy_to(self, key: str, destination: Path) -> Path: ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def url(self, key: str, expires_s: int = 3600) -> str | None:
        """A URL a platform can fetch the artifact from by itself, where the store has one."""

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[tuple[str, float]]:
        """Every stored key with its last-modified time (seconds since the epoch)."""

    def remove_stale_temp_files(self, older_than_s: float = 3600) -> int:
        """Removes what crashed writers left behind; returns how many."""

    def check(self) -> str:
        """Proves the store is reachable and writable (for ``wave doctor``); raises with what to fix."""


def open_store(settings: Settings) -> ArtifactStore:
    """The store the settings name: an S3-compatible bucket when ``store_url`` is set, else the local folder."""
    if settings.store_url:
        from jobs.s3store import S3ArtifactStore

        return S3ArtifactStore.from_settings(settings)
    return FileArtifactStore(settings.artifacts_dir)


def artifact_key(hexdigest: str, suffix: str) -> str:
    """The key of content with this sha256: ``ab/abcdef...<suffix>`` (every store names artifacts this way)."""
    return f"{hexdigest[:2]}/{hexdigest}{_suffix(suffix)}"


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
        key = artifact_key(digest, suffix)
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

    def size(self, key: str) -> int:
        return self.open_path(key).stat().st_size

    def url(self, key: str, expires_s: int = 3600) -> str | None:
        return None  # a local folder has no address other hosts or platforms can fetch from

    def check(self) -> str:
        key = self.put_bytes(b"wave doctor probe", ".txt")
        probe = self.read_bytes(key)
        self.delete(key)
        if probe != b"wave doctor probe":
            raise OSError(f"{self.root}: a stored file came back different")
        return f"{self.root}: writable (local folder: every worker and bot must run on this host or share it)"
