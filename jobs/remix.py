"""A remix: the band of a finished job playing another song, as a new job of the person who asked (their quota).

The picture, sound sheet and sounds are the original job's; only the music is rendered, so it costs a render."""

from __future__ import annotations

from sqlalchemy import select, text, update
from sqlalchemy.orm import selectinload

from db.models import Job, JobStatus, Render, RenderCasting, SoundSourceRow, User
from jobs.accounts import check_quotas, get_or_create_user, get_or_create_workspace
from jobs.client import SUBMIT_LOCK_KEY, JobsClient, _check_song
from jobs.events import publish
from jobs.reuse import request_hash
from pipeline.errors import WaveInputError


async def remix(jobs: JobsClient, source_job_id: str, song: str, *, platform: str, user_id: str,
                user_name: str | None = None, workspace_id: str | None = None, channel_id: str | None = None,
                reply_ref: dict | None = None) -> str:
    """Start the remix; returns the new job's id. The caller decides who may remix ``source_job_id``."""
    runtime = jobs.runtime
    song_ref = _check_song(song)
    async with runtime.db() as db:
        source = await db.scalar(select(Job).where(Job.id == source_job_id).options(selectinload(Job.sources)))
        if source is None or source.status != JobStatus.DONE.value or not source.sources:
            raise WaveInputError("That mix cannot be remixed.")
        user = await get_or_create_user(db, platform, user_id, user_name)
        workspace = await get_or_create_workspace(db, platform, workspace_id, None)
        await db.commit()
    async with runtime.db() as db:
        if db.bind.dialect.name == "postgresql":  # the same lock as a submission: quotas hold under bursts
            await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SUBMIT_LOCK_KEY})
        await db.execute(update(User).where(User.id == user.id).values(display_name=User.display_name))
        await check_quotas(db, runtime.settings, user.id, workspace)
        job = Job(
            user_id=user.id, workspace_id=workspace.id if workspace else None, platform=platform,
            channel_id=channel_id, reply_ref=reply_ref, image_key=source.image_key, song_ref=song_ref, cue=source.cue,
            profile=source.profile, seed=source.seed, sheet_key=source.sheet_key, status=JobStatus.CASTING.value,
            message=f"Remixing with {song_ref}", reused_from=source.id,
            request_hash=request_hash(source.request_hash.encode(), song_ref, source.cue, source.profile, source.seed),
        )
        db.add(job)
        await db.flush()
        for s in source.sources:
            db.add(SoundSourceRow(
                job_id=job.id, variant_id=s.variant_id, name=s.name, material=s.material, play_method=s.play_method,
                timbre=s.timbre, hint=s.hint, confidence=s.confidence, prompt=s.prompt, seed=s.seed,
                effect_key=s.effect_key,
            ))
        db.add(Render(job_id=job.id, version=1, casting=RenderCasting(), casting_hash=""))
        await db.commit()
        job_id = job.id
    await jobs.enqueue_render(job_id, 1)
    await publish(runtime, await jobs.status(job_id))
    return job_id
