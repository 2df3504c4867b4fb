"""Failures say what happened: deterministic errors are not retried, bad settings, a file where a folder belongs, a
long cue, a read-only or full disk and an unknown song each get their own message, and nothing half-written stays."""

from __future__ import annotations

import errno
import io
import json
import logging
from pathlib import Path

import pytest
from arq import Retry
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from db.models import Job, JobStatus
from jobs import store as store_module
from jobs import tasks
from jobs.client import JobsClient, SubmitRequest
from pipeline.errors import WaveInputError, WaveTransientError, is_permanent, os_error_message
from wave_app import cli, ops
from wave_app.cli import EXIT_INPUT, run
from wave_core import settings as settings_module
from wave_testing.disk_faults import enospc, fill_disk
from wave_testing.jobs_helpers import picture_bytes

SHEET = {
    "scene_description": "A kitchen in the morning.",
    "mood_description": "calm",
    "engine": "test",
    "sound_sources": [
        {"name": f"thing {i}", "material": "wood", "variants": [{"id": f"thing-{i}", "play_method": "tapped"}]}
        for i in range(5)
    ],
}


def plain(text: str) -> str:
    return " ".join(text.split())


def failing(monkeypatch) -> None:
    """`wave songs` fails with an error WAVE did not foresee."""
    build = cli.build_parser

    def parser():
        built = build()
        parse = built.parse_args

        def parse_args(argv=None):
            args = parse(argv)
            args.func = lambda a: 1 / 0
            return args

        built.parse_args = parse_args
        return built

    monkeypatch.setattr(cli, "build_parser", parser)


@pytest.fixture
def sheet_file(tmp_path: Path) -> Path:
    path = tmp_path / "sheet.json"
    path.write_text(json.dumps(SHEET))
    return path


@pytest.fixture
def cli_settings(jobs_settings, monkeypatch):
    """`wave` commands in this process read these settings (their own database, store and Redis prefix)."""
    monkeypatch.setattr(ops, "get_settings", lambda: jobs_settings)
    monkeypatch.setattr(settings_module, "get_settings", lambda: jobs_settings)
    yield jobs_settings
    from redis import Redis

    redis = Redis.from_url(jobs_settings.redis_url)
    keys = list(redis.scan_iter(match=f"{jobs_settings.queue_prefix}*"))
    if keys:
        redis.delete(*keys)
    redis.close()


# --------------------------------------------------------------------------------------- permanent or passing


class _Model(BaseModel):
    n: int


def test_deterministic_failures_are_permanent():
    try:
        _Model(n="x")
    except ValidationError as exc:
        validation = exc
    for exc in (ValueError("operands could not be broadcast together with shapes (0,) (4146,)"), KeyError("a"),
                IndexError(3), ZeroDivisionError(), TypeError("x"), validation, WaveInputError("bad picture")):
        assert is_permanent(exc), exc
    for exc in (ConnectionError(), TimeoutError(), OSError(errno.EIO, "I/O"), enospc(), MemoryError(),
                RuntimeError("CUDA error: device-side assert"), WaveTransientError("busy")):
        assert not is_permanent(exc), exc


async def test_a_deterministic_crash_fails_the_job_at_once(runtime):
    job_id = await JobsClient(runtime).submit(SubmitRequest(image=picture_bytes(0), user_id="ana"))
    ctx = {"runtime": runtime, "job_try": 1}
    with pytest.raises(Retry):  # a passing fault is retried
        await tasks._fail(ctx, job_id, ConnectionError("redis went away"), "see_and_hear")
    await tasks._fail(ctx, job_id, ValueError("operands could not be broadcast (0,) (4146,)"), "see_and_hear")
    async with runtime.db() as session:
        job = await session.scalar(select(Job).where(Job.id == job_id))
    assert job.status == JobStatus.FAILED.value and job.error_id
    assert "broadcast" not in job.error  # the person sees a plain sentence; the log has the details


# ----------------------------------------------------------------------------------------------- settings


def test_a_bad_profile_is_named_not_a_traceback(monkeypatch, capsys, sheet_file, tmp_path: Path):
    monkeypatch.setenv("WAVE_PROFILE", "bogus")
    settings_module.get_settings.cache_clear()
    try:
        code = run(["hear", str(sheet_file), "--out", str(tmp_path / "out"), "--quiet"])
    finally:
        settings_module.get_settings.cache_clear()
    err = plain(capsys.readouterr().err)
    assert code == EXIT_INPUT
    assert "WAVE_PROFILE='bogus'" in err and "'lite' or 'gpu'" in err and "Traceback" not in err


def test_an_unexpected_error_with_bad_settings_still_reports_cleanly(monkeypatch, capsys):
    monkeypatch.setenv("WAVE_PROFILE", "bogus")
    settings_module.get_settings.cache_clear()
    failing(monkeypatch)
    try:
        code = run(["songs"])
    finally:
        settings_module.get_settings.cache_clear()
    err = plain(capsys.readouterr().err)
    assert code == cli.EXIT_UNEXPECTED
    assert "error id" in err and "could not be written to the log" in err and "Traceback" not in err


# ------------------------------------------------------------------------------------------ files and disks


def test_out_naming_an_existing_file_is_refused_by_name(tmp_path: Path, capsys, sheet_file):
    taken = tmp_path / "taken.txt"
    taken.write_text("keep me")
    for out in (taken, taken / "inside"):
        with pytest.raises(SystemExit) as stopped:
            run(["hear", str(sheet_file), "--out", str(out)])
        assert stopped.value.code == EXIT_INPUT
        assert "taken.txt is a file; --out takes a folder" in plain(capsys.readouterr().err)
    assert taken.read_text() == "keep me"


