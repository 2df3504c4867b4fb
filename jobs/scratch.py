"""A worker's own folder for its stages' temporary files.

A worker killed in the middle of a stage cannot remove what that stage was writing; on a host that restarts
workers for months, those folders would fill the disk. Each worker therefore keeps its temporary files under one
folder named after its host and process; a worker that starts removes the folders of workers on its host whose
process is gone, and a worker that stops removes its own.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Self

log = logging.getLogger(__name__)

PREFIX = "wave-worker-"


def _host_label() -> str:
    """The host name with nothing but letters, digits and dots, so it cannot be confused with the pid after it."""
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64] or "host"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OverflowError:  # not a pid this system can have: not a folder a worker made
        return True
    return True


def remove_stale(base: Path, host: str) -> int:
    """Removes the scratch folders under ``base`` of this host's workers whose process is gone; returns how many.

    Folders of other hosts (a shared temporary folder) are left alone: their processes cannot be checked from here.
    """
    own = re.compile(rf"^{re.escape(PREFIX)}{re.escape(host)}-([1-9]\d{{0,9}})-[A-Za-z0-9_]+$")
    removed = 0
    for entry in base.glob(f"{PREFIX}*"):
        match = own.match(entry.name)
        if not match or entry.is_symlink() or not entry.is_dir() or _process_alive(int(match.group(1))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += not entry.exists()
    return removed


class WorkerScratch:
    """This process's scratch folder under ``base`` (the system's temporary folder by default)."""

    def __init__(self, base: Path | None = None) -> None:
        self.base = Path(base or tempfile.gettempdir())
        host = _host_label()
        removed = remove_stale(self.base, host)
        if removed:
            log.info("removed %d scratch folder(s) left by stopped workers in %s", removed, self.base)
        self.path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{host}-{os.getpid()}-", dir=self.base))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def temporary(self, prefix: str) -> tempfile.TemporaryDirectory:
        """A temporary folder inside the scratch folder, removed when its ``with`` block ends."""
        return tempfile.TemporaryDirectory(prefix=prefix, dir=self.path)

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def temporary_dir(ctx: dict, prefix: str) -> tempfile.TemporaryDirectory:
    """A stage's temporary folder: in its worker's scratch folder, or the system's when run outside a worker."""
    scratch = ctx.get("scratch")
    return scratch.temporary(prefix) if scratch is not None else tempfile.TemporaryDirectory(prefix=prefix)
