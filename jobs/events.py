"""Progress events: stored on the job row, published on Redis for live watchers."""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel
from sqlalchemy import func, select, update

from db.models import Job, JobStatus, utcnow
from jobs.runtime import Runtime
from pipeline.progress import STAGE_SPAN as PIPELINE_SPAN
from pipeline.progress import Progress, ProgressListener, Stage
from wave_core.metrics import observe_stage


def status_of(stage: Stage) -> JobStatus:
    """The job status while the pipeline is in ``stage`` (they share their names)."""
    return JobStatus(stage.value)


# Status -> where its progress starts and ends in the job's overall fraction: the pipeline's stages keep their span.
STAGE_SPAN: dict[JobStatus, tuple[float, float]] = {
    JobStatus.QUEUED: (0.0, 0.0),
    **{status_of(stage): span for stage, span in PIPELINE_SPAN.items()},
    JobStatus.DONE: (1.0, 1.0),
}


def stage_start(status: JobStatus) -> float:
    """The job's overall progress when it enters ``status``."""
    return STAGE_SPAN.get(status, (0.0, 1.0))[0]


# The job's message while a stage whose worker stopped waits to run again; chat adapters show it with the progress.
WORKER_LOST_MESSAGE = "A worker stopped, retrying"


class JobEvent(BaseModel):
    job_id: str
    status: JobStatus
    progress: float
    message: str
    queue_position: int | None = None
    error: str | None = None
    error_id: str | None = None
    render_version: int | None = None
    at: float = 0.0

    @property
    def finished(self) -> bool:
        return self.status.finished


async def queue_position(runtime: Runtime, job: Job) -> int | None:
    """1 for the next job to start; None once the job has started."""
    if job.status != JobStatus.QUEUED.value:
        return None
    async with runtime.db() as db:
        ahead = await db.scalar(
            select(func.count()).select_from(Job).where(Job.status == JobStatus.QUEUED.value, Job.created_at < job.created_at)
        )
    return int(ahead or 0) + 1


async def event_for(runtime: Runtime, job: Job, render_version: int | None = None) -> JobEvent:
    return JobEvent(
        job_id=job.id,
        status=JobStatus(job.status),
        progress=job.progress,
        message=job.message,
        queue_position=await queue_position(runtime, job),
        error=job.error,
        error_id=job.error_id,
        render_version=render_version,
        at=time.time(),
    )


async def publish(runtime: Runtime, event: JobEvent) -> None:
    await runtime.redis.publish(runtime.channel(event.job_id), event.model_dump_json())


class ProgressReporter:
    """Writes a job's stage, fraction and message to the database and publishes them, at most every ``interval``.

    Stage changes and the end are always written. ``from_thread`` gives a pipeline progress listener that is safe
    to call from a worker thread.
    """

    def __init__(self, runtime: Runtime, job_id: str, *, interval: float = 0.5, render_version: int | None = None):
        self.runtime = runtime
        self.job_id = job_id
        self.interval = interval
        self.render_version = render_version
        self._last = 0.0
        self._status: JobStatus | None = None
        self._stage_started = time.monotonic()
        self.cancelled = False

    async def update(self, status: JobStatus, fraction: float, message: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and status == self._status and now - self._last < self.interval:
            return
        self._last = now
        if status != self._status:
            self.end_stage(now)
        self._status = status
        start, end = STAGE_SPAN.get(status, (0.0, 1.0))
        overall = round(start + (end - start) * min(1.0, max(0.0, fraction)), 4)
        async with self.runtime.db() as db:
            result = await db.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.status.not_in([JobStatus.CANCELLED.value, JobStatus.FAILED.value]))
                .values(status=status.value, progress=overall, message=message[:300], updated_at=utcnow())
            )
            await db.commit()
            if result.rowcount == 0:
                self.cancelled = True
                return
        await publish(
            self.runtime,
            JobEvent(job_id=self.job_id, status=status, progress=overall, message=message,
                     render_version=self.render_version, at=time.time()),
        )

    def from_thread(self, loop: asyncio.AbstractEventLoop) -> ProgressListener:
        """A pipeline progress listener for code running in a thread; raises JobCancelled once cancelled.

        Reports closer together than ``interval`` are dropped, except a stage's first and last.
        """
        last_at = 0.0
        last_stage: Stage | None = None

        def listener(event: Progress) -> None:
            nonlocal last_at, last_stage
            if self.cancelled:
                raise JobCancelled(self.job_id)
            now = time.monotonic()
            if now - last_at < self.interval and event.fraction < 1.0 and event.stage == last_stage:
                return
            last_at, last_stage = now, event.stage
            asyncio.run_coroutine_threadsafe(self.update(status_of(event.stage), event.fraction, event.message), loop)

        return listener

    def end_stage(self, now: float | None = None) -> None:
        """Record the time spent in the current stage (``wave_stage_seconds``); the next stage starts now."""
        now = time.monotonic() if now is None else now
        if self._status is not None and not self._status.finished:
            observe_stage(self._status.value, now - self._stage_started)
        self._stage_started = now
        self._status = None


class JobCancelled(Exception):
    """Raised inside a running task once its job was cancelled."""
