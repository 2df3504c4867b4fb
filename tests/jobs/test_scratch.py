"""Each worker's scratch folder: what a killed worker leaves is removed by the next worker on the host."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jobs.scratch import PREFIX, WorkerScratch, _host_label, temporary_dir


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_worker_removes_the_folders_of_stopped_workers_on_its_host_only(tmp_path: Path) -> None:
    host = _host_label()
    stale = tmp_path / f"{PREFIX}{host}-{_dead_pid()}-abc123"
    (stale / "wave-play-x").mkdir(parents=True)
    (stale / "wave-play-x" / "mix.wav").write_bytes(b"RIFF")
    alive = tmp_path / f"{PREFIX}{host}-{os.getpid()}-def456"
    other_host = tmp_path / f"{PREFIX}otherhost-{_dead_pid()}-ghi789"
    unrelated = tmp_path / "wave-play-notours"
    impossible_pid = tmp_path / f"{PREFIX}{host}-99999999999999999999-abc"  # made by someone else, not a worker
    for folder in (alive, other_host, unrelated, impossible_pid):
        folder.mkdir()

    scratch = WorkerScratch(tmp_path)

    assert not stale.exists()
    assert alive.exists() and other_host.exists() and unrelated.exists() and impossible_pid.exists()
    assert scratch.path.parent == tmp_path and scratch.path.name.startswith(f"{PREFIX}{host}-{os.getpid()}-")
    scratch.close()
    assert not scratch.path.exists()


def test_a_symlink_named_like_a_scratch_folder_is_not_followed(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("keep")
    base = tmp_path / "tmp"
    base.mkdir()
    (base / f"{PREFIX}{_host_label()}-{_dead_pid()}-abc").symlink_to(precious)

    WorkerScratch(base).close()

    assert (precious / "keep.txt").read_text() == "keep"


def test_stage_folders_go_inside_the_scratch_folder_and_are_removed_after(tmp_path: Path) -> None:
    scratch = WorkerScratch(tmp_path)
    with temporary_dir({"scratch": scratch}, "wave-play-") as tmp:
        assert Path(tmp).parent == scratch.path and Path(tmp).name.startswith("wave-play-")
    assert not Path(tmp).exists() and scratch.path.exists()
    with temporary_dir({}, "wave-play-") as outside:  # a stage run outside a worker
        assert Path(outside).parent != scratch.path
    scratch.close()
