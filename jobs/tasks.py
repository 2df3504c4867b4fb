"""The two queue tasks. Both are idempotent: they read the job's state from the database, skip work already done
and store outputs by content hash, so a retried or duplicated task does no harm."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from arq import Retry
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from db.models import Job, JobStatus, Render, RenderCasting, SoundSourceRow, as_utc, utcnow
from jobs.bundle import RAW_REPORT_KEY, keep_instruments
from jobs.events import JobCancelled, ProgressReporter, event_for, publish
from jobs.queues import enqueue_render
from jobs.remaps import played_sessions
from jobs.runtime import Runtime
from jobs.scratch import temporary_dir
from jobs.store import ArtifactStore
from jobs.takes import TAKES_REPORT_KEY, takes_of
from pipeline.errors import WaveError, WaveTransientError, is_permanent
from pipeline.progress import ProgressListener
from pipeline.report import PlayReport
from pipeline.safe_names import safe_child
from pipeline.sheet import SoundSheet
from pipeline.types import EffectInput, Session
from wave_core import metrics
from wave_core.logging_setup import set_job_id

log = logging.getLogger(__name__)


class PipelineRunner(Protocol):
    """The work the tasks hand to the pipeline; swapped for a no-op one when measuring queue overhead."""

    def see_and_hear(self, image: bytes, cue: str | None, profile: str, seed: int, out_dir: Path,
                     progress: ProgressListener) -> tuple[SoundSheet, dict[str, Path]]: ...

    def hear_variants(self, sheet: SoundSheet, profile: str, seed: int, out_dir: Path,
                      progress: ProgressListener) -> dict[str, Path]: ...

    def play(self, effects: list[EffectInput], song: str, out_dir: Path, *, mood: str, seed: int,
             overrides: dict[Session, str] | None, progress: ProgressListener,
             casting_picture: bool = True) -> PlayReport: ...

    def draw_casting(self, out_dir: Path, effects: list[EffectInput]) -> Path: ...


def _job_log(job_id: str) -> logging.LoggerAdapter:
    return logging.LoggerAdapter(log, {"job_id": job_id})


async def _load_job(runtime: Runtime, job_id: str) -> Job | None:
    async with runtime.db() as db:
        return await db.scalar(select(Job).where(Job.id == job_id).options(selectinload(Job.sources)))


async def _job_taking_versions(runtime: Runtime, job_id: str) -> Job | None:
    """The job with its sources, unless it is gone, cancelled or failed (a done job still takes new versions)."""
    job = await _load_job(runtime, job_id)
    if job is None or job.status in (JobStatus.CANCELLED.value, JobStatus.FAILED.value):
        return None
    return job


async def _finish(runtime: Runtime, job_id: str, status: JobStatus, message: str, *, error: str | None = None,
                  error_id: str | None = None) -> None:
    async with runtime.db() as db:
        await db.execute(
            update(Job)
            .where(Job.id == job_id, Job.status != JobStatus.CANCELLED.value)
            .values(status=status.value, message=message, error=error, error_id=error_id, finished_at=utcnow(),
                    progress=1.0 if status == JobStatus.DONE else Job.progress)
        )
        await db.commit()
        job = await db.get(Job, job_id)
    if job is not None:
        await publish(runtime, await event_for(runtime, job))


async def _fail(ctx: dict[str, Any], job_id: str, exc: BaseException, stage: str) -> None:
    """Permanent failures fail the job at once; passing ones retry with backoff until the tries run out."""
    runtime: Runtime = ctx["runtime"]
    jlog = _job_log(job_id)
    job_try = ctx.get("job_try", 1)
    if isinstance(exc, WaveError) and exc.permanent:
        jlog.info("job %s failed at %s: %s", job_id, stage, exc)
        metrics.count_failure(exc, stage)
        await _finish(runtime, job_id, JobStatus.FAILED, "Failed", error=exc.user_message)
        return
    if not is_permanent(exc) and job_try < runtime.settings.job_retries:
        jlog.warning("job %s: %s failed (try %d), retrying: %r", job_id, stage, job_try, exc)
        metrics.count_retry(stage)
        raise Retry(defer=2 ** job_try) from exc
    error_id = uuid.uuid4().hex[:8]
    jlog.error("job %s failed at %s after %d tries (error id %s)", job_id, stage, job_try, error_id, exc_info=exc)
    metrics.count_failure(exc, stage)
    message = exc.user_message if isinstance(exc, WaveTransientError) else "Something went wrong while making your mix."
    await _finish(runtime, job_id, JobStatus.FAILED, "Failed", error=message, error_id=error_id)


async def see_and_hear(ctx: dict[str, Any], job_id: str) -> str:
    """GPU task: picture -> sheet -> effects, stored; then the music task is queued."""
    set_job_id(job_id)
    runtime: Runtime = ctx["runtime"]
    job = await _load_job(runtime, job_id)
    if job is None or job.job_status.finished:
        return "skipped"
    if not job.attempts:
        metrics.observe_stage(JobStatus.QUEUED.value, (utcnow() - as_utc(job.created_at)).total_seconds())
    if job.sheet_key and job.sources and all(s.effect_key for s in job.sources):
        await _queue_first_render(ctx, job_id)
        return "already heard"
    settings = runtime.settings
    async with runtime.db() as db:
        await db.execute(
            update(Job).where(Job.id == job_id).values(
                attempts=Job.attempts + 1, started_at=job.started_at or utcnow(),
                deadline_at=utcnow() + timedelta(seconds=settings.gpu_stage_timeout_s + 30),
            )
        )
        await db.commit()
    reporter = ProgressReporter(runtime, job_id)
    await reporter.update(JobStatus.SEEING, 0.0, "Looking at the picture", force=True)
    loop = asyncio.get_running_loop()
    try:
        image = await asyncio.to_thread(runtime.store.read_bytes, job.image_key)
        with temporary_dir(ctx, "wave-hear-") as tmp:
            sheet, effect_paths = await asyncio.to_thread(
                ctx["pipeline"].see_and_hear, image, job.cue, job.profile, job.seed, Path(tmp),
                reporter.from_thread(loop),
            )
            await _store_sheet_and_effects(runtime, job_id, sheet, effect_paths)
    except JobCancelled:
        return "cancelled"
    except Exception as exc:
        await _fail(ctx, job_id, exc, "see_and_hear")
        return "failed"
    if reporter.cancelled:
        return "cancelled"
    await reporter.update(JobStatus.CASTING, 0.0, "Casting the sounds into the band", force=True)
    await _queue_first_render(ctx, job_id)
    return "heard"


async def _store_sheet_and_effects(runtime: Runtime, job_id: str, sheet: SoundSheet, paths: dict[str, Path]) -> None:
    store = runtime.store
    sheet_key = await asyncio.to_thread(store.put_bytes, sheet.to_json().encode(), ".json")
    effect_keys = {vid: await asyncio.to_thread(store.put_file, path) for vid, path in paths.items()}
    async with runtime.db() as db:
        existing = {
            s.variant_id: s for s in (await db.scalars(select(SoundSourceRow).where(SoundSourceRow.job_id == job_id))).all()
        }
        for source, variant in sheet.variants():
            row = existing.get(variant.id) or SoundSourceRow(job_id=job_id, variant_id=variant.id)
            row.name = source.name
            row.material = source.material
            row.play_method = variant.play_method
            row.timbre = list(variant.timbre)
            row.hint = variant.mapping_to_music_instrument.value if variant.mapping_to_music_instrument else None
            row.confidence = variant.confidence
            row.prompt = variant.prompt
            row.seed = variant.seed
            row.effect_key = effect_keys.get(variant.id)
            db.add(row)
        await db.execute(update(Job).where(Job.id == job_id).values(sheet_key=sheet_key))
        await db.commit()


async def _queue_first_render(ctx: dict[str, Any], job_id: str) -> None:
    runtime: Runtime = ctx["runtime"]
    async with runtime.db() as db:
        render = await db.scalar(select(Render).where(Render.job_id == job_id, Render.version == 1))
        if render is None:
            db.add(Render(job_id=job_id, version=1, casting=RenderCasting(), casting_hash=""))
            try:
                await db.commit()
            except Exception:  # a duplicate task created it first
                await db.rollback()
    await enqueue_render(runtime, job_id, 1, attempt=ctx.get("job_try", 1))


async def _store_outputs(store: ArtifactStore, out: Path, report: PlayReport) -> dict[str, str | None]:
    """The render's files, stored side by side (hashing and copying wait on the disk and release the GIL)."""
    png = out / report.casting_png if report.casting_png else None

    async def no_picture() -> None:
        return None

    mix, compressed, casting_png, report_key = await asyncio.gather(
        asyncio.to_thread(store.put_file, out / report.mix),
        asyncio.to_thread(store.put_file, out / report.mix_compressed),
        asyncio.to_thread(store.put_file, png) if png is not None and png.exists() else no_picture(),
        asyncio.to_thread(store.put_bytes, report.to_json().encode(), ".json"),
    )
    return {"mix_key": mix, "compressed_key": compressed, "casting_png_key": casting_png, "report_key": report_key}


