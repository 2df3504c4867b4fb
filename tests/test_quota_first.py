"""A person over a limit is refused privately before the bot downloads their picture, on both platforms."""

from __future__ import annotations

import uuid

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.context import SlackContext
from bot.slack.delivery import create_deliveries
from bot.slack.intake import start_request
from jobs.client import JobsClient, SubmitRequest
from jobs.runtime import Runtime
from tests.conftest import REDIS_TEST_URL
from tests.discord_harness import (  # noqa: F401 (fixtures)
    fake,
    photo_bytes,
    rules_kept,
    running_bot,
    settings,
)
from tests.fake_slack import FakeSlack

SONG = "row_your_boat"


def attachment_downloads(fake) -> list[str]:
    return [call.path for call in fake.calls if call.path.startswith("/attachments/")]


async def test_discord_refuses_a_busy_person_without_downloading(fake, settings):
    ana = fake.add_user("ana")
    async with running_bot(settings, fake) as bot:
        # One job in the making is the limit (max_concurrent_jobs_per_user=1); no workers run, so it stays queued.
        await JobsClient(bot.runtime).submit(SubmitRequest(
            image=photo_bytes(1), song=SONG, platform="discord", user_id=str(ana.id),
            workspace_id=str(fake.guild_id)))
        interaction = await fake.slash("wave", ana, {"image": fake.upload("b.png", photo_bytes(2), "image/png"),
                                                     "song": SONG})
        reply = await fake.until(lambda: fake.private_answer(interaction), what="the private refusal")
        assert "already have 1 mix" in reply["content"]
        assert attachment_downloads(fake) == [], "the picture was downloaded before the quota check"


@pytest.fixture
async def slack(tmp_path):
    token = "xoxb-quota"
    fake = await FakeSlack(token).start()
    settings_ = settings_for_slack(tmp_path, fake, token)
    runtime = await Runtime.open(settings_)
    ctx = SlackContext.create(settings_, runtime, AsyncWebClient(token=token, base_url=fake.api_url))
    delivery = create_deliveries(ctx)
    yield fake, ctx, delivery
    await delivery.close()
    await ctx.close()
    keys = [k async for k in runtime.redis.scan_iter(match=f"{settings_.queue_prefix}*")]
    if keys:
        await runtime.redis.delete(*keys)
    await runtime.close()
    await fake.close()


def settings_for_slack(tmp_path, fake: FakeSlack, token: str):
    from wave_core.settings import Settings

    return Settings(
        profile="lite", database_url=f"sqlite+aiosqlite:///{tmp_path}/slack.db", redis_url=REDIS_TEST_URL,
        queue_prefix=f"wavetest-quota-{uuid.uuid4().hex[:8]}", data_dir=tmp_path / "slackdata",
        artifacts_dir=tmp_path / "slackartifacts", slack_bot_token=token, slack_file_hosts=[fake.host],
        max_concurrent_jobs_per_user=1, max_jobs_per_user_per_hour=50,
    )


async def test_slack_refuses_a_busy_person_without_downloading(slack):
    fake, ctx, delivery = slack
    channel = "C0QUOTA"
    await ctx.jobs.submit(SubmitRequest(image=photo_bytes(3), song=SONG, platform="slack", user_id="U0BUSY",
                                        workspace_id="T0"))
    photo = fake.add_file("busy.png", "image/png", photo_bytes(4))
    await start_request(ctx, delivery, team_id="T0", user_id="U0BUSY", channel=channel, thread_ts=None,
                        files=[photo], song=SONG, cue=None)
    told = fake.private_to("U0BUSY")
    assert len(told) == 1 and "already have 1 mix" in told[0].text
    assert fake.downloads == [], "the picture was downloaded before the quota check"
    assert not fake.bot_messages(channel), "the public progress message stays up"
