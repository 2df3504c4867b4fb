"""Every file WAVE uploads to Slack is shared into the result's thread, where the channel can play it: a file
completed without a channel would stay private to the uploader. No workers: a result is put together here."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from bot.slack.context import SlackContext
from bot.slack.delivery import SlackPort
from db.models import JobStatus, RenderCasting
from jobs.client import JobResult, RenderResult, SourceResult, SubmitRequest
from wave_testing.fake_slack import FakeSlack
from wave_testing.jobs_helpers import picture_bytes
from wave_testing.slack_context import slack_context

TOKEN = "xoxb-files"
CHANNEL = "C0FILES"


@pytest.fixture
async def slack(tmp_path):
    async with slack_context(tmp_path, TOKEN) as (fake, ctx, _):
        yield fake, ctx


def _wav(path, seed: int):
    noise = np.random.default_rng(seed).uniform(-0.1, 0.1, 4410).astype(np.float32)
    soundfile.write(path, noise, 44100)
    return path


async def finished_result(fake: FakeSlack, ctx: SlackContext, tmp_path) -> JobResult:
    """A job in the database (for its message records) and a finished result with real files, as delivery sees it."""
    ts = (await ctx.client.chat_postMessage(channel=CHANNEL, text="fetching…"))["ts"]
    job_id = await ctx.jobs.submit(SubmitRequest(
        image=picture_bytes(seed=5), song="row_your_boat", platform="slack", user_id="U0ME", workspace_id="T0",
        channel_id=CHANNEL, reply_ref={"channel": CHANNEL, "ts": ts}))
    sheet = tmp_path / "sheet.json"
    sheet.write_text(json.dumps({"scene_description": "a kitchen"}))
    casting = tmp_path / "casting.png"
    casting.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    render = RenderResult(version=1, status="done", casting=RenderCasting(), mix=_wav(tmp_path / "mix.wav", 0),
                          casting_png=casting, report={"song": {"title": "Row, Row, Row Your Boat"}})
    sources = [SourceResult(variant_id=f"cup-{i}", name=f"cup {i}", material="ceramic", play_method="tap",
                            timbre=["bright"], effect=_wav(tmp_path / f"cup-{i}.wav", i)) for i in (1, 2, 3)]
    return JobResult(job_id=job_id, status=JobStatus.DONE, message="", song="row_your_boat", sheet=sheet,
                     scene="a kitchen", sources=sources, renders=[render], owner="U0ME", platform="slack",
                     channel_id=CHANNEL, reply_ref={"channel": CHANNEL, "ts": ts})


async def test_every_upload_is_shared_into_the_result_thread(slack, tmp_path):
    fake, ctx = slack
    result = await finished_result(fake, ctx, tmp_path)
    port = SlackPort(ctx)
    posted = await port.post_result(result, result.latest, None)
    await port.post_sources(result, posted)

    completions = fake.called("files.completeUploadExternal")
    assert len(completions) == 2  # the result's files, then the sounds
    thread_ts = result.reply_ref["ts"]
    for call in completions:
        assert call.args.get("channel_id") == CHANNEL, "a file completed without a channel is private to WAVE"
        assert call.args.get("thread_ts") == thread_ts

    shared = {fake.files[f].name for m in fake.thread(CHANNEL, thread_ts) for f in m.files}
    assert {"cup-1.wav", "cup-2.wav", "cup-3.wav"} <= shared
    assert any(name.startswith("wave-mix") for name in shared)
    # Each sound's own message still links its file.
    sound_messages = [m for m in fake.thread(CHANNEL, thread_ts) if "Hear the sound" in m.text]
    assert len(sound_messages) == 3
    for message in sound_messages:
        file_id = message.text.split("/files/")[1].split("/")[0]
        assert fake.files[file_id].name in shared


async def test_a_new_mix_is_shared_into_the_thread(slack, tmp_path):
    fake, ctx = slack
    result = await finished_result(fake, ctx, tmp_path)
    remap = RenderResult(version=2, status="done", casting=RenderCasting(), mix=_wav(tmp_path / "mix2.wav", 9),
                         change="cup-1 moved drums -> bass", report={"song": {"title": "Row"}})
    result.renders.append(remap)
    await SlackPort(ctx).post_render(result, remap, None)
    (call,) = fake.called("files.completeUploadExternal")
    assert call.args.get("channel_id") == CHANNEL and call.args.get("thread_ts") == result.reply_ref["ts"]
