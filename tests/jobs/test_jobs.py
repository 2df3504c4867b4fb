"""The job system on real Redis and a real database (SQLite and PostgreSQL), with the lite pipeline."""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from db.models import Job, JobStatus, Render
from jobs.client import JobsClient, QuotaExceeded, SubmitRequest
from jobs.events import WORKER_LOST_MESSAGE
from jobs.gc import referenced_keys
from jobs.runtime import Runtime
from jobs.scratch import PREFIX as SCRATCH_PREFIX
from pipeline.errors import WaveInputError
from wave_core.settings import Settings
from wave_testing.jobs_helpers import WorkerProcess, picture_bytes, request, worker_temp_dir, workers

STAGE_ORDER = [s.value for s in (JobStatus.QUEUED, JobStatus.SEEING, JobStatus.HEARING, JobStatus.CASTING,
                                 JobStatus.BUILDING, JobStatus.PLAYING, JobStatus.DONE)]


async def test_lifecycle_submit_to_done(runtime, jobs_settings):
    client = JobsClient(runtime)
    job_id = await client.submit(request(cue="make it dreamy"))
    seen = []
    async with workers(jobs_settings):
        async for event in client.events(job_id, timeout_s=240):
            seen.append(event)
    statuses = [e.status.value for e in seen]
    assert statuses[0] == "queued" and statuses[-1] == "done", statuses
    positions = [STAGE_ORDER.index(s) for s in statuses]
    assert positions == sorted(positions), f"stages out of order: {statuses}"
    assert {"seeing", "hearing", "playing"} <= set(statuses)
    progress = [e.progress for e in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0

    result = await client.result(job_id)
    assert result.status == JobStatus.DONE and result.scene
    assert result.sheet and result.sheet.exists()
    assert len(result.sources) >= 5 and all(s.effect and s.effect.exists() for s in result.sources)
    latest = result.latest
    assert latest is not None and latest.version == 1
    for path in (latest.mix, latest.mix_compressed, latest.casting_png):
        assert path is not None and path.exists() and path.stat().st_size > 1000
    assert latest.report["loudness_lufs"] == pytest.approx(-14, abs=1.0)
    assert {s.session for s in result.sources if s.session} == {"drums", "bass", "guitar", "keyboard"}


async def test_watchers_hear_when_their_place_in_line_changes(runtime):
    client = JobsClient(runtime)
    first = await client.submit(request("ana"))
    second = await client.submit(request("ben", seed=1))
    async with aclosing(client.events(second, poll_s=0.1, timeout_s=120)) as events:
        assert (await anext(events)).queue_position == 2
        assert await client.cancel(first)
        moved = await anext(events)
    assert moved.status == JobStatus.QUEUED and moved.queue_position == 1


async def test_bad_input_is_refused_before_queueing(runtime):
    client = JobsClient(runtime)
    with pytest.raises(WaveInputError, match="(?i)image|picture"):
        await client.submit(SubmitRequest(image=b"this is not a picture", user_id="ana"))
    with pytest.raises(WaveInputError, match="Unknown song"):
        await client.submit(SubmitRequest(image=picture_bytes(), song="/etc/passwd", user_id="ana"))
    with pytest.raises(WaveInputError):
        await client.submit(SubmitRequest(image=picture_bytes(), midi=b"MThd broken", user_id="ana"))
    async with runtime.db() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 0


async def test_quota_refusal_says_when_to_retry_and_cancel_frees_it(runtime):
    client = JobsClient(runtime)
    first = await client.submit(request())
    with pytest.raises(QuotaExceeded) as refused:
        await client.submit(request(seed=1))
    assert "try again" in refused.value.user_message and refused.value.retry_after_s > 0
    assert await client.cancel(first) is True
    assert (await client.status(first)).status == JobStatus.CANCELLED
    assert await client.cancel(first) is False
    await client.submit(request(seed=1))  # the cancelled job no longer counts


async def test_identical_request_reuses_results_and_remaps_are_ordered(runtime, jobs_settings):
    client = JobsClient(runtime)
    async with workers(jobs_settings):
        first = await client.submit(request())
        assert (await client.wait(first, timeout_s=240)).status == JobStatus.DONE
        twin = await client.submit(request())
        assert (await client.status(twin)).status == JobStatus.DONE  # no new work
        twin_result = await client.result(twin)
        first_result = await client.result(first)
        assert twin_result.latest.mix == first_result.latest.mix

        sources = [s for s in first_result.sources if s.session]
        drums = next(s for s in sources if s.session == "drums")
        bass = next(s for s in sources if s.session == "bass")
        keys = next(s for s in sources if s.session == "keyboard")
        versions = await asyncio.gather(
            client.remap(first, drums.variant_id, "bass"),
            client.remap(first, keys.variant_id, "drums"),
        )
        assert sorted(versions) == [2, 3]
        assert (await client.wait(first, timeout_s=240)).status == JobStatus.DONE
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            result = await client.result(first)
            # a new version's casting picture comes just after its mix
            if all(r.status == "done" and r.casting_png for r in result.renders):
                break
            await asyncio.sleep(0.5)
    renders = {r.version: r for r in result.renders}
    assert sorted(renders) == [1, 2, 3] and all(r.status == "done" for r in renders.values())
    assert all(r.casting_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for r in renders.values())
    # Each remap builds on the one before it, whichever order they arrived in.
    by_version = [renders[v].casting.assignment for v in (1, 2, 3)]
    assert by_version[0] != by_version[1] != by_version[2]
    final = by_version[2]
    assert final["drums"] == keys.variant_id
    assert final["bass"] == drums.variant_id
    assert final["keyboard"] == bass.variant_id
    assert final["guitar"] == by_version[0]["guitar"]


async def test_burst_of_200_submissions(runtime, jobs_settings):
    client = JobsClient(runtime)
    jobs_settings.max_queue_length = 6
    users = [f"user{i}" for i in range(40)]

    async def one(i: int):
        try:
            return await client.submit(request(user=users[i % len(users)], seed=i))
        except QuotaExceeded as refused:
            return refused

    outcomes = await asyncio.gather(*(one(i) for i in range(200)))
    accepted = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, QuotaExceeded)]
    assert len(accepted) + len(refused) == 200
    assert 1 <= len(accepted) <= 6  # the global queue cap holds under a burst
    assert all("try again" in r.user_message for r in refused)
    assert len(set(accepted)) == len(accepted)
    async with workers(jobs_settings):
        finals = await asyncio.gather(*(client.wait(job_id, timeout_s=420) for job_id in accepted))
    assert all(f.status == JobStatus.DONE for f in finals), [f.status for f in finals]
    async with runtime.db() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == len(accepted)
        assert await session.scalar(select(func.count()).select_from(Render)) == len(accepted)


