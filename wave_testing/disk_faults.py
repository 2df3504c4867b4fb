"""Faults of the disk, injected: a full disk (ENOSPC) without needing a tiny file system."""

from __future__ import annotations

import errno
import io
import pathlib
from pathlib import Path

from jobs import store as store_module


def enospc(path: object = "somewhere") -> OSError:
    return OSError(errno.ENOSPC, "No space left on device", str(path))


def fill_disk(monkeypatch, under: Path) -> None:
    """Every file written under ``under`` (by ``Path.write_bytes``, as WAV files are) and every artifact-store write
    fails as on a full disk, after half of the store's bytes have reached the file."""
    real_write_bytes = pathlib.Path.write_bytes
    real_fdopen = store_module.os.fdopen

    def write_bytes(self, data):
        if under in self.parents:
            raise enospc(self)
        return real_write_bytes(self, data)

    class Full(io.RawIOBase):
        def __init__(self, fd):
            self.handle = real_fdopen(fd, "wb")

        def writable(self):
            return True

        def write(self, chunk):
            self.handle.write(bytes(chunk[: len(chunk) // 2]))
            self.handle.flush()
            raise enospc(self.handle.name)

        def close(self):
            self.handle.close()
            super().close()

    monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)
    monkeypatch.setattr(store_module.os, "fdopen", lambda fd, mode="rb": Full(fd))
