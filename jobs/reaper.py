"""Recovery from the database and the stage leases: jobs whose worker stopped, or whose queue entry was lost (Redis
emptied), are queued again.

A stage's state comes from Redis: a lease means a live worker runs it; an arq entry in progress without a lease means
its worker stopped (the lease outlives a worker by at most ``LOST_AFTER_S``); an arq entry waiting means it is queued;
nothing at all means the queue lost it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from arq.constants import in_progress_key_prefix, job_key_prefix, retry_key_prefix
from sqlalchemy import select, update

from db.models import ACTIVE_STATUSES, Job, JobStatus, Render, SoundSourceRow, as_utc, utcnow
from jobs.events import WORKER_LOST_MESSAGE, event_for, publish
from jobs.liveness import lease_key
from jobs.queues import (
    CPU,
    GPU,
    enqueue_hear_again,
    enqueue_render,
    enqueue_vision,
    hear_again_stage,
    render_stage,
    vision_stage,
)
from jobs.runtime import Runtime

log = logging.getLogger(__name__)

VISION_STATUSES = (JobStatus.QUEUED.value, JobStatus.SEEING.value, JobStatus.HEARING.value)
# A task takes its lease right after arq marks it in progress; an entry younger than this may not have it yet.
LEASE_GRACE_S = 5.0
LOSSES_KEPT_S = 86_400

# Clears a stopped worker's arq entry, unless a worker took the stage (lease) or arq started it again (a fresh,
# longer time to live) since it was looked at.
_CLEAR_LOST = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
local ttl = redis.call('pttl', KEYS[2])
if ttl < 0 or ttl > tonumber(ARGV[2]) then return 0 end
redis.call('del', KEYS[2], KEYS[3], KEYS[4])
redis.call('zrem', KEYS[5], ARGV[1])
return 1
"""


class StageState(StrEnum):
    RUNNING = "running"
    QUEUED = "queued"
    LOST = "lost"  # arq holds it in progress, but no live worker runs it
    MISSING = "missing"


@dataclass
class StageInRedis:
    state: StageState
    arq_id: str | None = None
    in_progress_ms: int | None = None  # what was left of arq's in-progress mark


def _in_progress_ms(runtime: Runtime, queue: str) -> int:
    """How long arq marks a task of ``queue`` in progress: the task's time limit plus 10 s."""
    settings = runtime.settings
    return int(((settings.gpu_stage_timeout_s if queue == GPU else settings.cpu_stage_timeout_s) + 10) * 1000)


async def stage_in_redis(runtime: Runtime, stage: str, queue: str) -> StageInRedis:
    redis = runtime.redis
    if await redis.exists(lease_key(runtime, stage)):
        return StageInRedis(StageState.RUNNING)
    lost = None
    async for key in redis.scan_iter(match=f"{in_progress_key_prefix}{stage}:*", count=500):
        left = await redis.pttl(key)
        if left < 0:
            continue
        if _in_progress_ms(runtime, queue) - left < LEASE_GRACE_S * 1000:
            return StageInRedis(StageState.RUNNING)
        lost = StageInRedis(StageState.LOST, key.decode().removeprefix(in_progress_key_prefix), left)
    if lost is not None:
        return lost
    async for _ in redis.scan_iter(match=f"{job_key_prefix}{stage}:*", count=500):
        return StageInRedis(StageState.QUEUED)
    return StageInRedis(StageState.MISSING)


async def reap(runtime: Runtime, *, grace_s: float = 5.0) -> int:
    """Queue again every unfinished stage whose worker stopped or that Redis no longer knows.

    Returns how many stages were queued again. Jobs that used up their tries are failed with a message.
    """
    settled = utcnow() - timedelta(seconds=grace_s)
    requeued = 0
    async with runtime.db() as db:
        jobs = (await db.scalars(select(Job).where(Job.status.in_(ACTIVE_STATUSES), Job.updated_at < settled))).all()
    for job in jobs:
        def see_again(attempt: str, job_id: str = job.id) -> Awaitable[None]:
            return enqueue_vision(runtime, job_id, attempt)

        if job.status in VISION_STATUSES and not job.sheet_key:
            requeued += await _recover(runtime, job, vision_stage(job.id), GPU, see_again)
            continue
        async with runtime.db() as db:
            pending = (await db.scalars(
                select(Render).where(Render.job_id == job.id, Render.status != "done").order_by(Render.version)
            )).all()
            effects_missing = await db.scalar(select(SoundSourceRow.id).where(
                SoundSourceRow.job_id == job.id, SoundSourceRow.effect_key.is_(None)).limit(1)) is not None
        if not pending and job.sheet_key:
            # Sheet and effects are stored but the first render row was never written: the GPU task died between.
            requeued += await _recover(runtime, job, vision_stage(job.id), GPU, see_again)
            continue
        if pending and effects_missing:
            # A change emptied effects: the GPU task that makes them again queues the render itself.
            requeued += await _recover(
                runtime, job, hear_again_stage(job.id, pending[0].version), GPU,
                lambda attempt, job_id=job.id, version=pending[0].version: enqueue_hear_again(
                    runtime, job_id, version, attempt),
            )
            continue
        for render in pending:
            requeued += await _recover(
                runtime, job, render_stage(job.id, render.version), CPU,
                lambda attempt, job_id=job.id, version=render.version: enqueue_render(runtime, job_id, version, attempt),
            )
    return requeued


