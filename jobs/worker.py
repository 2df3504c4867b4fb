"""arq worker settings for the two queues, and running one or both in a process (``wave worker``).

A process heartbeats and runs the reaper (``jobs.liveness``), takes a lease on each stage it runs, and outlives Redis
restarts: a worker that loses Redis lets its running stages finish, then reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from typing import Any

from arq.worker import Worker, func
from redis.exceptions import RedisError

from db.migrate import upgrade
from jobs.liveness import Liveness, leased
from jobs.queues import (
    CPU,
    GPU,
    HEAR_AGAIN_TASK,
    RENDER_TASK,
    VISION_TASK,
    hear_again_stage,
    render_stage,
    vision_stage,
)
from jobs.readiness import ReadinessBeacon
from jobs.reaper import reap
from jobs.rehear import hear_again
from jobs.runner import WavePipeline
from jobs.runtime import Runtime, redis_settings
from jobs.scratch import WorkerScratch
from jobs.tasks import PipelineRunner, play_render, see_and_hear
from wave_core.settings import Settings

log = logging.getLogger(__name__)

RECONNECT_FIRST_S = 0.5
RECONNECT_MAX_S = 30.0
REDIS_FAILURES = (RedisError, OSError, asyncio.TimeoutError)


def worker_settings(settings: Settings, queue: str, *, runtime: Runtime, pipeline: PipelineRunner,
                    liveness: Liveness, scratch: WorkerScratch | None = None) -> dict[str, Any]:
    """The keyword arguments of an arq ``Worker`` serving ``queue`` ("gpu" or "cpu")."""

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx.update(runtime=runtime, pipeline=pipeline, liveness=liveness, scratch=scratch)

    if queue == GPU:
        functions = [func(leased(see_and_hear, vision_stage), name=VISION_TASK,
                          timeout=settings.gpu_stage_timeout_s, max_tries=settings.job_retries + 1),
                     func(leased(hear_again, hear_again_stage), name=HEAR_AGAIN_TASK,
                          timeout=settings.gpu_stage_timeout_s, max_tries=settings.job_retries + 1)]
        max_jobs = 1  # one job at a time per GPU
    elif queue == CPU:
        functions = [func(leased(play_render, render_stage), name=RENDER_TASK,
                          timeout=settings.cpu_stage_timeout_s, max_tries=settings.job_retries + 1)]
        max_jobs = 2
    else:
        raise ValueError(f"unknown queue {queue!r}: use gpu or cpu")
    return {
        "functions": functions,
        "queue_name": f"{settings.queue_prefix}:{queue}",
        "redis_settings": redis_settings(settings.redis_url),
        "on_startup": on_startup,
        "max_jobs": max_jobs,
        "keep_result": 60,
        "allow_abort_jobs": True,
        "handle_signals": False,
        "poll_delay": 0.05,
    }


async def run_workers(settings: Settings, queues: list[str], *, pipeline: PipelineRunner | None = None,
                      burst: bool = False) -> None:
    """Run a worker per queue in this process until cancelled (or, with ``burst``, until no job is left in any of
    the queues, so that a job is never left between its stages)."""
    for queue in queues:
        if queue not in (GPU, CPU):
            raise ValueError(f"unknown queue {queue!r}: use gpu or cpu")
    await upgrade(settings.database_url)
    runtime = await _open_runtime(settings)
    # The scratch folder goes with the run, however it ends (a failed shutdown step included).
    with WorkerScratch() as scratch:
        runner = pipeline or WavePipeline(settings, scratch_dir=scratch.path)
        try:
            beacons = await warm_engines(runtime, settings, queues, runner)
        except BaseException:
            await runtime.close()
            raise
        liveness = Liveness(runtime, queues)
        beating = asyncio.create_task(liveness.run(reap=reap), name="wave-heartbeat")
        waiters = [
            asyncio.create_task(
                _serve(worker_settings(settings, queue, runtime=runtime, pipeline=runner, liveness=liveness,
                                       scratch=scratch)),
                name=f"wave-worker-{queue}")
            for queue in queues
        ]
        if burst:
            waiters.append(asyncio.create_task(_until_drained(runtime, queues), name="wave-burst"))
        try:
            done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in waiters:
                task.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)
            for beacon in beacons:
                await beacon.stop()
            await liveness.close()
            await runtime.close()
            if pipeline is None and isinstance(runner, WavePipeline):
                await asyncio.to_thread(runner.close)  # before the scratch folder its builds write into goes


async def warm_engines(runtime: Runtime, settings: Settings, queues: list[str],
                       runner: PipelineRunner) -> list[ReadinessBeacon]:
    """Load and warm the engines once per process (a reconnecting worker keeps them) and report readiness per queue
    in Redis for ``wave doctor``; raises, with the reason reported, when they cannot load."""
    beacons = [ReadinessBeacon(runtime.redis, settings.queue_prefix, queue, settings.profile) for queue in queues]
    warm = {GPU: getattr(runner, "warm_up", None), CPU: getattr(runner, "warm_up_music", None)}
    for beacon in beacons:
        await beacon.warm_up(warm[beacon.state.queue])
    return beacons


async def _open_runtime(settings: Settings) -> Runtime:
    backoff = RECONNECT_FIRST_S
    while True:
        try:
            return await Runtime.open(settings, migrate=False)  # migrated just before
        except REDIS_FAILURES as exc:
            log.warning("cannot reach Redis (%r); trying again in %.1f s", exc, backoff)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, RECONNECT_MAX_S)


async def _serve(worker_kwargs: dict[str, Any]) -> None:
    """One arq worker, started again (with backoff) whenever it loses Redis."""
    backoff = RECONNECT_FIRST_S
    while True:
        worker = Worker(**worker_kwargs)
        started = time.monotonic()
        try:
            await worker.async_run()
            return
        except asyncio.CancelledError:
            with suppress(*REDIS_FAILURES):
                await worker.close()
            raise
        except REDIS_FAILURES as exc:
            if time.monotonic() - started > 60:
                backoff = RECONNECT_FIRST_S
            log.warning("worker for %s lost Redis (%r); reconnecting in %.1f s once its running stages end",
                        worker_kwargs["queue_name"], exc, backoff)
            await _discard(worker)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, RECONNECT_MAX_S)


async def _discard(worker: Worker) -> None:
    """Let the stages a worker started run to their end (they keep their leases), then drop its connections."""
    if worker.tasks:
        await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
    pool = getattr(worker, "_pool", None)
    if pool is not None:
        with suppress(*REDIS_FAILURES):
            await pool.close(close_connection_pool=True)


async def _until_drained(runtime: Runtime, queues: list[str], poll_s: float = 0.2) -> None:
    """Return once every queue is empty at one moment. arq keeps a job in its queue until it ends, and a stage queues
    the next before it ends, so all-empty means no job of these queues is waiting, running or between stages."""
    while True:
        await asyncio.sleep(poll_s)
        try:
            async with runtime.redis.pipeline(transaction=True) as pipe:
                for queue in queues:
                    pipe.zcard(runtime.queue(queue))
                counts = await pipe.execute()
        except REDIS_FAILURES as exc:
            log.warning("cannot read the queues (%r)", exc)
            continue
        if not any(counts):
            return
