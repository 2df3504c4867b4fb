"""What the buttons under a result do to a finished job: a new sound for one source, another song, an edited sheet,
the instruments for a DAW, and deleting the job. Every chat platform calls these through :class:`JobsClient`.

A change becomes a new render version (delivered like a remap). A new or edited sound first empties that source's
effect and queues the GPU task that makes the missing effects again (:mod:`jobs.rehear`); the render follows it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from db.models import ChatMessage, GalleryEntry, Job, JobStatus, Render, Vote, utcnow
from jobs import queues
from jobs.bundle import BUNDLE_FILE_NAME, BUNDLE_REPORT_KEY, RAW_REPORT_KEY, bundle_keys, pack_instruments
from jobs.events import stage_start
from jobs.gc import referenced_keys
from jobs.remaps import casting_hash
from jobs.runtime import Runtime
from pipeline.errors import WaveInputError
from pipeline.safe_names import UnsafeNameError, check_slug

log = logging.getLogger(__name__)

JOB_ID = re.compile(r"[0-9a-f]{32}")
MAX_SHEET_EDIT_CHARS = 4000  # the whole edited text (Discord's modal field holds this much)
MAX_PLAY_METHOD_CHARS = 160  # as the sheet itself allows
SEED_LIMIT = 2**31


def check_job_id(value: str) -> str:
    """A job id from a button or a form: 32 hex digits, nothing else (it is never used as a path)."""
    if not isinstance(value, str) or not JOB_ID.fullmatch(value):
        raise WaveInputError("That button does not belong to a WAVE mix.")
    return value


# ------------------------------------------------------------------------------------------------- sheet edits

class PlayMethodEdit(BaseModel):
    """One line of an edited sheet: a sound (its id unchanged) and how it is played now."""

    variant_id: str
    play_method: str = Field(min_length=1, max_length=MAX_PLAY_METHOD_CHARS)

    @field_validator("variant_id")
    @classmethod
    def _slug(cls, value: str) -> str:
        try:
            return check_slug(value, "sound id")
        except UnsafeNameError as exc:
            raise ValueError(exc.user_message) from None

    @field_validator("play_method", mode="before")
    @classmethod
    def _one_line(cls, value: object) -> object:
        return " ".join(value.split()) if isinstance(value, str) else value


def sheet_edit_text(sources: Iterable[tuple[str, str]]) -> str:
    """The editable form of a sheet: one ``sound-id: how it is played`` line per sound."""
    return "\n".join(f"{variant_id}: {play_method}" for variant_id, play_method in sources)


def parse_sheet_edit(text: str, current: dict[str, str]) -> dict[str, str]:
    """The play methods an edited text changes (sound id -> new play method). The text is a person's: its size
    is capped, every line must name a sound of this job by its unchanged id, and each play method is checked."""
    if len(text) > MAX_SHEET_EDIT_CHARS:
        raise WaveInputError(f"The edited sheet is too long (over {MAX_SHEET_EDIT_CHARS} characters).")
    changes: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        variant_id, colon, method = line.partition(":")
        if not colon:
            raise WaveInputError(f"Line {number} needs the form `sound-id: how it is played`.")
        try:
            edit = PlayMethodEdit(variant_id=variant_id.strip(), play_method=method)
        except ValidationError as exc:
            problem = exc.errors()[0]
            raise WaveInputError(f"Line {number}: {problem['msg'].removeprefix('Value error, ')}.") from None
        if edit.variant_id not in current:
            raise WaveInputError(f"Line {number}: this mix has no sound called {edit.variant_id!r} (keep the ids).")
        if edit.variant_id in changes:
            raise WaveInputError(f"Line {number}: {edit.variant_id!r} is listed twice.")
        if edit.play_method != current[edit.variant_id]:
            changes[edit.variant_id] = edit.play_method
    return changes


# ----------------------------------------------------------------------------------------------- operations

async def _finished_job(db, job_id: str) -> Job:
    """The job, its row locked first so that changes to one job follow each other; it must be done."""
    await db.execute(update(Job).where(Job.id == check_job_id(job_id)).values(updated_at=utcnow()))
    job = await db.scalar(
        select(Job).where(Job.id == job_id).options(selectinload(Job.renders), selectinload(Job.sources))
    )
    if job is None:
        raise WaveInputError("This mix no longer exists.")
    if job.status != JobStatus.DONE.value or not job.renders or job.renders[-1].status != "done":
        raise WaveInputError("This mix is still being made or changed; try again when its newest version is out.")
    return job


def _new_version(db, job: Job, change: str, **casting_update) -> int:
    """A new render version keeping the newest version's band, with ``casting_update`` applied."""
    base = job.renders[-1]
    pinned = dict(base.casting.assignment)
    casting = base.casting.model_copy(update={"assignment": pinned, "overrides": pinned, **casting_update})
    version = base.version + 1
    db.add(Render(job_id=job.id, version=version, casting=casting, casting_hash=casting_hash(casting),
                  change=change[:300]))
    return version


