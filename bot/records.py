"""Platform-neutral bookkeeping for the chat adapters: posted messages, deliveries, workspaces, the gallery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from db.models import (
    ACTIVE_STATUSES,
    ChatMessage,
    GalleryEntry,
    Job,
    JobStatus,
    Render,
    User,
    Vote,
    Workspace,
    utcnow,
)
from jobs.client import get_or_create_user
from jobs.runtime import Runtime
from pipeline.errors import WaveInputError


@dataclass(frozen=True)
class MessageInfo:
    job_id: str
    kind: str
    variant_id: str | None
    render_version: int | None
    owner: str  # platform user id of the job's owner


@dataclass(frozen=True)
class RunningJob:
    job_id: str
    channel_id: str | None
    reply_ref: dict | None


@dataclass(frozen=True)
class RecentJob:
    job_id: str
    song: str
    status: str
    reply_ref: dict | None


@dataclass(frozen=True)
class TopEntry:
    entry_id: int
    title: str
    votes: int
    job_id: str
    version: int
    shared_by: str
    message_ref: str | None


class ChatRecords:
    def __init__(self, runtime: Runtime, platform: str) -> None:
        self.runtime = runtime
        self.platform = platform

    # ----------------------------------------------------------------------------------------------- messages

    async def remember_message(self, message_ref: str, job_id: str, kind: str, *, variant_id: str | None = None,
                               render_version: int | None = None) -> None:
        async with self.runtime.db() as db:
            existing = await db.get(ChatMessage, message_ref)
            if existing is None:
                db.add(ChatMessage(message_ref=message_ref, job_id=job_id, kind=kind, variant_id=variant_id,
                                        render_version=render_version))
                await db.commit()

    async def message(self, message_ref: str) -> MessageInfo | None:
        async with self.runtime.db() as db:
            row = await db.get(ChatMessage, message_ref)
            if row is None:
                return None
            owner = await db.scalar(select(User.platform_user_id).join(Job, Job.user_id == User.id).where(Job.id == row.job_id))
        return MessageInfo(row.job_id, row.kind, row.variant_id, row.render_version, owner or "")

    async def messages_for(self, job_id: str, kind: str) -> list[str]:
        async with self.runtime.db() as db:
            return list((await db.scalars(
                select(ChatMessage.message_ref).where(ChatMessage.job_id == job_id, ChatMessage.kind == kind)
            )).all())

    async def source_messages(self, job_id: str) -> list[tuple[str, str]]:
        """(message ref, variant id) of each sound's message of a job."""
        async with self.runtime.db() as db:
            rows = (await db.execute(
                select(ChatMessage.message_ref, ChatMessage.variant_id).where(
                    ChatMessage.job_id == job_id, ChatMessage.kind == "source", ChatMessage.variant_id.is_not(None))
            )).all()
        return [(ref, variant_id) for ref, variant_id in rows]

    async def recent_jobs(self, user_id: str, limit: int = 5) -> list[RecentJob]:
        """One person's latest requests on this platform, newest first."""
        async with self.runtime.db() as db:
            rows = (await db.execute(
                select(Job.id, Job.song_ref, Job.status, Job.reply_ref).join(User, User.id == Job.user_id)
                .where(Job.platform == self.platform, User.platform_user_id == user_id)
                .order_by(Job.created_at.desc()).limit(limit)
            )).all()
        return [RecentJob(job_id, song, status, reply_ref) for job_id, song, status, reply_ref in rows]

    # ---------------------------------------------------------------------------------------------- delivery

    async def undelivered_jobs(self) -> list[str]:
        """Finished jobs of this platform whose result was never delivered (for example while the bot was down)."""
        async with self.runtime.db() as db:
            return list((await db.scalars(
                select(Job.id).where(
                    Job.platform == self.platform, Job.delivered_at.is_(None),
                    Job.status.in_([JobStatus.DONE.value, JobStatus.FAILED.value]),
                ).order_by(Job.created_at)
            )).all())

    async def running_jobs(self) -> list[RunningJob]:
        """Jobs of this platform still being made whose first result was not delivered (to follow after a restart)."""
        async with self.runtime.db() as db:
            rows = (await db.execute(
                select(Job.id, Job.channel_id, Job.reply_ref).where(
                    Job.platform == self.platform, Job.delivered_at.is_(None), Job.status.in_(ACTIVE_STATUSES),
                ).order_by(Job.created_at)
            )).all()
        return [RunningJob(job_id, channel_id, reply_ref) for job_id, channel_id, reply_ref in rows]

    async def undelivered_renders(self) -> list[tuple[str, int]]:
        """Remap renders (version 2 and up) that finished but were not posted."""
        async with self.runtime.db() as db:
            rows = (await db.execute(
                select(Render.job_id, Render.version).join(Job, Job.id == Render.job_id).where(
                    Job.platform == self.platform, Render.version > 1, Render.status == "done",
                    Render.delivered_at.is_(None), Job.delivered_at.is_not(None),
                ).order_by(Render.created_at)
            )).all()
        return [(job_id, version) for job_id, version in rows]

    async def claim_job_delivery(self, job_id: str) -> bool:
        """Marks the job delivered; False if someone else already did (so a result is posted once)."""
        async with self.runtime.db() as db:
            result = await db.execute(
                update(Job).where(Job.id == job_id, Job.delivered_at.is_(None)).values(delivered_at=utcnow())
            )
            await db.commit()
        return bool(result.rowcount)

    async def release_job_delivery(self, job_id: str) -> None:
        """Undo a claim whose posting failed, so that it is tried again."""
        async with self.runtime.db() as db:
            await db.execute(update(Job).where(Job.id == job_id).values(delivered_at=None))
            await db.commit()

    async def claim_render_delivery(self, job_id: str, version: int) -> bool:
        async with self.runtime.db() as db:
            result = await db.execute(
                update(Render).where(Render.job_id == job_id, Render.version == version, Render.delivered_at.is_(None))
                .values(delivered_at=utcnow())
            )
            await db.commit()
        return bool(result.rowcount)

    async def release_render_delivery(self, job_id: str, version: int) -> None:
        """Undo a render claim whose posting failed, so that it is tried again."""
        async with self.runtime.db() as db:
            await db.execute(update(Render).where(Render.job_id == job_id, Render.version == version)
                                  .values(delivered_at=None))
            await db.commit()

    async def mark_all_renders_delivered(self, job_id: str) -> None:
        async with self.runtime.db() as db:
            await db.execute(update(Render).where(Render.job_id == job_id, Render.status == "done",
                                                       Render.delivered_at.is_(None)).values(delivered_at=utcnow()))
            await db.commit()

    # --------------------------------------------------------------------------------------------- workspaces

    async def workspace(self, workspace_id: str) -> Workspace | None:
        async with self.runtime.db() as db:
            return await db.scalar(select(Workspace).where(
                Workspace.platform == self.platform, Workspace.platform_workspace_id == workspace_id))

    async def configure_workspace(self, workspace_id: str, **values) -> Workspace:
        """Set gallery_channel_id, default_profile, max_concurrent_jobs_per_user or max_jobs_per_user_per_hour."""
        allowed = {"gallery_channel_id", "default_profile", "max_concurrent_jobs_per_user", "max_jobs_per_user_per_hour", "name"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"unknown workspace settings: {sorted(unknown)}")
        for attempt in range(2):
            async with self.runtime.db() as db:
                workspace = await db.scalar(select(Workspace).where(
                    Workspace.platform == self.platform, Workspace.platform_workspace_id == workspace_id))
                if workspace is None:
                    workspace = Workspace(platform=self.platform, platform_workspace_id=workspace_id)
                    db.add(workspace)
                for key, value in values.items():
                    setattr(workspace, key, value)
                try:
                    await db.commit()
                    return workspace
                except IntegrityError:
                    # Two settings for a new workspace at the same moment: the other created the row; update it.
                    if attempt:
                        raise
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------------------------------------ gallery

    async def share(self, job_id: str, by_user: str, *, version: int | None = None, title: str = "") -> GalleryEntry:
        """Put the job's latest (or given) mix in its workspace's gallery. Only the owner may share."""
        async with self.runtime.db() as db:
            job = await db.get(Job, job_id)
            if job is None or job.workspace_id is None:
                raise WaveInputError("That mix cannot be shared here.")
            owner = await db.get(User, job.user_id)
            if owner.platform_user_id != by_user:
                raise WaveInputError("Only the person who made this mix can share it.")
            workspace = await db.get(Workspace, job.workspace_id)
            if workspace.private_mode:
                raise WaveInputError("This server keeps mixes private, so nothing goes to the gallery.")
            if not workspace.gallery_channel_id:
                raise WaveInputError("This server has no gallery channel yet; an admin can set one.")
            query = select(Render).where(Render.job_id == job_id, Render.status == "done")
            query = query.where(Render.version == version) if version else query.order_by(Render.version.desc())
            render = await db.scalar(query.limit(1))
            if render is None:
                raise WaveInputError("That mix is not ready yet.")
            existing = await db.scalar(select(GalleryEntry).where(GalleryEntry.render_id == render.id))
            if existing is not None:
                if existing.removed:
                    existing.removed = False
                    await db.commit()
                return existing
            entry = GalleryEntry(render_id=render.id, workspace_id=workspace.id, shared_by=owner.id,
                                 channel_id=workspace.gallery_channel_id, title=title[:200])
            db.add(entry)
            await db.commit()
            return entry

    async def set_entry_message(self, entry_id: int, message_ref: str) -> None:
        async with self.runtime.db() as db:
            await db.execute(update(GalleryEntry).where(GalleryEntry.id == entry_id).values(message_ref=message_ref))
            await db.commit()

    async def entry_by_message(self, message_ref: str) -> GalleryEntry | None:
        async with self.runtime.db() as db:
            return await db.scalar(select(GalleryEntry).where(GalleryEntry.message_ref == message_ref,
                                                                   GalleryEntry.removed.is_(False)))

    async def vote(self, entry_id: int, user_id: str, *, up: bool = True) -> int:
        """Record (or withdraw) one person's vote; idempotent; the sharer's own vote is not counted. Returns the
        entry's vote count."""
        async with self.runtime.db() as db:
            user = await get_or_create_user(db, self.platform, user_id, None)
            existing = await db.scalar(select(Vote).where(Vote.entry_id == entry_id, Vote.user_id == user.id))
            entry = await db.get(GalleryEntry, entry_id)
            if up and existing is None and entry is not None and entry.shared_by != user.id:
                db.add(Vote(entry_id=entry_id, user_id=user.id))
            elif not up and existing is not None:
                await db.delete(existing)
            try:
                await db.commit()
            except IntegrityError:
                await db.rollback()
            return int(await db.scalar(select(func.count()).select_from(Vote).where(Vote.entry_id == entry_id)))

    async def remove_entry(self, entry_id: int, by_user: str, *, is_admin: bool = False) -> GalleryEntry:
        async with self.runtime.db() as db:
            entry = await db.get(GalleryEntry, entry_id)
            if entry is None:
                raise WaveInputError("No such gallery post.")
            sharer = await db.get(User, entry.shared_by)
            if sharer.platform_user_id != by_user and not is_admin:
                raise WaveInputError("Only the person who shared this mix can remove it.")
            entry.removed = True
            await db.commit()
            return entry

    async def top(self, workspace_id: str, limit: int = 10, *, since: datetime | None = None) -> list[TopEntry]:
        """The most voted gallery posts; with ``since``, only those shared since then."""
        async with self.runtime.db() as db:
            votes = func.count(Vote.id)
            rows = (await db.execute(
                select(GalleryEntry, Render.job_id, Render.version, User.platform_user_id, votes)
                .join(Workspace, Workspace.id == GalleryEntry.workspace_id)
                .join(Render, Render.id == GalleryEntry.render_id)
                .join(User, User.id == GalleryEntry.shared_by)
                .outerjoin(Vote, Vote.entry_id == GalleryEntry.id)
                .where(Workspace.platform == self.platform, Workspace.platform_workspace_id == workspace_id,
                       GalleryEntry.removed.is_(False),
                       *([GalleryEntry.created_at >= since] if since else []))
                .group_by(GalleryEntry.id, Render.job_id, Render.version, User.platform_user_id)
                .order_by(votes.desc(), GalleryEntry.created_at)
                .limit(limit)
            )).all()
        return [TopEntry(e.id, e.title, int(n), job_id, version, sharer, e.message_ref)
                for e, job_id, version, sharer, n in rows]

