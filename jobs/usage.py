"""One person's view of their own jobs: usage against the limits, what runs now, and which finished jobs they may
open again (their own, or any shared in the gallery of the server they ask from)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from db.models import ACTIVE_STATUSES, GalleryEntry, Job, JobStatus, Render, User, Workspace, as_utc, utcnow
from jobs.runtime import Runtime
from pipeline.errors import WaveInputError

RECENT_JOBS = 25


@dataclass(frozen=True)
class JobLine:
    job_id: str
    song: str
    status: str
    progress: float
    created_at: datetime


@dataclass(frozen=True)
class Usage:
    made_this_hour: int
    per_hour: int
    at_once: int
    running: list[JobLine]
    next_slot_in_s: int  # 0 when another mix may start now (as far as the hourly limit goes)
    made_in_all: int


def _line(job: Job) -> JobLine:
    return JobLine(job.id, job.song_ref, job.status, job.progress, as_utc(job.created_at))


async def _user(db, platform: str, user_id: str) -> User | None:
    return await db.scalar(select(User).where(User.platform == platform, User.platform_user_id == str(user_id)))


async def usage(runtime: Runtime, platform: str, user_id: str, workspace_id: str | None) -> Usage:
    """The limits that apply to this person here (the server's own, else the defaults) and where they stand."""
    settings = runtime.settings
    async with runtime.db() as db:
        workspace = None if workspace_id is None else await db.scalar(select(Workspace).where(
            Workspace.platform == platform, Workspace.platform_workspace_id == str(workspace_id)))
        at_once = (workspace and workspace.max_concurrent_jobs_per_user) or settings.max_concurrent_jobs_per_user
        per_hour = (workspace and workspace.max_jobs_per_user_per_hour) or settings.max_jobs_per_user_per_hour
        user = await _user(db, platform, user_id)
        if user is None:
            return Usage(0, per_hour, at_once, [], 0, 0)
        hour_ago = utcnow() - timedelta(hours=1)
        this_hour = (await db.scalars(select(Job.created_at).where(
            Job.user_id == user.id, Job.created_at >= hour_ago).order_by(Job.created_at))).all()
        running = (await db.scalars(select(Job).where(Job.user_id == user.id, Job.status.in_(ACTIVE_STATUSES))
                                    .order_by(Job.created_at))).all()
        total = await db.scalar(select(func.count()).select_from(Job).where(Job.user_id == user.id))
    wait = 0
    if len(this_hour) >= per_hour:
        wait = max(0, int((as_utc(this_hour[0]) + timedelta(hours=1) - utcnow()).total_seconds()))
    return Usage(len(this_hour), per_hour, at_once, [_line(j) for j in running], wait, int(total or 0))


async def recent_finished(runtime: Runtime, platform: str, user_id: str, typed: str = "",
                          limit: int = RECENT_JOBS) -> list[JobLine]:
    """The person's latest finished mixes, newest first; ``typed`` narrows by job id or song."""
    typed = typed.strip().lower()
    async with runtime.db() as db:
        user = await _user(db, platform, user_id)
        if user is None:
            return []
        query = select(Job).where(Job.user_id == user.id, Job.status == JobStatus.DONE.value)
        if typed:
            query = query.where(Job.id.startswith(typed) | Job.song_ref.contains(typed))
        return [_line(j) for j in (await db.scalars(query.order_by(Job.created_at.desc()).limit(limit))).all()]


async def visible_job(runtime: Runtime, platform: str, user_id: str, workspace_id: str | None, job_id: str) -> str:
    """The id of a finished job this person may see: their own, or one shared (and still up) in this server's
    gallery. Anything else reads the same as a job that does not exist."""
    job_id = job_id.strip().lower()
    missing = WaveInputError("No finished mix of yours (or in this server's gallery) has that id.")
    if not job_id.isalnum() or len(job_id) > 32:
        raise missing
    async with runtime.db() as db:
        job = await db.get(Job, job_id)
        if job is None or job.platform != platform or job.status != JobStatus.DONE.value:
            raise missing
        owner = await db.get(User, job.user_id)
        if owner is not None and owner.platform_user_id == str(user_id):
            return job.id
        shared = None if workspace_id is None else await db.scalar(
            select(GalleryEntry.id).join(Render, Render.id == GalleryEntry.render_id)
            .join(Workspace, Workspace.id == GalleryEntry.workspace_id)
            .where(Render.job_id == job.id, GalleryEntry.removed.is_(False),
                   Workspace.platform == platform, Workspace.platform_workspace_id == str(workspace_id)).limit(1))
    if shared is None:
        raise missing
    return job.id
