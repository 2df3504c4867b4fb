"""Reaction handlers that fail: the database (or the job queue) breaking under a reaction is logged with an error
id and told to the person who reacted, with that id, in the channel; a storm of failures is told once."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from sqlalchemy.exc import OperationalError

from bot.common import CANCEL, SESSION_EMOJI, STAR
from bot.records import ChatRecords
from jobs.client import JobsClient, SubmitRequest
from pipeline.types import Session
from wave_testing.discord_harness import photo_bytes, running_bot

pytestmark = pytest.mark.usefixtures("rules_kept")

ERROR_ID = re.compile(r"error id `([0-9a-f]{8})`")


def database_down(*args, **kwargs):
    raise OperationalError("SELECT chat_messages", {}, ConnectionRefusedError("connection refused"))


def logged_ids(caplog, where: str) -> list[str]:
    return [m[1] for r in caplog.records
            if r.name == "bot.common" and (m := re.fullmatch(rf"{where} failed \(error id ([0-9a-f]{{8}})\)",
                                                              r.getMessage()))]


def bot_replies(fake, channel_id: int) -> list[dict]:
    return [m for m in fake.messages_in(channel_id) if int(m["author"]["id"]) == fake.bot.id]


def unhandled(caplog) -> list[logging.LogRecord]:
    """What reached discord.py's default handler for exceptions in event listeners."""
    return [r for r in caplog.records if r.getMessage().startswith("Ignoring exception in")]


async def test_every_reaction_handler_reports_a_database_failure_with_an_error_id(fake, settings, monkeypatch,
                                                                                  caplog):
    caplog.set_level(logging.INFO)
    ana = fake.add_user("ana")
    channels = {what: fake.add_channel(what) for what in ("remap", "cancel", "star", "unstar")}
    monkeypatch.setattr(ChatRecords, "message", database_down)
    monkeypatch.setattr(ChatRecords, "entry_by_message", database_down)
    async with running_bot(settings, fake):
        cases = [("remap", SESSION_EMOJI[Session.GUITAR], "remap reaction", "Moving that sound did not work."),
                 ("cancel", CANCEL, "cancelling by reaction|gallery reaction", "did not work"),
                 ("star", STAR, "gallery reaction", "That reaction did not work."),
                 ("unstar", STAR, "gallery vote removal", "That reaction did not work.")]
        for what, emoji, where, words in cases:
            message_id = fake.user_post(channels[what], ana, "a photo of the street")
            if what == "unstar":
                await fake.unreact(message_id, emoji, ana)
            else:
                await fake.react(message_id, emoji, ana)
            channel = channels[what]
            told = await fake.until(lambda: bot_replies(fake, channel), what=f"the {what} failure to be told")  # noqa: B023
            text = told[0]["content"]
            assert text.startswith(f"<@{ana.id}> ⚠️") and words in text, text
            error_id = ERROR_ID.search(text).group(1)
            assert error_id in logged_ids(caplog, f"(?:{where})"), (what, error_id)
            assert told[0]["_allowed_mentions"]["parse"] == ["users"]  # the reacting person is pinged, nobody else
    assert not unhandled(caplog)


async def test_a_storm_of_failures_is_told_once_per_channel_and_every_one_is_logged(fake, settings, monkeypatch,
                                                                                     caplog):
    caplog.set_level(logging.INFO)
    people = [fake.add_user(f"fan{i}") for i in range(6)]
    monkeypatch.setattr(ChatRecords, "message", database_down)
    async with running_bot(settings, fake) as bot:
        message_id = fake.user_post(fake.general, people[0], "a photo of the sea")
        for person in people:
            await fake.react(message_id, SESSION_EMOJI[Session.DRUMS], person)
        await fake.until(lambda: len(logged_ids(caplog, "remap reaction")) == len(people), what="every failure logged")
        told = bot_replies(fake, fake.general)
        assert len(told) == 1
        ids = logged_ids(caplog, "remap reaction")
        assert len(set(ids)) == len(people) and ERROR_ID.search(told[0]["content"]).group(1) in ids

        # Once the quiet time is over, the next failure there is told again.
        bot.reaction_failures.quiet_s = 0.2
        await asyncio.sleep(0.3)
        await fake.react(message_id, SESSION_EMOJI[Session.KEYBOARD], people[1])
        again = await fake.until(lambda: bot_replies(fake, fake.general)[1:], what="the next failure told")
        assert again[0]["content"].startswith(f"<@{people[1].id}> ⚠️")
        assert ERROR_ID.search(again[0]["content"]).group(1) == logged_ids(caplog, "remap reaction")[-1]
    assert not unhandled(caplog)


async def test_a_cancel_that_fails_after_the_lookup_is_reported_and_changes_nothing(fake, settings, monkeypatch,
                                                                                    caplog):
    caplog.set_level(logging.INFO)
    ana = fake.add_user("ana")
    async with running_bot(settings, fake) as bot:
        job_id = await bot.jobs.submit(SubmitRequest(image=photo_bytes(3), song="row_your_boat", platform="discord",
                                                     user_id=str(ana.id), workspace_id=str(fake.guild_id),
                                                     channel_id=str(fake.general)))
        request = fake.user_post(fake.general, fake.bot, "Waiting in line…")
        await bot.records.remember_message(f"discord:{fake.general}:{request}", job_id, "request")

        async def queue_down(self, job_id: str) -> bool:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        monkeypatch.setattr(JobsClient, "cancel", queue_down)
        await fake.react(request, CANCEL, ana)
        told = await fake.until(lambda: bot_replies(fake, fake.general)[1:], what="the failure to be told")
        assert told[0]["content"].startswith(f"<@{ana.id}> ⚠️ Cancelling did not work.")
        assert ERROR_ID.search(told[0]["content"]).group(1) in logged_ids(caplog, "cancelling by reaction")
        assert (await bot.jobs.status(job_id)).status.value == "queued"
    assert not unhandled(caplog)
