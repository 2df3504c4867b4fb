"""Identical requests (same picture, song, cue, profile and seed) reuse the results of the first one that finished."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Job, JobStatus, Render, SoundSourceRow, utcnow


def request_hash(image: bytes, song: str, cue: str | None, profile: str, seed: int) -> str:
    parts = [hashlib.sha256(image).hexdigest(), song, cue or "", profile, str(seed)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


async def finished_twin(db: AsyncSession, digest: str) -> Job | None:
    """The first finished job of the request with this hash that did the work itself, if any."""
    return await db.scalar(
        select(Job)
        .where(Job.request_hash == digest, Job.status == JobStatus.DONE.value, Job.reused_from.is_(None))
        .order_by(Job.created_at)
        .limit(1)
    )


async def copy_results(db: AsyncSession, earlier: Job, job: Job) -> None:
    """An identical earlier request: the new job gets its sheet, effects and first mix without new work."""
    sources = (await db.scalars(select(SoundSourceRow).where(SoundSourceRow.job_id == earlier.id))).all()
    first = await db.scalar(select(Render).where(Render.job_id == earlier.id, Render.version == 1))
    for s in sources:
        db.add(SoundSourceRow(
            job_id=job.id, variant_id=s.variant_id, name=s.name, material=s.material, play_method=s.play_method,
            timbre=s.timbre, hint=s.hint, confidence=s.confidence, prompt=s.prompt, seed=s.seed, effect_key=s.effect_key,
        ))
    if first is not None:
        db.add(Render(
            job_id=job.id, version=1, casting=first.casting, casting_hash=first.casting_hash, status=first.status,
            mix_key=first.mix_key, compressed_key=first.compressed_key, casting_png_key=first.casting_png_key,
            report_key=first.report_key, report=first.report,
        ))
    now = utcnow()
    job.sheet_key = earlier.sheet_key
    job.reused_from = earlier.id
    job.status = JobStatus.DONE.value
    job.progress = 1.0
    job.message = "Done (same picture, song and cue as before)"
    job.started_at = job.finished_at = now
