"""Retention: forget old finished jobs and delete artifacts no row refers to any more."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import delete, select

from db.models import ACTIVE_STATUSES, GalleryEntry, Job, Render, SoundSourceRow, utcnow
from jobs.bundle import bundle_keys
from jobs.runtime import Runtime


class GcReport(BaseModel):
    jobs_removed: int
    artifacts_removed: int
    bytes_freed: int


async def referenced_keys(runtime: Runtime) -> set[str]:
    async with runtime.db() as db:
        keys: set[str] = set()
        for column in (Job.image_key, Job.sheet_key, SoundSourceRow.effect_key, Render.mix_key, Render.compressed_key,
                       Render.casting_png_key, Render.report_key):
            keys.update(k for k in (await db.scalars(select(column))).all() if k)
        songs = (await db.scalars(select(Job.song_ref).where(Job.song_ref.like("midi:%")))).all()
        keys.update(song.removeprefix("midi:") for song in songs)
        reports = (await db.scalars(select(Render.report).where(Render.report.is_not(None)))).all()
        keys.update(key for report in reports for key in bundle_keys(report))
    return keys


async def collect_garbage(runtime: Runtime, *, retention_days: int | None = None, min_age_s: float = 3600) -> GcReport:
    """Remove finished jobs older than the retention (keeping any with a gallery entry), then every artifact file
    that nothing refers to and that is older than ``min_age_s`` (so files of jobs being written are safe)."""
    days = runtime.settings.artifact_retention_days if retention_days is None else retention_days
    cutoff = utcnow() - timedelta(days=days)
    async with runtime.db() as db:
        shared_jobs = select(Render.job_id).join(GalleryEntry, GalleryEntry.render_id == Render.id)
        old = (await db.scalars(
            select(Job.id).where(Job.created_at < cutoff, Job.status.not_in(ACTIVE_STATUSES), Job.id.not_in(shared_jobs))
        )).all()
        if old:
            await db.execute(delete(SoundSourceRow).where(SoundSourceRow.job_id.in_(old)))
            await db.execute(delete(Render).where(Render.job_id.in_(old)))
            await db.execute(delete(Job).where(Job.id.in_(old)))
        await db.commit()
    keep = await referenced_keys(runtime)
    store = runtime.store

    def sweep() -> tuple[int, int]:  # store calls block (an object store is network I/O): off the event loop
        now = time.time()
        removed = freed = 0
        for key, mtime in list(store.keys()):
            if key in keep or now - mtime < min_age_s:
                continue
            freed += store.size(key)
            store.delete(key)
            removed += 1
        store.remove_stale_temp_files()
        return removed, freed

    removed, freed = await asyncio.to_thread(sweep)
    return GcReport(jobs_removed=len(old), artifacts_removed=removed, bytes_freed=freed)
