"""The operations behind the buttons under a result, on the job layer with real workers and the lite pipeline."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile

import pytest
import soundfile
from arq.constants import job_key_prefix

from db.models import Job, JobStatus
from jobs.actions import check_job_id, parse_sheet_edit, sheet_edit_text
from jobs.bundle import BUNDLE_MAX_BYTES
from jobs.client import JobsClient
from jobs.queues import hear_again_stage
from jobs.reaper import reap
from pipeline.errors import WaveInputError
from wave_testing.jobs_helpers import request, workers

SONG = "row_your_boat"


async def version_done(client: JobsClient, job_id: str, version: int, timeout_s: float = 240):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = await client.result(job_id)
        render = next((r for r in result.renders if r.version == version), None)
        # a new version's worker task ends with its casting picture, drawn once the mix is out
        finished = render is not None and (render.status == "failed" or render.status == "done" and render.casting_png)
        if finished and result.status.finished:
            return result, render
        await asyncio.sleep(0.2)
    raise AssertionError(f"version {version} of {job_id} did not finish")


def test_sheet_edits_are_checked_as_hostile_text():
    current = {"cup-1": "tapped with a spoon", "door-1": "slammed"}
    text = sheet_edit_text(current.items())
    assert parse_sheet_edit(text, current) == {}
    assert parse_sheet_edit("cup-1:  rubbed   on the rim \n\ndoor-1: slammed", current) == {"cup-1": "rubbed on the rim"}
    for bad, says in [
        ("../etc: x", "sound id"), ("cup-2: tapped", "no sound called"), ("cup-1 tapped", "form"),
        ("cup-1: ", "at least 1"), ("cup-1: " + "a" * 200, "at most 160"), ("cup-1: a\ncup-1: b", "twice"),
        ("x" * 5000, "too long"),
    ]:
        with pytest.raises(WaveInputError, match=says):
            parse_sheet_edit(bad, current)
    for bad_id in ("../../x", "0" * 31, "A" * 32, "zz" * 16):
        with pytest.raises(WaveInputError):
            check_job_id(bad_id)


async def test_new_sound_song_edit_zip_and_delete(runtime, jobs_settings):
    client = JobsClient(runtime)
    async with workers(jobs_settings):
        job_id = await client.submit(request())
        assert (await client.wait(job_id, timeout_s=240)).status == JobStatus.DONE
        first = await client.result(job_id)
        source = first.sources[0]
        before = source.effect.read_bytes()

        # Instruments zip: per session an SFZ whose samples (FLAC) are in the zip, within the upload limit;
        # built once, then the same file.
        bundle = await client.instruments_zip(job_id)
        assert bundle.stat().st_size <= BUNDLE_MAX_BYTES and await client.instruments_zip(job_id) == bundle
        with zipfile.ZipFile(bundle) as archive:
            names = set(archive.namelist())
            sfzs = [n for n in names if n.endswith(".sfz")]
            assert len(sfzs) == 4
            for sfz in sfzs:
                folder = sfz.rsplit("/", 1)[0]
                samples = [op.split("=", 1)[1] for line in archive.read(sfz).decode().splitlines()
                           if line.startswith("<region>") for op in line.split() if op.startswith("sample=")]
                assert samples and all(f"{folder}/{sample}" in names for sample in samples)
                audio, rate = soundfile.read(io.BytesIO(archive.read(f"{folder}/{samples[0]}")))
                assert rate > 8000 and len(audio) > 100

        # Another song: a new version playing it, the band unchanged.
        version = await client.change_song(job_id, SONG)
        with pytest.raises(WaveInputError, match="still being made"):
            await client.change_song(job_id, SONG)
        result, render = await version_done(client, job_id, version)
        assert render.status == "done" and render.report["song"]["id"] == SONG
        assert render.casting.assignment == first.latest.casting.assignment

        # A new sound for one source: its effect is made again, then the music.
        version = await client.new_sound(job_id, source.variant_id)
        result, render = await version_done(client, job_id, version)
        assert render.status == "done" and render.report["song"]["id"] == SONG  # the song stays
        after = next(s for s in result.sources if s.variant_id == source.variant_id)
        assert after.effect.read_bytes() != before

        # An edited sheet: only the changed play method is made again.
        others = {s.variant_id: s.effect.read_bytes() for s in result.sources if s.variant_id != source.variant_id}
        text = sheet_edit_text((s.variant_id, s.play_method) for s in result.sources)
        edited = text.replace(f"{source.variant_id}: {after.play_method}", f"{source.variant_id}: scraped slowly")
        assert await client.edit_sheet(job_id, text) is None  # nothing changed
        version = await client.edit_sheet(job_id, edited)
        result, render = await version_done(client, job_id, version)
        assert render.status == "done"
        changed = next(s for s in result.sources if s.variant_id == source.variant_id)
        assert changed.play_method == "scraped slowly" and changed.effect.read_bytes() != after.effect.read_bytes()
        assert {s.variant_id: s.effect.read_bytes() for s in result.sources if s.variant_id in others} == others

    # A new sound whose GPU task Redis lost: the reaper queues that task again, not the render (which would play
    # without the sound).
    version = await client.new_sound(job_id, source.variant_id)
    for member in await runtime.redis.zrange(runtime.queue("gpu"), 0, -1):
        await runtime.redis.zrem(runtime.queue("gpu"), member)
        await runtime.redis.delete(job_key_prefix + member.decode())
    assert await reap(runtime, grace_s=0) == 1
    assert await runtime.redis.zscore(runtime.queue("gpu"), f"{hear_again_stage(job_id, version)}:r1") is not None
    assert not await runtime.redis.zrange(runtime.queue("cpu"), 0, -1)

    # Delete: the rows and the job's own files are gone.
    files = [result.latest.mix, result.sheet]
    await client.delete(job_id)
    async with runtime.db() as db:
        assert await db.get(Job, job_id) is None
    assert not any(path.exists() for path in files)
    with pytest.raises(WaveInputError):
        await client.result(job_id)
