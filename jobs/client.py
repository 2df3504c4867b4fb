"""What chat adapters and the CLI use: submit, watch, fetch results, remap, cancel. They never run models."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import AsyncIterator, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import ACTIVE_STATUSES, Job, JobStatus, Render, SoundSourceRow, User, Workspace, as_utc, utcnow
from jobs.events import JobEvent, event_for, publish
from jobs.runtime import CPU, GPU, Runtime
from pipeline.errors import WaveInputError
from pipeline.types import Session
from pipeline.vision.intake import check_image_header, load_image, normalise_cue

log = logging.getLogger(__name__)

SUBMIT_LOCK_KEY = 0x57415645  # "WAVE"


class QuotaExceeded(WaveInputError):
    """A submission refused by a limit; ``retry_after_s`` says when trying again makes sense."""

    def __init__(self, user_message: str, retry_after_s: int) -> None:
        super().__init__(user_message)
        self.retry_after_s = retry_after_s


class SubmitRequest(BaseModel):
    image: bytes = Field(repr=False)
    song: str = "auto"  # a library id or "auto"; an uploaded MIDI file goes in ``midi``
    midi: bytes | None = Field(default=None, repr=False)
    cue: str | None = None
    profile: Literal["lite", "gpu"] | None = None
    seed: int = 0
    platform: str = "cli"
    user_id: str = "local"
    user_name: str | None = None
    workspace_id: str | None = None
    workspace_name: str | None = None
    channel_id: str | None = None
    reply_ref: dict | None = None

    @field_validator("cue", mode="before")
    @classmethod
    def _clean_cue(cls, value: object) -> str | None:
        return normalise_cue(value)  # type: ignore[arg-type]  # WaveInputError with the limit when too long


class RenderResult(BaseModel):
    version: int
    status: str
    casting: dict
    change: str | None = None
    mix: Path | None = None
    mix_compressed: Path | None = None
    casting_png: Path | None = None
    report: dict | None = None


class SourceResult(BaseModel):
    variant_id: str
    name: str
    material: str
    play_method: str
    timbre: list[str]
    session: str | None = None
    effect: Path | None = None
    message_ref: str | None = None


class JobResult(BaseModel):
    job_id: str
    status: JobStatus
    message: str
    error: str | None = None
    error_id: str | None = None
    song: str
    cue: str | None = None
    sheet: Path | None = None
    scene: str | None = None
    sources: list[SourceResult] = Field(default_factory=list)
    renders: list[RenderResult] = Field(default_factory=list)
    owner: str
    platform: str
    channel_id: str | None = None
    reply_ref: dict | None = None

    @property
    def latest(self) -> RenderResult | None:
        done = [r for r in self.renders if r.status == "done"]
        return done[-1] if done else None


def request_hash(image: bytes, song: str, cue: str | None, profile: str, seed: int) -> str:
    parts = [hashlib.sha256(image).hexdigest(), song, cue or "", profile, str(seed)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


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
        async with self.runtime.sessions() as session:
            user = await get_or_create_user(session, request.platform, request.user_id, request.user_name)
            workspace = await _get_or_create_workspace(session, request.platform, request.workspace_id, request.workspace_name)
            await session.commit()
            await self._check_quotas(session, user.id, workspace)
        await asyncio.to_thread(load_image, request.image)
        if request.midi is not None:
            await asyncio.to_thread(_check_midi, request.midi)
            song_ref = "midi:" + await asyncio.to_thread(self.runtime.store.put_bytes, request.midi, ".mid")
        profile = request.profile or self.settings.profile
        digest = request_hash(request.image, song_ref, request.cue, profile, request.seed)
        image_key = await asyncio.to_thread(self.runtime.store.put_bytes, request.image, ".img")
        async with self.runtime.sessions() as session:
            # Quotas are checked and the job written under a lock, so they hold under bursts: an advisory lock on
            # PostgreSQL; on SQLite the first write takes the database's write lock, which serialises as well.
            if session.bind.dialect.name == "postgresql":
                await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SUBMIT_LOCK_KEY})
            await session.execute(update(User).where(User.id == user.id).values(display_name=User.display_name))
            await self._check_quotas(session, user.id, workspace)  # again, under the lock: bursts hold to them
            job = Job(
                user_id=user.id, workspace_id=workspace.id if workspace else None, platform=request.platform,
                channel_id=request.channel_id, reply_ref=request.reply_ref, image_key=image_key, song_ref=song_ref,
                cue=request.cue, profile=profile, seed=request.seed, request_hash=digest,
            )
            session.add(job)
            await session.flush()
            earlier = await self._finished_twin(session, digest)
            if earlier is not None:
                await _copy_results(session, earlier, job)
            await session.commit()
            job_id = job.id
        if earlier is None:
            await self.enqueue_vision(job_id, attempt=0)
        else:
            log.info("job %s reuses the results of %s", job_id, earlier.id)
        await publish(self.runtime, await self.status(job_id))
        return job_id

    async def _check_quotas(self, session: AsyncSession, user_id: int, workspace: Workspace | None) -> None:
        settings = self.settings
        concurrent = (workspace and workspace.max_concurrent_jobs_per_user) or settings.max_concurrent_jobs_per_user
        hourly = (workspace and workspace.max_jobs_per_user_per_hour) or settings.max_jobs_per_user_per_hour
        active = await session.scalar(
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
            await session.scalars(
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
        queued = await session.scalar(select(func.count()).select_from(Job).where(Job.status == JobStatus.QUEUED.value))
        if queued >= settings.max_queue_length:
            raise QuotaExceeded(
                f"WAVE is busy right now ({queued} pictures are waiting); try again in a few minutes.", retry_after_s=300
            )

    async def _finished_twin(self, session: AsyncSession, digest: str) -> Job | None:
        return await session.scalar(
            select(Job)
            .where(Job.request_hash == digest, Job.status == JobStatus.DONE.value, Job.reused_from.is_(None))
            .order_by(Job.created_at)
            .limit(1)
        )

    async def enqueue_vision(self, job_id: str, attempt: int | str) -> None:
        await self.runtime.redis.enqueue_job(
            "see_and_hear", job_id, _job_id=f"see:{job_id}:{attempt}", _queue_name=self.runtime.queue(GPU)
        )

    async def enqueue_render(self, job_id: str, version: int, attempt: int | str = 0) -> None:
        await self.runtime.redis.enqueue_job(
            "play_render", job_id, version, _job_id=f"play:{job_id}:{version}:{attempt}",
            _queue_name=self.runtime.queue(CPU),
        )

    # ---------------------------------------------------------------------------------------------- watching

    async def status(self, job_id: str) -> JobEvent:
        async with self.runtime.sessions() as session:
            job = await session.get(Job, job_id)
            if job is None:
                raise WaveInputError(f"No job {job_id}.")
            version = await session.scalar(select(func.max(Render.version)).where(Render.job_id == job_id))
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

        async with self.runtime.sessions() as session:
            job = await session.scalar(
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
            held = _assignment(latest.report) if latest and latest.report else {}
            sources = [
                SourceResult(
                    variant_id=s.variant_id, name=s.name, material=s.material, play_method=s.play_method,
                    timbre=s.timbre, session=next((sess for sess, vid in held.items() if vid == s.variant_id), None),
                    effect=path(s.effect_key), message_ref=s.message_ref,
                )
                for s in job.sources
            ]
            sheet = path(job.sheet_key)
            scene = json.loads(sheet.read_bytes()).get("scene_description") if sheet else None
            return JobResult(
                job_id=job.id, status=JobStatus(job.status), message=job.message, error=job.error,
                error_id=job.error_id, song=job.song_ref, cue=job.cue, sheet=sheet, scene=scene, sources=sources,
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
        async with self.runtime.sessions() as session:
            await session.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow()))
            job = await session.scalar(
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
            assignment = dict(base.casting.get("assignment") or {})
            if not assignment and base.report:
                assignment = _assignment(base.report)
            changes = []
            for variant_id, target in moves:
                assignment, change = _move(assignment, variant_id, Session(target))
                changes.append(change)
            version = base.version + 1
            change = "; ".join(changes)[:300]
            session.add(Render(
                job_id=job_id, version=version, casting={"assignment": assignment, "overrides": assignment},
                casting_hash=_casting_hash(assignment), change=change,
            ))
            job.status = JobStatus.CASTING.value
            job.message = f"Remapping: {change}"[:300]
            job.progress = STAGE_START_REMAP
            job.deadline_at = utcnow() + timedelta(seconds=self.settings.cpu_stage_timeout_s + 60)
            try:
                await session.commit()
            except IntegrityError as exc:  # pragma: no cover - the row lock above makes this rare
                raise WaveInputError("Another change to this mix arrived at the same moment; try again.") from exc
        await self.enqueue_render(job_id, version)
        await publish(self.runtime, await self.status(job_id))
        return version

    async def cancel(self, job_id: str) -> bool:
        """Stop a job that has not finished. Returns False when it had already finished."""
        async with self.runtime.sessions() as session:
            result = await session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status.in_(ACTIVE_STATUSES))
                .values(status=JobStatus.CANCELLED.value, message="Cancelled", finished_at=utcnow())
            )
            await session.commit()
        if result.rowcount:
            await publish(self.runtime, await self.status(job_id))
        return bool(result.rowcount)

    async def list_jobs(self, limit: int = 20) -> list[Job]:
        async with self.runtime.sessions() as session:
            return list((await session.scalars(select(Job).order_by(Job.created_at.desc()).limit(limit))).all())


STAGE_START_REMAP = 0.45


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


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _event_key(event: JobEvent) -> tuple:
    """What a watcher must hear about: a new place in line counts as a change too."""
    return (event.status, event.progress, event.message, event.render_version, event.queue_position)


def _assignment(report: dict) -> dict[str, str]:
    """session -> effect id actually cast (not borrowed) in a render's report."""
    return {
        session: entry["effect"]
        for session, entry in (report.get("sessions") or {}).items()
        if entry.get("effect") and not entry.get("fallback")
    }


