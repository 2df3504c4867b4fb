"""The Discord bot under repeats and rate limits, on the real discord.py client against the fake Discord: a
redelivered interaction is answered once, progress edits keep the channel's budget, and a 429 is waited out."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.budget import Limit, RateBudget
from bot.common import ordinal
from bot.records import ChatRecords
from db.models import Job, JobStatus
from jobs.events import JobEvent, ProgressReporter, publish
from wave_testing.discord_harness import photo_bytes, running_bot

pytestmark = pytest.mark.usefixtures("rules_kept")

SONG = "row_your_boat"


def callbacks(fake, interaction) -> list:
    return [c for c in fake.calls if c.path.startswith(f"/interactions/{interaction.id}/")]


async def queued_request(fake, bot, user, seed: int):
    """/wave with no workers running: the job waits in line; returns the interaction and the job id."""
    photo = fake.upload(f"photo-{seed}.png", photo_bytes(seed), "image/png")
    interaction = await fake.slash("wave", user, {"image": photo, "song": SONG})
    await fake.until(lambda: (m := fake.original(interaction)) and "in line" in m["content"], what="the queue place")
    info = await ChatRecords(bot.runtime, "discord").message(f"discord:{interaction.channel_id}:{interaction.original_id}")
    return interaction, info.job_id


async def place_in_line(bot, job_id: str, position: int) -> None:
    await publish(bot.runtime, JobEvent(job_id=job_id, status=JobStatus.QUEUED, progress=0.0,
                                        message=f"{position} in line", queue_position=position))


async def test_a_redelivered_interaction_is_answered_once(fake, settings):
    ana = fake.add_user("ana")
    async with running_bot(settings, fake) as bot:
        help_ = await fake.slash("wave-help", ana)
        await fake.until(lambda: help_.acked_at, what="the help reply")
        wave, _ = await queued_request(fake, bot, ana, seed=1)
        await fake.redeliver(help_)
        await fake.redeliver(wave)
        marker = await fake.slash("wave-help", ana)  # answered after the repeats were read
        await fake.until(lambda: marker.acked_at, what="the marker")
        assert len(callbacks(fake, help_)) == 1 and len(callbacks(fake, wave)) == 1
        async with bot.runtime.db() as session:
            assert await session.scalar(select(func.count()).select_from(Job)) == 1


async def test_progress_edits_of_many_replies_keep_the_channel_budget(fake, settings):
    """Discord's per-channel edit limit, scaled down: the fake refuses past it; the bot, a little stricter, is
    never refused, coalesces queue places and ends each reply on its newest place."""
    fake.limit_edits(3, 1.0)
    budget = RateBudget({"global": (Limit(50, 1.0),), "channel": (Limit(3, 1.1),)})
    users = [fake.add_user(f"user{i}") for i in range(6)]
    async with running_bot(settings, fake, edit_budget=budget) as bot:
        jobs = [await queued_request(fake, bot, user, seed=10 + i) for i, user in enumerate(users)]
        for position in range(15, 0, -1):
            for _, job_id in jobs:
                await place_in_line(bot, job_id, position)
        for place, (interaction, job_id) in enumerate(jobs, start=1):  # where they really are, as the database says
            await publish(bot.runtime, await bot.jobs.status(job_id))
            await fake.until(lambda i=interaction, p=place: f"· {ordinal(p)} in line" in fake.original(i)["content"],
                             timeout=60, what="the newest place in line")
        assert fake.refused == []
        edits = fake.edits_per_channel()[fake.general]
        assert len(edits) < 6 + 6 * 15 / 2, len(edits)  # most places were coalesced away


async def test_a_rate_limited_progress_edit_is_retried_after_retry_after(fake, settings):
    ana = fake.add_user("ana")
    async with running_bot(settings, fake) as bot:
        interaction, job_id = await queued_request(fake, bot, ana, seed=2)
        fake.refuse_next("PATCH", f"/webhooks/{fake.application_id}/{interaction.token}/", retry_after=0.6)
        await place_in_line(bot, job_id, 7)
        await fake.until(lambda: any("· 7th in line" in text for _, text in fake.original(interaction)["_edits"]),
                         what="the retried edit")
        assert len(fake.refused) == 1  # and the autouse check: no call came before its retry_after


async def test_a_quiet_running_job_still_shows_time_moving_on(fake, settings):
    """No event for a while during a stage: the reply keeps changing (how long the stage has run)."""
    ana = fake.add_user("ana")
    async with running_bot(settings, fake) as bot:
        interaction, job_id = await queued_request(fake, bot, ana, seed=3)
        await ProgressReporter(bot.runtime, job_id).update(JobStatus.CASTING, 0.0, "Casting the sounds into the band")

        def casting_texts() -> list[str]:
            return [text for _, text in fake.original(interaction)["_edits"] if text.startswith("Casting the band")]

        await fake.until(lambda: len(set(casting_texts())) >= 3, timeout=60, what="three different casting lines")
        assert all(" s" in text.split("\n")[0].rsplit("·", 1)[1] for text in casting_texts())