async def _store_instruments(store: ArtifactStore, out: Path, destination: Path) -> str | None:
    kept = await asyncio.to_thread(keep_instruments, out, destination)
    return await asyncio.to_thread(store.put_file, kept) if kept else None


async def play_render(ctx: dict[str, Any], job_id: str, version: int) -> str:
    """CPU task: effects + song (+ casting overrides) -> instruments, stems, mix; stored as a render version."""
    set_job_id(job_id)
    runtime: Runtime = ctx["runtime"]
    job = await _job_taking_versions(runtime, job_id)
    if job is None:
        return "skipped"
    async with runtime.db() as db:
        render = await db.scalar(select(Render).where(Render.job_id == job_id, Render.version == version))
        newest = await db.scalar(select(Render.version).where(Render.job_id == job_id).order_by(Render.version.desc()).limit(1))
    if render is None:
        return "no such render"
    if render.status == "done":
        return "already played"
    async with runtime.db() as db:  # the stage's deadline counts from its start, not its queuing
        await db.execute(update(Job).where(Job.id == job_id).values(
            deadline_at=utcnow() + timedelta(seconds=runtime.settings.cpu_stage_timeout_s)))
        await db.commit()
    reporter = ProgressReporter(runtime, job_id, render_version=version)
    await reporter.update(JobStatus.CASTING, 0.0, "Casting the sounds into the band", force=True)
    loop = asyncio.get_running_loop()
    store = runtime.store
    overrides = dict(render.casting.overrides)
    mood = ""
    if job.sheet_key:
        sheet = json.loads(await asyncio.to_thread(store.read_bytes, job.sheet_key))
        mood = " ".join(filter(None, [job.cue or "", sheet.get("mood_description", "")]))
    # A new version's message carries only its mix: its casting picture is drawn once the mix is out.
    picture_later = version > 1
    with temporary_dir(ctx, "wave-play-") as tmp:
        work = Path(tmp)
        try:
            effects = []
            for source in job.sources:
                if not source.effect_key:
                    continue
                path = await asyncio.to_thread(store.copy_to, source.effect_key, safe_child(work / "effects", f"{source.variant_id}.wav"))
                words = " ".join([source.name, source.material, source.play_method, *source.timbre])
                effects.append(EffectInput(id=source.variant_id, path=path, name=source.name, words=words,
                                           hint=Session(source.hint) if source.hint else None))
            song = render.casting.song or job.song_ref
            if song.startswith("midi:"):
                song = str(await asyncio.to_thread(store.copy_to, song.removeprefix("midi:"), work / "song.mid"))
            report: PlayReport = await asyncio.to_thread(
                ctx["pipeline"].play, effects, song, work / "out", mood=mood, seed=job.seed,
                overrides=overrides or None, progress=reporter.from_thread(loop), casting_picture=not picture_later,
            )
            out = work / "out"
            keys, instruments_key = await asyncio.gather(_store_outputs(store, out, report),
                                                         _store_instruments(store, out, work / "instruments.zip"))
        except JobCancelled:
            return "cancelled"
        except Exception as exc:
            await _fail(ctx, job_id, exc, "play_render")
            return "failed"
        reporter.end_stage()
        report_data = json.loads(report.to_json())
        if instruments_key:
            report_data[RAW_REPORT_KEY] = instruments_key
        report_data[TAKES_REPORT_KEY] = takes_of(job.sources)
        casting = render.casting.model_copy(update={"assignment": played_sessions(report_data)})
        async with runtime.db() as db:
            await db.execute(
                update(Render).where(Render.id == render.id).values(status="done", report=report_data, casting=casting, **keys)
            )
            await db.commit()
        if reporter.cancelled:
            return "cancelled"
        if version >= (newest or version):
            await _finish(runtime, job_id, JobStatus.DONE, "Done" if version == 1 else f"Done: {render.change or 'remapped'}")
        if picture_later:
            await _add_casting_picture(ctx, render.id, out, effects)
    return "played"


async def _add_casting_picture(ctx: dict[str, Any], render_id: int, out: Path, effects: list[EffectInput]) -> None:
    """Draw and store a finished render's casting picture; a failure costs only the picture, with a log line."""
    runtime: Runtime = ctx["runtime"]
    try:
        png = await asyncio.to_thread(ctx["pipeline"].draw_casting, out, effects)
        key = await asyncio.to_thread(runtime.store.put_file, png)
    except Exception:
        log.warning("render %s: could not draw its casting picture", render_id, exc_info=True)
        return
    async with runtime.db() as db:
        await db.execute(update(Render).where(Render.id == render_id).values(casting_png_key=key))
        await db.commit()