async def change_song(runtime: Runtime, job_id: str, song: str, song_title: str) -> int:
    """The same band playing ``song`` (a checked library id) as a new render version."""
    async with runtime.db() as db:
        job = await _finished_job(db, job_id)
        if song == (job.renders[-1].casting.song or job.song_ref):
            raise WaveInputError(f"This mix already plays {song_title}.")
        version = _new_version(db, job, f"the band now plays {song_title}", song=song)
        _mark_busy(job, JobStatus.CASTING, f"Playing {song_title}", runtime.settings.cpu_stage_timeout_s)
        await db.commit()
    await queues.enqueue_render(runtime, job_id, version)
    return version


async def new_sound(runtime: Runtime, job_id: str, variant_id: str) -> int:
    """A new sound for one source (the same words, a new seed), then the music again."""
    async with runtime.db() as db:
        job = await _finished_job(db, job_id)
        row = next((s for s in job.sources if s.variant_id == variant_id), None)
        if row is None:
            raise WaveInputError("This mix has no such sound.")
        row.seed = secrets.randbelow(SEED_LIMIT)
        row.effect_key = None
        version = _new_version(db, job, f"a new sound for {row.name}")
        _mark_busy(job, JobStatus.HEARING, f"Making a new sound for {row.name}", runtime.settings.gpu_stage_timeout_s)
        await db.commit()
    await queues.enqueue_hear_again(runtime, job_id, version)
    return version


async def edit_sheet(runtime: Runtime, job_id: str, text: str) -> int | None:
    """Apply an edited sheet: the sounds whose play method changed are made again, then the music. None when the
    text changes nothing."""
    async with runtime.db() as db:
        job = await _finished_job(db, job_id)
        changes = parse_sheet_edit(text, {s.variant_id: s.play_method for s in job.sources})
        if not changes:
            return None
        sheet = json.loads(await asyncio.to_thread(runtime.store.read_bytes, job.sheet_key)) if job.sheet_key else None
        for row in job.sources:
            if row.variant_id in changes:
                row.play_method = changes[row.variant_id]
                row.effect_key = None
        if sheet is not None:
            for source in sheet.get("sound_sources", []):
                for variant in source.get("variants", []):
                    if variant.get("id") in changes:
                        variant["play_method"] = changes[variant["id"]]
            job.sheet_key = await asyncio.to_thread(runtime.store.put_bytes, json.dumps(sheet, indent=2).encode(),
                                                    ".json")
        names = [row.name for row in job.sources if row.variant_id in changes]
        version = _new_version(db, job, f"new sounds for {', '.join(names)} (sheet edited)")
        _mark_busy(job, JobStatus.HEARING, "Making the edited sounds", runtime.settings.gpu_stage_timeout_s)
        await db.commit()
    await queues.enqueue_hear_again(runtime, job_id, version)
    return version


