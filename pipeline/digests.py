"""SHA-256 digests: of files, remembered by this process while a file stays the same (same inode, size and mtime),
and of the settings that make a cache key.

A remap reads the same effects and instrument samples again within seconds: hashing them once is enough. A file
that is replaced or rewritten has a new inode, size or modification time and is hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20
MAX_REMEMBERED = 50_000  # file names and digests: a few MB at most

_Identity = tuple[int, int, int, int]
_remembered: OrderedDict[str, tuple[_Identity, str]] = OrderedDict()
_lock = threading.Lock()


def _identity(path: Path) -> tuple[str, _Identity]:
    status = os.stat(path)
    return os.path.realpath(path), (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def fields_digest(fields: dict[str, Any]) -> str:
    """The hex SHA-256 of JSON-able ``fields``, whatever their order: a cache key of everything they name."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def file_digest(path: Path | str) -> str:
    """The hex SHA-256 of the file's content."""
    name, identity = _identity(Path(path))
    with _lock:
        known = _remembered.get(name)
        if known is not None and known[0] == identity:
            _remembered.move_to_end(name)
            return known[1]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    _remember(name, identity, digest.hexdigest())
    return digest.hexdigest()


def remember(path: Path | str, digest: str) -> None:
    """Note that ``path``, as it is now, holds content whose digest is ``digest`` (a verified copy, say)."""
    name, identity = _identity(Path(path))
    _remember(name, identity, digest)


def _remember(name: str, identity: _Identity, digest: str) -> None:
    with _lock:
        _remembered[name] = (identity, digest)
        _remembered.move_to_end(name)
        while len(_remembered) > MAX_REMEMBERED:
            _remembered.popitem(last=False)
