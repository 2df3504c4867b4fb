"""What chat adapters and the CLI use: submit, watch, fetch results, remap, cancel. They never run models."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from db.models import ACTIVE_STATUSES, Job, JobStatus, Render, User, utcnow
from jobs import actions, queues
from jobs.accounts import check_quotas, get_or_create_user, get_or_create_workspace
from jobs.contracts import JobResult, QuotaExceeded, RenderResult, SourceResult, SubmitRequest
from jobs.events import JobEvent, event_for, publish, stage_start
from jobs.remaps import casting_hash, next_casting, played_sessions
from jobs.reuse import copy_results, finished_twin, request_hash
from jobs.runtime import Runtime
from pipeline.errors import WaveInputError
from pipeline.types import Session
from pipeline.vision.intake import check_image_header, load_image

# The contracts and the user rows are imported from here by the chat adapters as well.
__all__ = [
    "JobResult", "JobsClient", "QuotaExceeded", "RenderResult", "SourceResult", "SubmitRequest", "get_or_create_user",
]

log = logging.getLogger(__name__)

SUBMIT_LOCK_KEY = 0x57415645  # "WAVE"


class JobsClient:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings

    # ------------------------------------------------------------------------------------------------ submit

    async def submit(self, request: SubmitRequest) -> str:
        """Check the request and the quotas, store the picture, record the job and queue it. Returns the job id.

        Cheapest first: the picture's size and header, the song and the quotas are checked before the picture is
        decoded or anything is stored, so a refused request costs about the size of its file.
        """
        await asyncio.to_thread(check_image_header, request.image)
        song_ref = _check_song(request.song) if request.midi is None else None
        async with self.runtime.db() as db:
            user = await get_or_create_user(db, request.platform, request.user_id, request.user_name)
            workspace = await get_or_create_workspace(db, request.platform, request.workspace_id, request.workspace_name)
            await db.commit()
            await check_quotas(db, self.settings, user.id, workspace)
        await asyncio.to_thread(load_image, request.image)
        if request.midi is not None:
            await asyncio.to_thread(_check_midi, request.midi)
            song_ref = "midi:" + await asyncio.to_thread(self.runtime.store.put_bytes, request.midi, ".mid")
        profile = request.profile or self.settings.profile
        digest = request_hash(request.image, song_ref, request.cue, profile, request.seed)
        image_key = await asyncio.to_thread(self.runtime.store.put_bytes, request.image, ".img")
        async with self.runtime.db() as db:
            # Quotas are checked and the job written under a lock, so they hold under bursts: an advisory lock on
            # PostgreSQL; on SQLite the first write takes the database's write lock, which serialises as well.
            if db.bind.dialect.name == "postgresql":
                await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SUBMIT_LOCK_KEY})
            await db.execute(update(User).where(User.id == user.id).values(display_name=User.display_name))
            await check_quotas(db, self.settings, user.id, workspace)  # again, under the lock: bursts hold to them
            job = Job(
                user_id=user.id, workspace_id=workspace.id if workspace else None, platform=request.platform,
                channel_id=request.channel_id, reply_ref=request.reply_ref, image_key=image_key, song_ref=song_ref,
                cue=request.cue, profile=profile, seed=request.seed, request_hash=digest,
            )
            db.add(job)
            await db.flush()
            earlier = await finished_twin(db, digest)
            if earlier is not None:
                await copy_results(db, earlier, job)
            await db.commit()
            job_id = job.id
        if earlier is None:
            await self.enqueue_vision(job_id, attempt=0)
        else:
            log.info("job %s reuses the results of %s", job_id, earlier.id)
        await publish(self.runtime, await self.status(job_id))
        return job_id

    async def check_quota(self, platform: str, user_id: str, workspace_id: str | None = None, *,
                          user_name: str | None = None) -> None:
        """Raise :class:`QuotaExceeded` when this person may not submit now: a cheap look before a chat adapter
        downloads the picture. :meth:`submit` checks again under its lock."""
        async with self.runtime.db() as db:
            user = await get_or_create_user(db, platform, user_id, user_name)
            workspace = await get_or_create_workspace(db, platform, workspace_id, None)
            await db.commit()
            await check_quotas(db, self.settings, user.id, workspace)

    async def enqueue_vision(self, job_id: str, attempt: int | str) -> None:
        await queues.enqueue_vision(self.runtime, job_id, attempt)

    async def enqueue_render(self, job_id: str, version: int, attempt: int | str = 0) -> None:
        await queues.enqueue_render(self.runtime, job_id, version, attempt)

    # ---------------------------------------------------------------------------------------------- watching

    async def status(self, job_id: str) -> JobEvent:
        async with self.runtime.db() as db:
            job = await db.get(Job, job_id)
            if job is None:
                raise WaveInputError(f"No job {job_id}.")
            version = await db.scalar(select(func.max(Render.version)).where(Render.job_id == job_id))
        return await event_for(self.runtime, job, version)

    async def events(self, job_id: str, *, poll_s: float = 2.0, timeout_s: float | None = None) -> AsyncIterator[JobEvent]:
        """The job's current state, then every change until it is finished (or ``timeout_s`` passes).

        Redis pub/sub carries live events; the database is polled as well, so a missed message only delays.
        """
        pubsub = self.runtime.redis.pubsub()
        await pubsub.subscribe(self.runtime.channel(job_id))
        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + timeout_s
        try:
            current = await self.status(job_id)
            yield current
            last_key = _event_key(current)
            while not current.finished:
                if deadline is not None and loop.time() >= deadline:
                    return
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=poll_s)
                current = JobEvent.model_validate_json(message["data"]) if message else await self.status(job_id)
                if current.finished and message:
                    current = await self.status(job_id)  # the row carries the error text and id
                key = _event_key(current)
                if key != last_key:
                    last_key = key
                    yield current
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()

    async def wait(self, job_id: str, timeout_s: float = 600) -> JobEvent:
        last = None
        async for event in self.events(job_id, timeout_s=timeout_s):
            last = event
        assert last is not None
        return last

    async def result(self, job_id: str) -> JobResult:
        """The job and its files as local paths (from an object store: copies in this host's read cache)."""
        store = self.runtime.store

        def path(key: str | None) -> Path | None:
            if not key:
                return None
            try:
                return store.open_path(key)
            except (FileNotFoundError, KeyError):
                return None

        async with self.runtime.db() as db:
            job = await db.scalar(
                select(Job).where(Job.id == job_id).options(
                    selectinload(Job.sources), selectinload(Job.renders), selectinload(Job.user)
                )
            )
            if job is None:
                raise WaveInputError(f"No job {job_id}.")

        def files() -> JobResult:  # store reads may be network I/O: they run off the event loop
            renders = [
                RenderResult(
                    version=r.version, status=r.status, casting=r.casting, change=r.change, mix=path(r.mix_key),
                    mix_compressed=path(r.compressed_key), casting_png=path(r.casting_png_key), report=r.report,
                )
                for r in job.renders
            ]
            latest = next((r for r in reversed(renders) if r.status == "done"), None)
            held = played_sessions(latest.report) if latest and latest.report else {}
            sources = [
                SourceResult(
                    variant_id=s.variant_id, name=s.name, material=s.material, play_method=s.play_method,
                    timbre=s.timbre, session=next((part.value for part, vid in held.items() if vid == s.variant_id), None),
                    effect=path(s.effect_key), message_ref=s.message_ref,
                )
                for s in job.sources
            ]
            sheet = path(job.sheet_key)
            sheet_data = _sheet_fields(sheet)
            return JobResult(
                job_id=job.id, status=JobStatus(job.status), message=job.message, error=job.error,
                error_id=job.error_id, song=job.song_ref, cue=job.cue, sheet=sheet, **sheet_data, sources=sources,
                renders=renders, owner=job.user.platform_user_id, platform=job.platform, channel_id=job.channel_id,
                reply_ref=job.reply_ref,
            )

        return await asyncio.to_thread(files)

    # ---------------------------------------------------------------------------------------- remap, cancel

    async def remap(self, job_id: str, variant_id: str, session_name: Session | str) -> int:
        """Move one sound to a session (swapping with the sound that held it); only the music is re-rendered.

        Returns the new render version.
        """
        return await self.remap_many(job_id, [(variant_id, Session(session_name))])

    async def remap_many(self, job_id: str, moves: list[tuple[str, Session]]) -> int:
        """Apply several moves in order as one new render version (what debounced reactions turn into).

        Remaps of one job are serialised (the job row is locked first), so versions follow the order the
        requests arrived in and each builds on the one before.
        """
        async with self.runtime.db() as db:
            await db.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow()))
            job = await db.scalar(
                select(Job).where(Job.id == job_id).options(selectinload(Job.renders), selectinload(Job.sources))
            )
            if job is None:
                raise WaveInputError(f"No job {job_id}.")
            if job.status in (JobStatus.FAILED.value, JobStatus.CANCELLED.value):
                raise WaveInputError("This job did not finish, so there is nothing to remap.")
            known = {s.variant_id for s in job.sources}
            for variant_id, _ in moves:
                if variant_id not in known:
                    raise WaveInputError(f"This job has no sound called {variant_id!r}.")
            base = job.renders[-1] if job.renders else None
            if base is None or (base.status == "queued" and base.version == 1):
                raise WaveInputError("The first mix is still being made; try the remap when it is ready.")
            casting, change = next_casting(base, [(variant_id, Session(target)) for variant_id, target in moves])
            version = base.version + 1
            db.add(Render(job_id=job_id, version=version, casting=casting, casting_hash=casting_hash(casting),
                          change=change))
            job.status = JobStatus.CASTING.value
            job.message = f"Remapping: {change}"[:300]
            job.progress = stage_start(JobStatus.CASTING)
            job.deadline_at = utcnow() + timedelta(seconds=self.settings.cpu_stage_timeout_s + 60)
            try:
                await db.commit()
            except IntegrityError as exc:  # pragma: no cover - the row lock above makes this rare
                raise WaveInputError("Another change to this mix arrived at the same moment; try again.") from exc
        await self.enqueue_render(job_id, version)
        await publish(self.runtime, await self.status(job_id))
        return version

    async def cancel(self, job_id: str) -> bool:
        """Stop a job that has not finished. Returns False when it had already finished."""
        async with self.runtime.db() as db:
            result = await db.execute(
                update(Job)
                .where(Job.id == job_id, Job.status.in_(ACTIVE_STATUSES))
                .values(status=JobStatus.CANCELLED.value, message="Cancelled", finished_at=utcnow())
            )
            await db.commit()
        if result.rowcount:
            await publish(self.runtime, await self.status(job_id))
        return bool(result.rowcount)

    # ---------------------------------------------------------------------------- the buttons under a result

    async def new_sound(self, job_id: str, variant_id: str) -> int:
        """A new sound (new seed) for one source, then the music again; returns the new render version."""
        return await self._published(job_id, actions.new_sound(self.runtime, job_id, variant_id))

    async def change_song(self, job_id: str, song: str) -> int:
        """The same band playing another library song; returns the new render version."""
        from pipeline.songs.library import song_info

        song = _check_song(song)
        if song == "auto":
            raise WaveInputError("Pick a song from the list: the band needs a song to change to.")
        return await self._published(job_id, actions.change_song(self.runtime, job_id, song, song_info(song).title))

    async def edit_sheet(self, job_id: str, text: str) -> int | None:
        """Apply an edited sheet (``sound-id: play method`` lines); None when nothing changed."""
        version = await actions.edit_sheet(self.runtime, job_id, text)
        if version is not None:
            await publish(self.runtime, await self.status(job_id))
        return version

    async def instruments_zip(self, job_id: str) -> Path:
        return await actions.instruments_zip(self.runtime, job_id)

    async def delete(self, job_id: str) -> int:
        """Remove the job, its rows and the files no other job uses; returns how many files were removed."""
        return await actions.delete_job(self.runtime, job_id)

    async def _published(self, job_id: str, change) -> int:
        version = await change
        await publish(self.runtime, await self.status(job_id))
        return version

    async def list_jobs(self, limit: int = 20) -> list[Job]:
        async with self.runtime.db() as db:
            return list((await db.scalars(select(Job).order_by(Job.created_at.desc()).limit(limit))).all())


