"""A person over a limit is refused privately before the bot downloads their picture, on both platforms."""

from __future__ import annotations

import pytest

from bot.slack.intake import start_request
from jobs.client import JobsClient, SubmitRequest
from wave_testing.discord_harness import photo_bytes, running_bot
from wave_testing.slack_context import slack_context

pytestmark = pytest.mark.usefixtures("rules_kept")

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
    async with slack_context(tmp_path, max_concurrent_jobs_per_user=1, max_jobs_per_user_per_hour=50) as parts:
        yield parts


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
