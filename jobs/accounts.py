"""The people and workspaces behind jobs: their rows, found or created, and the limits a submission must keep."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ACTIVE_STATUSES, Job, JobStatus, User, Workspace, as_utc, utcnow
from jobs.contracts import QuotaExceeded
from wave_core.settings import Settings

Row = TypeVar("Row", User, Workspace)


async def get_or_create_user(db: AsyncSession, platform: str, platform_id: str, name: str | None) -> User:
    query = select(User).where(User.platform == platform, User.platform_user_id == platform_id)
    return await _get_or_add(db, query, User(platform=platform, platform_user_id=platform_id, display_name=name))


async def get_or_create_workspace(db: AsyncSession, platform: str, workspace_id: str | None,
                                  name: str | None) -> Workspace | None:
    if workspace_id is None:
        return None
    query = select(Workspace).where(Workspace.platform == platform, Workspace.platform_workspace_id == workspace_id)
    return await _get_or_add(db, query, Workspace(platform=platform, platform_workspace_id=workspace_id, name=name))


async def _get_or_add(db: AsyncSession, query: Select[tuple[Row]], new: Row) -> Row:
    """The row ``query`` finds, or ``new`` once added; a row added at the same moment by another request wins."""
    found = await db.scalar(query)
    if found is not None:
        return found
    db.add(new)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        return await db.scalar(query)
    return new


async def check_quotas(db: AsyncSession, settings: Settings, user_id: int, workspace: Workspace | None) -> None:
    """Raise :class:`QuotaExceeded` when the user has too many jobs running or this hour, or the queue is full.

    A workspace's own limits replace the settings' defaults.
    """
    concurrent = (workspace and workspace.max_concurrent_jobs_per_user) or settings.max_concurrent_jobs_per_user
    hourly = (workspace and workspace.max_jobs_per_user_per_hour) or settings.max_jobs_per_user_per_hour
    active = await db.scalar(
        select(func.count()).select_from(Job).where(Job.user_id == user_id, Job.status.in_(ACTIVE_STATUSES))
    )
    if active >= concurrent:
        raise QuotaExceeded(
            f"You already have {active} mix{'es' if active > 1 else ''} in the making; "
            "try again when it is done.",
            retry_after_s=60,
        )
    hour_ago = utcnow() - timedelta(hours=1)
    recent = (
        await db.scalars(
            select(Job.created_at).where(Job.user_id == user_id, Job.created_at >= hour_ago).order_by(Job.created_at)
        )
    ).all()
    if len(recent) >= hourly:
        oldest = as_utc(recent[0])
        wait = max(60, int((oldest + timedelta(hours=1) - utcnow()).total_seconds()))
        raise QuotaExceeded(
            f"You have made {len(recent)} mixes in the last hour (the limit is {hourly}); "
            f"try again in {_minutes(wait)}.",
            retry_after_s=wait,
        )
    queued = await db.scalar(select(func.count()).select_from(Job).where(Job.status == JobStatus.QUEUED.value))
    if queued >= settings.max_queue_length:
        raise QuotaExceeded(
            f"WAVE is busy right now ({queued} pictures are waiting); try again in a few minutes.", retry_after_s=300
        )


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