def _mark_busy(job: Job, status: JobStatus, message: str, stage_timeout_s: float) -> None:
    job.status = status.value
    job.message = message[:300]
    job.progress = stage_start(status)
    job.finished_at = None
    job.deadline_at = utcnow() + timedelta(seconds=stage_timeout_s + 60)


async def instruments_zip(runtime: Runtime, job_id: str) -> Path:
    """The newest version's instruments zip as a local path: built from the instruments as played the first time
    it is asked for, then kept (two at once build it twice, with the same content and key)."""
    async with runtime.db() as db:
        render = await db.scalar(
            select(Render).where(Render.job_id == check_job_id(job_id), Render.status == "done")
            .order_by(Render.version.desc()).limit(1)
        )
    report = (render.report if render is not None else None) or {}
    store = runtime.store
    try:
        if isinstance(built := report.get(BUNDLE_REPORT_KEY), str):
            return await asyncio.to_thread(store.open_path, built)
        raw = report.get(RAW_REPORT_KEY)
        if not isinstance(raw, str):
            raise WaveInputError("This mix has no instruments to download (it was made before they were kept).")
        key = await asyncio.to_thread(_build_bundle, store, raw)
    except (FileNotFoundError, KeyError):
        raise WaveInputError("This mix's instruments are no longer kept.") from None
    async with runtime.db() as db:
        await db.execute(update(Render).where(Render.id == render.id).values(report={**report, BUNDLE_REPORT_KEY: key}))
        await db.commit()
    return await asyncio.to_thread(store.open_path, key)


def _build_bundle(store, raw_key: str) -> str:
    with tempfile.TemporaryDirectory(prefix="wave-bundle-") as tmp:
        root = Path(tmp) / "instruments"
        with zipfile.ZipFile(store.open_path(raw_key)) as kept:
            for member in kept.infolist():  # written by our worker; still, no name may leave the folder
                target = (root / member.filename).resolve()
                if member.is_dir() or not target.is_relative_to(root.resolve()):
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(kept.read(member))
        bundle = pack_instruments(root, Path(tmp) / BUNDLE_FILE_NAME)
        if bundle is None:
            raise WaveInputError("This mix has no instruments to download.")
        return store.put_file(bundle)


async def delete_job(runtime: Runtime, job_id: str) -> int:
    """Remove a job: its rows (sounds, versions, gallery entries, chat records) and the stored files no other job
    uses (a worker still on it finds it gone and stops). Returns how many files were removed."""
    async with runtime.db() as db:
        job = await db.scalar(
            select(Job).where(Job.id == check_job_id(job_id)).options(selectinload(Job.renders), selectinload(Job.sources))
        )
        if job is None:
            raise WaveInputError("This mix no longer exists.")
        keys = {job.image_key, job.sheet_key, job.song_ref.removeprefix("midi:") if job.song_ref.startswith("midi:") else None}
        keys |= {s.effect_key for s in job.sources}
        for r in job.renders:
            keys |= {r.mix_key, r.compressed_key, r.casting_png_key, r.report_key, *bundle_keys(r.report)}
        render_ids = [r.id for r in job.renders]
        entries = select(GalleryEntry.id).where(GalleryEntry.render_id.in_(render_ids))
        await db.execute(delete(Vote).where(Vote.entry_id.in_(entries)))
        await db.execute(delete(GalleryEntry).where(GalleryEntry.render_id.in_(render_ids)))
        await db.execute(delete(ChatMessage).where(ChatMessage.job_id == job_id))
        await db.execute(update(Job).where(Job.reused_from == job_id).values(reused_from=None))
        await db.delete(job)  # its sounds and versions go with it
        await db.commit()
    in_use = await referenced_keys(runtime)  # identical requests share their files
    unused = [key for key in keys if key and key not in in_use]
    for key in unused:
        try:
            await asyncio.to_thread(runtime.store.delete, key)
        except (OSError, KeyError) as exc:  # a file left behind is collected later; the job is gone either way
            log.warning("could not remove %s of deleted job %s: %s", key, job_id, exc)
    return len(unused)
