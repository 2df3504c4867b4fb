"""arq worker settings for the two queues, and running one or both in a process (``wave worker``)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker, func

from db.migrate import upgrade
from jobs.readiness import ReadinessBeacon
from jobs.reaper import reap
from jobs.runner import WavePipeline
from jobs.runtime import CPU, GPU, Runtime
from jobs.tasks import PipelineRunner, play_render, see_and_hear
from wave_app.settings import Settings

log = logging.getLogger(__name__)

REAPER_SECONDS = {0, 15, 30, 45}


def worker_settings(settings: Settings, queue: str, *, pipeline: PipelineRunner | None = None,
                    run_reaper: bool = True) -> dict[str, Any]:
    """The keyword arguments of an arq ``Worker`` serving ``queue`` ("gpu" or "cpu")."""
    shared: dict[str, Any] = {}

    async def on_startup(ctx: dict[str, Any]) -> None:
        runtime = await Runtime.open(settings, migrate=False)  # run_workers migrated once before starting
        runner = pipeline or WavePipeline(settings)
        beacon = ReadinessBeacon(runtime.redis, settings.queue_prefix, queue, settings.profile)
        ctx.update(runtime=runtime, pipeline=runner, readiness=beacon)
        shared["runtime"] = runtime
        await beacon.warm_up(getattr(runner, "warm_up", None) if queue == GPU else None)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        if ctx.get("readiness") is not None:
            await ctx["readiness"].stop()
        runtime = ctx.get("runtime")
        if runtime is not None:
            await runtime.close()

    async def reaper(ctx: dict[str, Any]) -> int:
        lock = f"{settings.queue_prefix}:reaper-lock"
        if not await ctx["runtime"].redis.set(lock, b"1", nx=True, ex=10):
            return 0
        return await reap(ctx["runtime"])

    if queue == GPU:
        functions = [func(see_and_hear, name="see_and_hear", timeout=settings.gpu_stage_timeout_s,
                          max_tries=settings.job_retries + 1)]
        max_jobs = 1  # one job at a time per GPU
    elif queue == CPU:
        functions = [func(play_render, name="play_render", timeout=settings.cpu_stage_timeout_s,
                          max_tries=settings.job_retries + 1)]
        max_jobs = 2
    else:
        raise ValueError(f"unknown queue {queue!r}: use gpu or cpu")
    return dict(
        functions=functions,
        queue_name=f"{settings.queue_prefix}:{queue}",
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        max_jobs=max_jobs,
        cron_jobs=[cron(reaper, second=REAPER_SECONDS, run_at_startup=True, unique=False)] if run_reaper else [],
        keep_result=60,
        allow_abort_jobs=True,
        handle_signals=False,
        poll_delay=0.05,
    )


async def run_workers(settings: Settings, queues: list[str], *, pipeline: PipelineRunner | None = None,
                      burst: bool = False) -> None:
    """Run a worker per queue in this process until cancelled (or, with ``burst``, until the queues are empty)."""
    await upgrade(settings.database_url)
    workers = [
        Worker(**worker_settings(settings, queue, pipeline=pipeline, run_reaper=(i == 0)), burst=burst)
        for i, queue in enumerate(queues)
    ]
    try:
        await asyncio.gather(*(w.async_run() for w in workers))
    finally:
        await asyncio.gather(*(w.close() for w in workers), return_exceptions=True)