async def test_redis_emptied_mid_queue_jobs_still_finish(jobs_settings):
    jobs_settings.redis_url = "redis://127.0.0.1:6379/5"  # this test empties its own Redis database
    runtime = await Runtime.open(jobs_settings)
    try:
        client = JobsClient(runtime)
        job_ids = [await client.submit(request(user=f"u{i}", seed=i)) for i in range(3)]
        redis = Redis.from_url(jobs_settings.redis_url)
        await redis.flushdb()
        await redis.aclose()
        async with workers(jobs_settings):
            finals = await asyncio.gather(*(client.wait(j, timeout_s=300) for j in job_ids))
        assert [f.status for f in finals] == [JobStatus.DONE] * 3
    finally:
        await runtime.close()


async def test_worker_killed_mid_job_finishes_elsewhere(runtime, jobs_settings, tmp_path):
    # Default time limits: the stage comes back because its worker's heartbeat stopped, not because a limit ran out.
    jobs_settings.gpu_stage_timeout_s = Settings.model_fields["gpu_stage_timeout_s"].default
    jobs_settings.cpu_stage_timeout_s = Settings.model_fields["cpu_stage_timeout_s"].default
    client = JobsClient(runtime)
    first = WorkerProcess(jobs_settings, tmp_path / "worker1.log")
    second = None
    try:
        job_id = await client.submit(request())
        async with aclosing(client.events(job_id, timeout_s=280)) as events:
            async for event in events:
                if event.status not in (JobStatus.QUEUED, JobStatus.SEEING):
                    break
        first.kill()
        assert (await client.status(job_id)).status != JobStatus.DONE
        left_behind = list(worker_temp_dir(tmp_path).glob(f"{SCRATCH_PREFIX}*"))
        assert len(left_behind) == 1, "the killed worker's scratch folder"
        second = WorkerProcess(jobs_settings, tmp_path / "worker2.log")
        messages = [event.message async for event in client.events(job_id, timeout_s=280)]
        final = await client.status(job_id)
        logs = [(tmp_path / f"worker{i}.log").read_text()[-2000:] for i in (1, 2)]
        assert final.status == JobStatus.DONE, (final.error, logs)
        assert WORKER_LOST_MESSAGE in messages, messages
        assert not left_behind[0].exists(), "the next worker removes what a killed one left"
    finally:
        first.stop()
        if second:
            second.stop()
    assert not list(worker_temp_dir(tmp_path).iterdir()), "a stopped worker removes its own scratch folder"
    async with runtime.db() as session:
        renders = (await session.scalars(select(Render).where(Render.job_id == job_id))).all()
    assert [(r.version, r.status) for r in renders] == [(1, "done")]
    stored = {key for key, _ in runtime.store.keys()}
    assert stored <= await referenced_keys(runtime), "artifacts nobody refers to"