def _sheet_fields(sheet: Path | None) -> dict:
    """What a result shows of its sound sheet: the scene and what the reading says of itself."""
    data = json.loads(sheet.read_bytes()) if sheet else {}
    notices = data.get("notices")
    return {"scene": data.get("scene_description"), "low_confidence": data.get("low_confidence") is True,
            "notices": [n for n in notices if isinstance(n, str)] if isinstance(notices, list) else []}


def _check_midi(data: bytes) -> None:
    import tempfile

    from pipeline.songs import load_midi

    with tempfile.NamedTemporaryFile(suffix=".mid") as handle:
        handle.write(data)
        handle.flush()
        load_midi(Path(handle.name))


def _check_song(song: str) -> str:
    """Only library ids and ``auto`` are accepted by name: a file path from a user must never reach a worker."""
    from pipeline.songs import list_songs

    song = song.strip()
    if song == "auto":
        return song
    known = [info.id for info in list_songs()]
    if song not in known:
        raise WaveInputError(f"Unknown song {song!r}. Try one of: {', '.join(known[:6])}, or auto.")
    return song


def _event_key(event: JobEvent) -> tuple:
    """What a watcher must hear about: a new place in line counts as a change too."""
    return (event.status, event.progress, event.message, event.render_version, event.queue_position)
