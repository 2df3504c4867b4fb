"""Crash recovery on real Redis: stage leases, the reaper finding stopped workers from their heartbeats, Redis
restarts, burst mode, and a crash loop of SIGKILLed worker processes at default time limits."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from arq.constants import in_progress_key_prefix, job_key_prefix
from redis.asyncio import Redis

from bot.common import progress_text
from db.models import Job, JobStatus
from jobs.client import JobsClient
from jobs.events import WORKER_LOST_MESSAGE, JobEvent
from jobs.liveness import Liveness, StageAbandoned, lease_key, leased
from jobs.queues import render_stage, vision_stage
from jobs.reaper import LEASE_GRACE_S, reap
from jobs.runtime import Runtime
from jobs.worker import run_workers
from pipeline.progress import Progress, Stage, ignore_progress
from wave_core.settings import Settings
from wave_testing.crash_loop import crash_loop
from wave_testing.jobs_helpers import request, workers

DEFAULTS = Settings.model_fields


async def wait_until(condition, what: str, timeout_s: float = 120.0):
    """Poll ``condition`` (sync or async) until it is truthy; fail naming ``what`` after a generous ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


class HeldPipeline:
    """A pipeline whose ``play`` blocks in its thread until released, then reports progress once."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.go_on = threading.Event()
        self.stopped: BaseException | None = None

    def play(self, effects, song, out_dir, *, progress, **options):
        self.entered.set()
        self.go_on.wait(120)
        try:
            progress(Progress(stage=Stage.PLAYING, fraction=0.5, message="still playing"))
        except StageAbandoned as exc:
            self.stopped = exc
            raise
        return "played"


async def play_stage(ctx, job_id: str, version: int) -> str:
    return await asyncio.to_thread(ctx["pipeline"].play, [], "song", Path("."), progress=ignore_progress)


async def test_a_stage_runs_on_one_worker_at_a_time(runtime):
    first, second = Liveness(runtime, ["cpu"]), Liveness(runtime, ["cpu"])
    pipeline = HeldPipeline()
    task = leased(play_stage, render_stage)
    running = asyncio.create_task(task({"liveness": first, "pipeline": pipeline}, "job1", 1))
    await asyncio.to_thread(pipeline.entered.wait, 60)
    assert await task({"liveness": second, "pipeline": HeldPipeline()}, "job1", 1) == "running elsewhere"
    pipeline.go_on.set()
    assert await running == "played"
    assert not await runtime.redis.exists(lease_key(runtime, render_stage("job1", 1)))
    again = HeldPipeline()
    again.go_on.set()
    assert await task({"liveness": second, "pipeline": again}, "job1", 1) == "played"


async def test_a_timed_out_stage_keeps_its_lease_until_its_thread_stops(runtime):
    owner, other = Liveness(runtime, ["cpu"]), Liveness(runtime, ["cpu"])
    pipeline = HeldPipeline()
    running = asyncio.create_task(leased(play_stage, render_stage)({"liveness": owner, "pipeline": pipeline}, "job2", 1))
    await asyncio.to_thread(pipeline.entered.wait, 60)
    lease = owner.held[render_stage("job2", 1)]
    running.cancel()  # what arq does when the stage runs past its time limit
    await wait_until(lambda: lease.stopping, "the task to give its stage up")
    assert await other.acquire(render_stage("job2", 1)) is None, "the thread still runs: the stage is not free"
    pipeline.go_on.set()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert isinstance(pipeline.stopped, StageAbandoned)  # the thread was told to stop at its next progress report
    assert await other.acquire(render_stage("job2", 1)) is not None


async def test_a_worker_whose_lease_was_taken_stops_the_stage(runtime):
    liveness = Liveness(runtime, ["cpu"])
    pipeline = HeldPipeline()
    running = asyncio.create_task(leased(play_stage, render_stage)({"liveness": liveness, "pipeline": pipeline}, "job3", 1))
    await asyncio.to_thread(pipeline.entered.wait, 60)
    key = lease_key(runtime, render_stage("job3", 1))
    await runtime.redis.delete(key)  # Redis restarted empty: the holder takes its lease back
    await liveness.beat()
    assert (await runtime.redis.get(key)).decode() == liveness.worker_id
    await runtime.redis.set(key, "another-worker")  # it stalled and another worker took the stage
    await liveness.beat()
    pipeline.go_on.set()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert isinstance(pipeline.stopped, StageAbandoned)
    assert (await runtime.redis.get(key)) == b"another-worker"


async def test_reaper_requeues_a_stage_whose_worker_stopped(runtime, jobs_settings):
    client = JobsClient(runtime)
    job_id = await client.submit(request())
    arq_id = f"{vision_stage(job_id)}:0"
    in_progress = in_progress_key_prefix + arq_id
    full_ms = (jobs_settings.gpu_stage_timeout_s + 10) * 1000
    pubsub = runtime.redis.pubsub()
    await pubsub.subscribe(runtime.channel(job_id))

    await runtime.redis.psetex(in_progress, full_ms - 1000, b"1")  # just started: its lease may not be there yet
    assert await reap(runtime, grace_s=0) == 0
    await runtime.redis.psetex(in_progress, full_ms - int(LEASE_GRACE_S * 1000) - 5000, b"1")
    await runtime.redis.set(lease_key(runtime, vision_stage(job_id)), b"someone", px=5000)  # its worker is alive
    assert await reap(runtime, grace_s=0) == 0
    assert await runtime.redis.exists(in_progress)

    await runtime.redis.delete(lease_key(runtime, vision_stage(job_id)))  # heartbeat gone: the worker stopped
    assert await reap(runtime, grace_s=0) == 1
    assert not await runtime.redis.exists(in_progress, job_key_prefix + arq_id)
    assert await runtime.redis.zscore(runtime.queue("gpu"), f"{vision_stage(job_id)}:w1") is not None
    async with runtime.db() as session:
        job = await session.get(Job, job_id)
    assert job.message == WORKER_LOST_MESSAGE and job.status == JobStatus.QUEUED.value
    message = await wait_until(lambda: pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0), "the event")
    assert WORKER_LOST_MESSAGE in message["data"].decode()
    await pubsub.aclose()
    assert await reap(runtime, grace_s=0) == 0  # queued again now: nothing more to do


async def test_a_stage_redis_lost_is_queued_again_however_often_its_job_started(runtime, jobs_settings):
    client = JobsClient(runtime)
    job_id = await client.submit(request())
    async with runtime.db() as session:  # as if stopped workers had started its vision stage many times
        (await session.get(Job, job_id)).attempts = jobs_settings.job_retries + 2
        await session.commit()
    queue = runtime.queue("gpu")
    for requeue in range(1, jobs_settings.job_retries + 1):
        for member in await runtime.redis.zrange(queue, 0, -1):  # Redis lost the queued stage
            await runtime.redis.zrem(queue, member)
            await runtime.redis.delete(job_key_prefix + member.decode())
        assert await reap(runtime, grace_s=0) == 1
        assert await runtime.redis.zscore(queue, f"{vision_stage(job_id)}:r{requeue}") is not None
    async with runtime.db() as session:
        assert (await session.get(Job, job_id)).status == JobStatus.QUEUED.value

    for member in await runtime.redis.zrange(queue, 0, -1):  # lost once more than job_retries: given up
        await runtime.redis.zrem(queue, member)
        await runtime.redis.delete(job_key_prefix + member.decode())
    assert await reap(runtime, grace_s=0) == 0
    async with runtime.db() as session:
        job = await session.get(Job, job_id)
    assert job.status == JobStatus.FAILED.value and "several tries" in job.error


def test_the_progress_line_says_a_worker_stopped():
    lost = JobEvent(job_id="j", status=JobStatus.PLAYING, progress=0.7, message=WORKER_LOST_MESSAGE)
    assert progress_text(lost).endswith(f"70% · {WORKER_LOST_MESSAGE}")
    assert WORKER_LOST_MESSAGE not in progress_text(lost.model_copy(update={"message": "Playing the song"}))


async def test_burst_worker_finishes_the_job_it_started(runtime, jobs_settings):
    client = JobsClient(runtime)
    job_id = await client.submit(request())
    await asyncio.wait_for(run_workers(jobs_settings, ["gpu", "cpu"], burst=True), timeout=420)
    final = await client.status(job_id)
    assert final.status == JobStatus.DONE, (final.status, final.message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _start_redis(port: int) -> asyncio.subprocess.Process:
    server = await asyncio.create_subprocess_exec("redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    probe = Redis(port=port)

    async def answers() -> bool:
        try:
            return await probe.ping()
        except OSError:
            return False
        except Exception:  # noqa: BLE001 - redis-py's ConnectionError while it starts
            return False

    await wait_until(answers, "the private Redis to start", timeout_s=60)
    await probe.aclose()
    return server


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_worker_survives_a_redis_restart(jobs_settings, caplog):
    port = _free_port()
    server = await _start_redis(port)
    jobs_settings.redis_url = f"redis://127.0.0.1:{port}/0"
    caplog.set_level(logging.WARNING, logger="jobs.worker")
    try:
        async with workers(jobs_settings) as running:
            runtime = await Runtime.open(jobs_settings)
            client = JobsClient(runtime)
            job_id = await client.submit(request(user="before"))
            await wait_until(_started(client, job_id), "the first job to start")
            server.kill()
            await server.wait()
            await wait_until(lambda: any("lost Redis" in r.getMessage() for r in caplog.records),
                             "the worker to notice Redis went away")
            await runtime.close()
            server = await _start_redis(port)  # empty: the queues are gone, the database still knows the job
            runtime = await Runtime.open(jobs_settings)
            client = JobsClient(runtime)
            assert not running.done(), "the worker process stopped with Redis"
            after = await client.submit(request(user="after", seed=1))
            finals = await asyncio.gather(client.wait(job_id, timeout_s=420), client.wait(after, timeout_s=420))
            assert [f.status for f in finals] == [JobStatus.DONE] * 2, [(f.status, f.message) for f in finals]
            await runtime.close()
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()


def _started(client: JobsClient, job_id: str):
    async def check() -> bool:
        return (await client.status(job_id)).status not in (JobStatus.QUEUED,)
    return check


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_crash_loop_at_default_time_limits(jobs_settings, tmp_path):
    for name in ("gpu_stage_timeout_s", "cpu_stage_timeout_s", "job_retries"):
        setattr(jobs_settings, name, DEFAULTS[name].default)
    result = await crash_loop(jobs_settings, tmp_path, kills=20, seed=20, timeout_s=840)
    assert len(result.kills) == 20
    not_done = {j: (f.status, f.message, f.error) for j, f in result.finals.items() if f.status != JobStatus.DONE}
    assert not not_done, f"jobs not done: {not_done}; worker logs in {tmp_path}"
    assert not result.overlaps(), f"a stage ran twice at once: {result.overlaps()}"
    resumed = len(result.resumes_s)
    killed = sum(len(k.stages) for k in result.kills)
    assert resumed == killed, f"{killed - resumed} killed stages never started again"
