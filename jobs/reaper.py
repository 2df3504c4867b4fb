"""Recovery from the database: jobs whose queue entry was lost (Redis emptied) or whose worker died are queued again."""

from __future__ import annotations

import logging
from datetime import timedelta

from arq.constants import in_progress_key_prefix, job_key_prefix
from sqlalchemy import select, update

from db.models import ACTIVE_STATUSES, Job, JobStatus, Render, as_utc, utcnow
from jobs.events import event_for, publish
from jobs.runtime import Runtime

log = logging.getLogger(__name__)

VISION_STATUSES = (JobStatus.QUEUED.value, JobStatus.SEEING.value, JobStatus.HEARING.value)


async def _queued_in_redis(runtime: Runtime, prefix: str) -> bool:
    """Whether any arq job whose id starts with ``prefix`` is waiting or running."""
    async for key in runtime.redis.scan_iter(match=f"{job_key_prefix}{prefix}*", count=500):
        return True
    async for key in runtime.redis.scan_iter(match=f"{in_progress_key_prefix}{prefix}*", count=500):
        return True
    return False


async def reap(runtime: Runtime, *, grace_s: float = 5.0) -> int:
    """Queue again every unfinished job that Redis no longer knows, or that ran past its deadline.

    Returns how many jobs were queued again. Jobs that used up their tries are failed with a message.
    """
    from jobs.client import JobsClient

    client = JobsClient(runtime)
    now = utcnow()
    settled = now - timedelta(seconds=grace_s)
    requeued = 0
    async with runtime.sessions() as session:
        jobs = (await session.scalars(select(Job).where(Job.status.in_(ACTIVE_STATUSES), Job.updated_at < settled))).all()
    for job in jobs:
        overdue = job.deadline_at is not None and as_utc(job.deadline_at) < now
        if job.status in VISION_STATUSES and not job.sheet_key:
            prefix = f"see:{job.id}:"
            if not overdue and await _queued_in_redis(runtime, prefix):
                continue
            if job.attempts > runtime.settings.job_retries:
                await _give_up(runtime, job)
                continue
            log.warning("job %s is not in the queue any more (status %s); queuing it again", job.id, job.status)
            await _touch(runtime, job.id)
            await client.enqueue_vision(job.id, attempt=f"r{job.attempts}")
            requeued += 1
            continue
        async with runtime.sessions() as session:
            pending = (await session.scalars(
                select(Render).where(Render.job_id == job.id, Render.status != "done").order_by(Render.version)
            )).all()
        if not pending and job.sheet_key:
            # Sheet and effects are stored but the first render row was never written: the GPU task died between.
            await client.enqueue_vision(job.id, attempt=f"r{job.attempts}")
            requeued += 1
            continue
        for render in pending:
            prefix = f"play:{job.id}:{render.version}:"
            if not overdue and await _queued_in_redis(runtime, prefix):
                continue
            log.warning("render %s v%d is not in the queue any more; queuing it again", job.id, render.version)
            await _touch(runtime, job.id)
            await client.enqueue_render(job.id, render.version, attempt=f"r{job.attempts}")
            requeued += 1
    return requeued


async def _touch(runtime: Runtime, job_id: str) -> None:
    async with runtime.sessions() as session:
        await session.execute(
            update(Job).where(Job.id == job_id).values(
                attempts=Job.attempts + 1, updated_at=utcnow(),
                deadline_at=utcnow() + timedelta(seconds=runtime.settings.gpu_stage_timeout_s + runtime.settings.cpu_stage_timeout_s),
            )
        )
        await session.commit()


async def _give_up(runtime: Runtime, job: Job) -> None:
    async with runtime.sessions() as session:
        await session.execute(
            update(Job).where(Job.id == job.id, Job.status.in_(ACTIVE_STATUSES)).values(
                status=JobStatus.FAILED.value, message="Failed", finished_at=utcnow(),
                error="WAVE could not finish this picture after several tries; please try again later.",
            )
        )
        await session.commit()
        fresh = await session.get(Job, job.id)
    await publish(runtime, await event_for(runtime, fresh))
