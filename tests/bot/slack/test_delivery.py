"""Slack delivery bookkeeping on real Redis and SQLite, without workers: what is claimed when, and the sweep."""

from __future__ import annotations

import logging
import uuid

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import update

from bot.slack.context import SlackContext
from bot.slack.delivery import create_deliveries
from bot.slack.live import LiveMessage
from db.models import Job, JobStatus
from jobs.client import SubmitRequest
from jobs.runtime import Runtime
from wave_core.settings import Settings
from wave_testing.fake_slack import FakeSlack
from wave_testing.jobs_helpers import picture_bytes
from wave_testing.services import REDIS_TEST_URL

TOKEN = "xoxb-delivery"
CHANNEL = "C0DELIVERY"


@pytest.fixture
async def slack(tmp_path):
    fake = await FakeSlack(TOKEN).start()
    settings = Settings(
        profile="lite", database_url=f"sqlite+aiosqlite:///{tmp_path}/wave.db", redis_url=REDIS_TEST_URL,
        queue_prefix=f"wavetest-slackdel-{uuid.uuid4().hex[:8]}", data_dir=tmp_path / "data",
        artifacts_dir=tmp_path / "artifacts", slack_bot_token=TOKEN, slack_file_hosts=[fake.host],
        max_concurrent_jobs_per_user=5, max_jobs_per_user_per_hour=50,
    )
    runtime = await Runtime.open(settings)
    ctx = SlackContext.create(settings, runtime, AsyncWebClient(token=TOKEN, base_url=fake.api_url))
    delivery = create_deliveries(ctx)
    yield fake, ctx, delivery
    await delivery.close()
    await ctx.close()
    keys = [k async for k in runtime.redis.scan_iter(match=f"{settings.queue_prefix}*")]
    if keys:
        await runtime.redis.delete(*keys)
    await runtime.close()
    await fake.close()


async def submit(fake: FakeSlack, ctx: SlackContext, seed: int) -> tuple[str, str]:
    """A queued job (no workers run here) and the ts of its progress message."""
    ts = (await ctx.client.chat_postMessage(channel=CHANNEL, text="fetching…"))["ts"]
    job_id = await ctx.jobs.submit(SubmitRequest(
        image=picture_bytes(seed=seed), song="row_your_boat", platform="slack", user_id="U0ME", workspace_id="T0",
        channel_id=CHANNEL, reply_ref={"channel": CHANNEL, "ts": ts}))
    return job_id, ts


async def delivered_at(ctx: SlackContext, job_id: str):
    async with ctx.runtime.db() as session:
        return (await session.get(Job, job_id)).delivered_at


async def test_a_job_still_running_is_neither_claimed_nor_called_failed(slack):
    fake, ctx, delivery = slack
    job_id, ts = await submit(fake, ctx, seed=1)
    await delivery.deliver(job_id)  # what a follower does when it stops waiting before the job ends
    assert await delivered_at(ctx, job_id) is None
    assert not fake.called("chat.update")

    assert await ctx.jobs.cancel(job_id)
    await delivery.follow(job_id, LiveMessage(ctx.client, CHANNEL, ts, interval=0.0))
    assert fake.messages[(CHANNEL, ts)].text == "Cancelled."
    assert await delivered_at(ctx, job_id) is not None
    assert not delivery._followed, "a finished follow must not leave an entry behind"


async def test_one_result_that_cannot_be_posted_does_not_hold_up_the_others(slack, caplog):
    fake, ctx, delivery = slack
    broken, _ = await submit(fake, ctx, seed=2)
    fine, fine_ts = await submit(fake, ctx, seed=3)
    corrupt_sheet = ctx.runtime.store.put_bytes(b"{not json", ".json")
    async with ctx.runtime.db() as session:
        for job_id in (broken, fine):
            await session.execute(update(Job).where(Job.id == job_id).values(
                status=JobStatus.FAILED.value, error="The picture could not be read.", error_id="abcd1234"))
        await session.execute(update(Job).where(Job.id == broken).values(sheet_key=corrupt_sheet))
        await session.commit()

    with caplog.at_level(logging.ERROR):
        await delivery.sweep()
    # The failure goes to the person who asked only; the public progress message is removed.
    assert (CHANNEL, fine_ts) not in fake.messages and [m.ts for m in fake.deleted] == [fine_ts]
    assert [m.text for m in fake.private_to("U0ME")] == ["⚠️ The picture could not be read. (error id `abcd1234`)"]
    assert await delivered_at(ctx, fine) is not None
    assert await delivered_at(ctx, broken) is None  # released: the next round tries again
    assert any(broken in r.getMessage() and r.exc_info for r in caplog.records)


async def test_the_wait_in_line_is_estimated_from_recent_jobs(slack):
    from datetime import timedelta

    from bot.progress import WaitEstimates
    from db.models import utcnow

    fake, ctx, _ = slack
    assert await ctx.estimates.wait_s(2) is None  # nothing finished yet: no guess
    done = [(await submit(fake, ctx, seed=10 + i))[0] for i in range(3)]
    running, _ = await submit(fake, ctx, seed=20)
    now = utcnow()
    async with ctx.runtime.db() as session:
        for job_id, seconds in zip(done, (30, 40, 90)):
            await session.execute(update(Job).where(Job.id == job_id).values(
                status=JobStatus.DONE.value, started_at=now - timedelta(seconds=seconds), finished_at=now))
        await session.execute(update(Job).where(Job.id == running).values(status=JobStatus.HEARING.value))
        await session.commit()
    fresh = WaitEstimates(ctx.runtime)  # the app's own reads the database again after a while
    assert await fresh.wait_s(3) == 3 * 40  # the median duration per place, one job being worked on
