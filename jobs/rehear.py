"""GPU task: make again the effects a change emptied (a new sound, an edited play method), then queue the render of
the version that asked for them. Idempotent like the other tasks: effects already stored are not made again."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select

from db.models import JobStatus, SoundSourceRow
from jobs.events import JobCancelled, ProgressReporter
from jobs.queues import enqueue_render
from jobs.runtime import Runtime
from jobs.scratch import temporary_dir
from jobs.tasks import _fail, _job_taking_versions
from pipeline.sheet import SoundSheet
from wave_core.logging_setup import set_job_id


async def hear_again(ctx: dict[str, Any], job_id: str, version: int) -> str:
    set_job_id(job_id)
    runtime: Runtime = ctx["runtime"]
    job = await _job_taking_versions(runtime, job_id)
    if job is None:
        return "skipped"
    missing = [s for s in job.sources if not s.effect_key]
    if missing:
        reporter = ProgressReporter(runtime, job_id, render_version=version)
        await reporter.update(JobStatus.HEARING, 0.0, "Making the new sounds", force=True)
        loop = asyncio.get_running_loop()
        try:
            sheet = SoundSheet.model_validate_json(await asyncio.to_thread(runtime.store.read_bytes, job.sheet_key))
            by_seed: dict[int, list[SoundSourceRow]] = defaultdict(list)
            for row in missing:
                by_seed[row.seed if row.seed is not None else job.seed].append(row)
            with temporary_dir(ctx, "wave-rehear-") as tmp:
                for seed, rows in by_seed.items():
                    only = _only_variants(sheet, {r.variant_id: r.play_method for r in rows})
                    paths = await asyncio.to_thread(ctx["pipeline"].hear_variants, only, job.profile, seed,
                                                    Path(tmp) / str(seed), reporter.from_thread(loop))
                    await _store_effects(runtime, job_id, paths)
        except JobCancelled:
            return "cancelled"
        except Exception as exc:
            await _fail(ctx, job_id, exc, "hear_again")
            return "failed"
    await enqueue_render(runtime, job_id, version, attempt=ctx.get("job_try", 1))
    return "heard again"


def _only_variants(sheet: SoundSheet, play_methods: dict[str, str]) -> SoundSheet:
    """The sheet cut down to these variants, with their (possibly edited) play methods."""
    sources = []
    for source in sheet.sound_sources:
        variants = [v.model_copy(update={"play_method": play_methods[v.id]}) for v in source.variants
                    if v.id in play_methods]
        if variants:
            sources.append(source.model_copy(update={"variants": variants}))
    return sheet.model_copy(update={"sound_sources": sources})


async def _store_effects(runtime: Runtime, job_id: str, paths: dict[str, Path]) -> None:
    keys = {vid: await asyncio.to_thread(runtime.store.put_file, path) for vid, path in paths.items()}
    async with runtime.db() as db:
        rows = (await db.scalars(select(SoundSourceRow).where(SoundSourceRow.job_id == job_id,
                                                              SoundSourceRow.variant_id.in_(list(keys))))).all()
        for row in rows:
            row.effect_key = keys[row.variant_id]
        await db.commit()