async def _recover(runtime: Runtime, job: Job, stage: str, queue: str,
                   enqueue: Callable[[str], Awaitable[None]]) -> int:
    found = await stage_in_redis(runtime, stage, queue)
    if found.state == StageState.RUNNING:
        if job.deadline_at is not None and as_utc(job.deadline_at) < utcnow():
            log.warning("%s is still running past its deadline", stage)
        return 0
    if found.state == StageState.QUEUED:
        return 0
    if found.state == StageState.LOST:
        if not await _clear_lost(runtime, stage, queue, found):
            return 0
        log.warning("the worker running %s stopped; queuing it again", stage)
        await _tell(runtime, job.id, WORKER_LOST_MESSAGE)
        losses = await _count(runtime, "losses", stage)
        if losses > runtime.settings.job_retries + 2:
            log.error("%s: its workers stopped %d times; giving up", stage, losses)
            await _give_up(runtime, job)
            return 0
        await enqueue(f"w{losses}")
        return 1
    # Counted per stage, apart from the job's attempts (every vision start adds one), so that stages lost to
    # stopped workers do not use up the re-queues of a stage that Redis lost.
    requeues = await _count(runtime, "requeues", stage)
    if requeues > runtime.settings.job_retries:
        await _give_up(runtime, job)
        return 0
    log.warning("%s is not in the queue any more (job status %s); queuing it again", stage, job.status)
    await _touch(runtime, job.id)
    await enqueue(f"r{requeues}")
    return 1


async def _count(runtime: Runtime, kind: str, stage: str) -> int:
    """How many times ``stage`` was found ``kind`` (lost or missing) in the last day, this time included."""
    key = f"{runtime.settings.queue_prefix}:{kind}:{stage}"
    count = await runtime.redis.incr(key)
    await runtime.redis.expire(key, LOSSES_KEPT_S)
    return int(count)


async def _clear_lost(runtime: Runtime, stage: str, queue: str, found: StageInRedis) -> bool:
    arq_id = found.arq_id
    script = runtime.redis.register_script(_CLEAR_LOST)
    keys = [lease_key(runtime, stage), in_progress_key_prefix + arq_id, job_key_prefix + arq_id,
            retry_key_prefix + arq_id, runtime.queue(queue)]
    return bool(await script(keys=keys, args=[arq_id, found.in_progress_ms]))


async def _tell(runtime: Runtime, job_id: str, message: str) -> None:
    """Show ``message`` as the job's progress text (chat adapters display it), keeping its stage and progress."""
    async with runtime.db() as db:
        await db.execute(
            update(Job).where(Job.id == job_id, Job.status.in_(ACTIVE_STATUSES)).values(message=message, updated_at=utcnow())
        )
        await db.commit()
        fresh = await db.get(Job, job_id)
    if fresh is not None:
        await publish(runtime, await event_for(runtime, fresh))


async def _touch(runtime: Runtime, job_id: str) -> None:
    async with runtime.db() as db:
        await db.execute(update(Job).where(Job.id == job_id).values(attempts=Job.attempts + 1, updated_at=utcnow()))
        await db.commit()


async def _give_up(runtime: Runtime, job: Job) -> None:
    async with runtime.db() as db:
        await db.execute(
            update(Job).where(Job.id == job.id, Job.status.in_(ACTIVE_STATUSES)).values(
                status=JobStatus.FAILED.value, message="Failed", finished_at=utcnow(),
                error="WAVE could not finish this picture after several tries; please try again later.",
            )
        )
        await db.commit()
        fresh = await db.get(Job, job.id)
    await publish(runtime, await event_for(runtime, fresh))