def test_full_disk_while_writing_effects(monkeypatch, capsys, sheet_file, tmp_path: Path):
    out = tmp_path / "out"
    fill_disk(monkeypatch, out)
    code = run(["hear", str(sheet_file), "--out", str(out), "--engine", "lite", "--quiet"])
    err = plain(capsys.readouterr().err)
    assert code == EXIT_INPUT
    assert "The disk is full" in err and "thing-0.wav" in err.replace(" ", "")
    assert "Traceback" not in err and "Logging error" not in err


def test_log_folder_that_cannot_be_written_is_said_plainly(monkeypatch, capsys, tmp_path: Path, jobs_settings):
    (jobs_settings.data_dir).mkdir(parents=True)
    (jobs_settings.data_dir / "logs").write_text("a file where the log folder should be")
    monkeypatch.setattr(settings_module, "get_settings", lambda: jobs_settings)
    failing(monkeypatch)
    assert run(["songs"]) == cli.EXIT_UNEXPECTED
    err = plain(capsys.readouterr().err)
    assert "could not be written to the log" in err and "Traceback" not in err


def test_full_disk_while_logging_leaves_no_logging_error(monkeypatch, capsys, jobs_settings):
    monkeypatch.setattr(settings_module, "get_settings", lambda: jobs_settings)

    class Full(io.StringIO):
        def write(self, text):
            raise enospc("wave.log")

    monkeypatch.setattr(logging.FileHandler, "_open", lambda self: Full())
    failing(monkeypatch)
    assert run(["songs"]) == cli.EXIT_UNEXPECTED
    err = capsys.readouterr().err
    assert "Logging error" not in err and "Traceback" not in err and "could not be written" in plain(err)


def test_os_errors_are_named_by_cause():
    assert "disk is full" in os_error_message(enospc("/x/a.wav"))
    assert "read-only" in os_error_message(OSError(errno.EROFS, "Read-only file system", "/x"))
    assert "permission denied" in os_error_message(PermissionError(errno.EACCES, "Permission denied", "/x"))
    assert "is a file where WAVE needs a folder" in os_error_message(FileExistsError(errno.EEXIST, "exists", "/x"))


# ----------------------------------------------------------------------------------------------- wave submit


def test_submit_with_an_overlong_cue(cli_settings, capsys, tmp_path: Path):
    picture = tmp_path / "p.png"
    picture.write_bytes(picture_bytes(0))
    code = run(["submit", str(picture), "--song", "auto", "--cue", "x" * 301])
    err = plain(capsys.readouterr().err)
    assert code == EXIT_INPUT and "The cue is too long (301 characters)" in err and "Traceback" not in err


def test_submit_to_a_read_only_store(cli_settings, monkeypatch, capsys, tmp_path: Path):
    picture = tmp_path / "p.png"
    picture.write_bytes(picture_bytes(0))

    def read_only(*args, dir=None, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(dir))

    monkeypatch.setattr(store_module.tempfile, "mkstemp", read_only)
    code = run(["submit", str(picture), "--song", "auto"])
    err = plain(capsys.readouterr().err)
    assert code == EXIT_INPUT and "read-only file system" in err and str(cli_settings.artifacts_dir) in err


def test_submit_on_a_full_disk_leaves_no_partial_files(cli_settings, monkeypatch, capsys, tmp_path: Path):
    picture = tmp_path / "p.png"
    picture.write_bytes(picture_bytes(0))
    fill_disk(monkeypatch, cli_settings.artifacts_dir)
    code = run(["submit", str(picture), "--song", "auto"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and "The disk is full" in plain(err)
    assert "Traceback" not in err and "Logging error" not in err
    assert not list(cli_settings.artifacts_dir.rglob(".tmp-*"))


def test_submit_a_folder_as_the_picture(cli_settings, capsys, tmp_path: Path):
    code = run(["submit", str(tmp_path), "--song", "auto"])
    assert code == EXIT_INPUT and "is a folder, not a picture" in plain(capsys.readouterr().err)


# -------------------------------------------------------------------------------------------- unknown songs


def test_render_with_an_unknown_song_fails_before_any_picture_work(monkeypatch, capsys, tmp_path: Path):
    from wave_core import engines

    def must_not_load(*args, **kwargs):
        raise AssertionError("an engine was loaded for a request with an unknown song")

    monkeypatch.setattr(engines, "vision_engine", must_not_load)
    monkeypatch.setattr(engines, "effects_engine", must_not_load)
    code = run(["render", "--song", "no_such_song", "--out", str(tmp_path / "out"), "--quiet"])
    assert code == EXIT_INPUT and "There is no song called 'no_such_song'" in plain(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_image_to_music_checks_the_song_before_looking(tmp_path: Path):
    from pipeline.image_to_music import image_to_music

    class Watching:
        name = "watching"
        looked = False

        def describe(self, image, cue=None):
            Watching.looked = True
            raise AssertionError("looked at the picture")

    with pytest.raises(WaveInputError, match="no song called"):
        image_to_music(picture_bytes(0), "no_such_song", tmp_path, vision=Watching(), effects_engine=None)
    with pytest.raises(WaveInputError, match="not found"):
        image_to_music(picture_bytes(0), str(tmp_path / "gone.mid"), tmp_path, vision=Watching(), effects_engine=None)
    assert not Watching.looked