def _move(assignment: dict[str, str], variant_id: str, target: Session) -> tuple[dict[str, str], str]:
    new = dict(assignment)
    previous = next((s for s, v in assignment.items() if v == variant_id), None)
    holder = assignment.get(target.value)
    if previous == target.value:
        return new, f"{variant_id} already plays {target.value}"
    new[target.value] = variant_id
    if previous is not None:
        if holder is not None:
            new[previous] = holder
            change = f"{variant_id} moved {previous} -> {target.value}; {holder} moved {target.value} -> {previous}"
        else:
            del new[previous]
            change = f"{variant_id} moved {previous} -> {target.value}"
    else:
        change = f"{variant_id} now plays {target.value}" + (f" (instead of {holder})" if holder else "")
    return new, change


def _casting_hash(assignment: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(assignment, sort_keys=True).encode()).hexdigest()


async def get_or_create_user(session: AsyncSession, platform: str, platform_id: str, name: str | None) -> User:
    user = await session.scalar(select(User).where(User.platform == platform, User.platform_user_id == platform_id))
    if user is None:
        user = User(platform=platform, platform_user_id=platform_id, display_name=name)
        session.add(user)
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            user = await session.scalar(select(User).where(User.platform == platform, User.platform_user_id == platform_id))
    return user


async def _get_or_create_workspace(session: AsyncSession, platform: str, workspace_id: str | None, name: str | None) -> Workspace | None:
    if workspace_id is None:
        return None
    query = select(Workspace).where(Workspace.platform == platform, Workspace.platform_workspace_id == workspace_id)
    workspace = await session.scalar(query)
    if workspace is None:
        workspace = Workspace(platform=platform, platform_workspace_id=workspace_id, name=name)
        session.add(workspace)
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            workspace = await session.scalar(query)
    return workspace


async def _copy_results(session: AsyncSession, earlier: Job, job: Job) -> None:
    """An identical earlier request: the new job gets its sheet, effects and first mix without new work."""
    sources = (await session.scalars(select(SoundSourceRow).where(SoundSourceRow.job_id == earlier.id))).all()
    first = await session.scalar(select(Render).where(Render.job_id == earlier.id, Render.version == 1))
    for s in sources:
        session.add(SoundSourceRow(
            job_id=job.id, variant_id=s.variant_id, name=s.name, material=s.material, play_method=s.play_method,
            timbre=s.timbre, hint=s.hint, confidence=s.confidence, prompt=s.prompt, seed=s.seed, effect_key=s.effect_key,
        ))
    if first is not None:
        session.add(Render(
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
