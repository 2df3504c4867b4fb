"""Inputs and worker harnesses for the jobs tests."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import mido
import numpy as np
from PIL import Image

from jobs.client import SubmitRequest
from jobs.worker import run_workers
from wave_core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
WAVE_WORKER = ("wave_app.cli", "worker", "--queue", "all")


def picture_bytes(seed: int = 0, size: int = 96) -> bytes:
    """A small real photo (scikit-image's coffee), shifted per seed so that requests differ."""
    from skimage import data

    image = Image.fromarray(np.roll(data.coffee(), seed * 7, axis=1)).resize((size, size))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def short_song_midi(seconds: float = 6.0) -> bytes:
    """A short four-part MIDI song (drums, bass, guitar, keys) that keeps the jobs tests quick."""
    song = mido.MidiFile(ticks_per_beat=480)
    tempo = mido.bpm2tempo(120)
    beats = int(seconds * 2)
    parts = [("drums", 9, None, [36, 42, 38, 42]), ("bass", 0, 33, [40, 43, 45, 43]),
             ("guitar", 1, 25, [52, 55, 57, 59]), ("keys", 2, 0, [64, 67, 69, 67])]
    for name, channel, program, pitches in parts:
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=name, time=0))
        if channel == 0:
            track.append(mido.MetaMessage("set_tempo", tempo=tempo, time=0))
        if program is not None:
            track.append(mido.Message("program_change", channel=channel, program=program, time=0))
        for beat in range(beats):
            pitch = pitches[beat % len(pitches)]
            track.append(mido.Message("note_on", channel=channel, note=pitch, velocity=90, time=0))
            track.append(mido.Message("note_off", channel=channel, note=pitch, velocity=0, time=440))
            track.append(mido.Message("note_off", channel=channel, note=0, velocity=0, time=40))
        song.tracks.append(track)
    buffer = io.BytesIO()
    song.save(file=buffer)
    return buffer.getvalue()


def request(user: str = "ana", seed: int = 0, **kw) -> SubmitRequest:
    """A job request with a small picture and a short song, from a Discord user."""
    return SubmitRequest(image=picture_bytes(seed), midi=short_song_midi(), user_id=user, platform="discord", **kw)


@asynccontextmanager
async def workers(settings: Settings, queues: tuple[str, ...] = ("gpu", "cpu"), **kwargs):
    """In-process workers for both queues, stopped on exit."""
    task = asyncio.create_task(run_workers(settings, list(queues), **kwargs))
    try:
        yield task
    finally:
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):
            pass


def settings_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in settings.model_dump(mode="json").items():
        if value is not None:
            env[f"WAVE_{name.upper()}"] = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def worker_temp_dir(test_dir: Path) -> Path:
    """The temporary folder of the worker processes started for the test whose folder is ``test_dir``."""
    path = test_dir / "worker-tmp"
    path.mkdir(exist_ok=True)
    return path


class WorkerProcess:
    """``wave worker --queue all`` (or another ``python -m`` command) in its own process, for crash tests."""

    def __init__(self, settings: Settings, log_path: Path, *, command: tuple[str, ...] = WAVE_WORKER,
                 env: dict[str, str] | None = None) -> None:
        self.log = open(log_path, "ab")
        # The workers of one test share a temporary folder inside the test's own, as the workers of a host share
        # /tmp: what a killed worker leaves goes with the test's folder, and a crash test can see it swept.
        scratch = worker_temp_dir(log_path.parent)
        # The compiled-kernel cache is this test process's (numba compiles on a stage's first call and writes the
        # cache then): kill a worker only before its first render, or after another process has filled the cache.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=ROOT, env={**settings_env(settings), "TMPDIR": str(scratch), **(env or {})},
            stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> float:
        """SIGKILL; returns the moment the process was certainly gone."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        return time.time()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()
