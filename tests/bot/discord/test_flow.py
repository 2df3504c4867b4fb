"""The whole /wave flow on the real discord.py client, the fake Discord, real Redis, SQLite and the lite pipeline."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from bot.common import CANCEL, SESSION_EMOJI, STAR, gallery_title
from bot.records import ChatRecords
from db.models import JobStatus
from jobs.client import JobsClient, SubmitRequest
from jobs.runtime import Runtime
from pipeline.types import Session
from wave_testing.discord_harness import (
    bot_settings,
    clear_redis,
    eventually,
    job_of,
    photo_bytes,
    running_bot,
    settled_reply,
    thread_sources,
)
from wave_testing.edit_rate import assert_at_most_one_edit_a_second
from wave_testing.fake_discord import DEFERRED_MESSAGE, EPHEMERAL, UPDATE_MESSAGE
from wave_testing.jobs_helpers import workers

pytestmark = pytest.mark.usefixtures("rules_kept")

SONG = "row_your_boat"  # the shortest library song keeps the renders quick
RENDER_TIMEOUT = 240


def finished_reply(fake, interaction):
    """The interaction's reply once the result files are on it."""
    message = fake.original(interaction)
    return message if message and message["attachments"] else None


async def test_wave_result_thread_remap_and_gallery(fake, settings):
    ana, bob, ada = fake.add_user("ana"), fake.add_user("bob"), fake.add_user("ada", admin=True)
    async with running_bot(settings, fake) as bot, workers(settings):
        gallery = await fake.slash("wave-admin", ada, {"channel": fake.gallery}, subcommand="gallery")
        photo = fake.upload("street.png", photo_bytes(0), "image/png")
        interaction = await fake.slash("wave", ana, {"image": photo, "song": SONG, "cue": "make it sunny"})
        await fake.until(lambda: interaction.acked_at and gallery.acked_at, what="the first responses")
        assert interaction.response_type == DEFERRED_MESSAGE and interaction.first_response_s < 3

        reply = await fake.until(lambda: settled_reply(fake, interaction), timeout=RENDER_TIMEOUT, what="the mix")
        assert reply["attachments"], reply["content"]
        job_id = await job_of(bot, interaction)
        result = await bot.jobs.result(job_id)
        assert result.status == JobStatus.DONE

        # Progress: stage and bar in the reply, at most one edit a second, the Cancel button gone at the end.
        progress = reply["_edits"][:-1]
        assert progress and all("▰" in text or "▱" in text for _, text in progress)
        assert_at_most_one_edit_a_second([at for at, _ in progress])
        assert not any(c["custom_id"].startswith("wave:cancel:") for row in reply["components"] for c in row["components"])

        # The result: the mix, the sheet and the casting picture, the scene and who plays what.
        names = {a["filename"] for a in reply["attachments"]}
        assert names == {"wave-mix.mp3", "sound-sheet.json", "casting.png"}
        files = {a["filename"]: fake.file_bytes(a) for a in reply["attachments"]}
        assert json.loads(files["sound-sheet.json"])["sound_sources"]
        assert files["casting.png"].startswith(b"\x89PNG") and len(files["wave-mix.mp3"]) > 10_000
        assert result.scene in reply["content"] and "Row, Row, Row Your Boat" in reply["content"]
        for session, emoji in SESSION_EMOJI.items():
            assert f"{emoji} **{session.value}**" in reply["content"]

        # The thread: one message per sound with its effect and the four session reactions by the bot.
        thread_id = int(reply["id"])
        await fake.until(lambda: thread_id in fake.channels, what="the thread")  # made after the reply's edit
        assert fake.channels[thread_id]["type"] == 11
        sources = await fake.until(lambda: len(thread_sources(fake, thread_id)) == len(result.sources)
                                   and all(len(m["_reactions"]) == 4 for m in thread_sources(fake, thread_id))
                                   and thread_sources(fake, thread_id), what="the sound messages")
        for message in sources:
            (effect,) = message["attachments"]
            assert effect["filename"].endswith(".wav") and fake.file_bytes(effect)[:4] == b"RIFF"
            assert all(fake.reactors(int(message["id"]), e) == {fake.bot.id} for e in SESSION_EMOJI.values())
        by_variant = {m["attachments"][0]["filename"].removesuffix(".wav"): m for m in sources}
        bench = [s.variant_id for s in result.sources if s.session is None]
        assert len(bench) >= 2

        # A stranger's reaction changes nothing and is taken off.
        stranger_target = int(by_variant[bench[0]]["id"])
        await fake.react(stranger_target, SESSION_EMOJI[Session.DRUMS], bob)
        await fake.until(lambda: bob.id not in fake.reactors(stranger_target, SESSION_EMOJI[Session.DRUMS]),
                         what="the stranger's reaction to be removed")

        # Two quick reactions, by the owner and by a server admin, become one new render with both moves.
        await fake.react(int(by_variant[bench[0]]["id"]), SESSION_EMOJI[Session.DRUMS], ana)
        await fake.react(int(by_variant[bench[1]]["id"]), SESSION_EMOJI[Session.KEYBOARD], ada)
        remap_post = await fake.until(
            lambda: next((m for m in fake.messages_in(thread_id) if "version 2" in m["content"]), None),
            timeout=RENDER_TIMEOUT, what="the remapped mix")
        assert [a["filename"] for a in remap_post["attachments"]] == ["wave-mix-v2.mp3"]
        result = await bot.jobs.result(job_id)
        assert [r.version for r in result.renders] == [1, 2]
        playing = {s.variant_id: s.session for s in result.sources}
        assert playing[bench[0]] == "drums" and playing[bench[1]] == "keyboard"
        # The new mix names the sounds (not their ids) and marks only the parts that changed.
        names = {s.variant_id: s.name for s in result.sources}
        assert names[bench[0]] in remap_post["content"] and names[bench[1]] in remap_post["content"]
        assert bench[0] not in remap_post["content"] and "(your choice)" not in remap_post["content"]
        assert remap_post["content"].count("🔁 changed") == 2
        # The moved sounds' own messages say what they play now (the thread is never stale).
        for variant, session in ((bench[0], Session.DRUMS), (bench[1], Session.KEYBOARD)):
            message_id = int(by_variant[variant]["id"])
            await fake.until(lambda m=message_id, s=session: f"plays {SESSION_EMOJI[s]} **{s.value}**"
                             in fake.messages[m]["content"], what=f"the {session.value} sound's new role")

        # Gallery: only the owner's star shares; stars on the gallery post are votes; un-starring withdraws.
        records = ChatRecords(bot.runtime, "discord")
        await fake.react(int(reply["id"]), STAR, bob)
        await fake.react(int(remap_post["id"]), STAR, ana)
        post = await fake.until(lambda: next(iter(fake.messages_in(fake.gallery)), None), what="the gallery post")
        assert [a["filename"] for a in post["attachments"]] == ["wave-mix.mp3"]
        assert f"<@{ana.id}>" in post["content"] and len(fake.messages_in(fake.gallery)) == 1
        post_id = int(post["id"])
        title = gallery_title((await bot.jobs.result(job_id)).latest.report)
        assert f"**{title}**" in post["content"] and len(title) <= 80 and "Row, Row, Row Your Boat · " in title

        async def votes() -> list[int]:
            return [entry.votes for entry in await records.top(str(fake.guild_id))]

        async def post_kind() -> str | None:  # the bot remembers the post just after sending it
            info = await records.message(f"discord:{fake.gallery}:{post_id}")
            return info.kind if info else None

        await eventually(post_kind, "gallery")
        await fake.react(post_id, STAR, ana)  # the sharer's own star: taken back, not a vote
        await fake.until(lambda: not fake.reactors(post_id, STAR), what="the self-vote taken back")
        for voter in (bob, ada):
            await fake.react(post_id, STAR, voter)
        await eventually(votes, [2])  # reactions of different people may be handled in any order
        assert fake.reactors(post_id, STAR) == {bob.id, ada.id}  # Discord's visible count is the vote count
        await fake.unreact(post_id, STAR, bob)
        await eventually(votes, [1])
        (entry,) = await records.top(str(fake.guild_id))
        assert entry.version == 2 and entry.shared_by == str(ana.id)

        top = await fake.slash("wave-top", bob)
        await fake.until(lambda: top.acked_at, what="/wave-top")
        text = top.response["data"]["content"]
        assert "Row, Row, Row Your Boat" in text and "1 vote" in text
        assert f"https://discord.com/channels/{fake.guild_id}/{fake.gallery}/{post_id}" in text

        # Only the one who shared it (or an admin) removes a gallery post.
        await fake.react(post_id, CANCEL, bob)
        await fake.react(post_id, CANCEL, ana)
        await fake.until(lambda: fake.messages[post_id].get("_deleted"), what="the post to be removed")
        assert await records.top(str(fake.guild_id)) == []
        assert len([c for c in fake.calls if c.method == "DELETE" and c.path.endswith(str(post_id))]) == 1


async def test_cancel_by_button_and_by_reaction(fake, settings):
    ana, bob = fake.add_user("ana"), fake.add_user("bob")
    async with running_bot(settings, fake) as bot:  # no workers: the jobs wait in line
        first = await fake.slash("wave", ana, {"image": fake.upload("a.png", photo_bytes(1), "image/png")})
        waiting = await fake.until(lambda: (m := fake.original(first)) and m["components"] and m,
                                   what="the Cancel button")
        assert "1st in line" in waiting["content"]
        (button,) = waiting["components"][0]["components"]
        job_id = await job_of(bot, first)

        refused = await fake.click(int(waiting["id"]), button["custom_id"], bob)
        await fake.until(lambda: refused.acked_at, what="the refusal")
        assert refused.response["data"]["flags"] & EPHEMERAL
        assert (await bot.jobs.status(job_id)).status == JobStatus.QUEUED

        clicked = await fake.click(int(waiting["id"]), button["custom_id"], ana)
        await fake.until(lambda: clicked.acked_at, what="the cancel")
        assert clicked.response_type == UPDATE_MESSAGE
        assert fake.messages[int(waiting["id"])]["content"] == "Cancelled."
        assert (await bot.jobs.status(job_id)).status == JobStatus.CANCELLED

        second = await fake.slash("wave", ana, {"image": fake.upload("b.png", photo_bytes(2), "image/png")})
        request = await fake.until(lambda: (m := fake.original(second)) and m["components"] and m,
                                   what="the second request")
        second_job = await job_of(bot, second)
        await fake.react(int(request["id"]), CANCEL, bob)
        await fake.react(int(request["id"]), CANCEL, ana)
        await fake.until(lambda: fake.messages[int(request["id"])]["content"] == "Cancelled.",
                         what="the reply to say Cancelled")
        assert (await bot.jobs.status(second_job)).status == JobStatus.CANCELLED


async def test_full_queue_is_refused_with_a_clear_message(fake, tmp_path):
    settings = bot_settings(tmp_path, fake, max_queue_length=1)
    ana = fake.add_user("ana")
    async with running_bot(settings, fake) as bot:
        await JobsClient(bot.runtime).submit(SubmitRequest(image=photo_bytes(5), song=SONG, platform="discord",
                                                           user_id="someone-else"))
        interaction = await fake.slash("wave", ana, {"image": fake.upload("c.png", photo_bytes(3), "image/png")})
        reply = await fake.until(lambda: fake.private_answer(interaction), what="the private refusal")
        assert "busy" in reply["content"] and reply["components"] == []
    await clear_redis(settings)


async def test_delivery_after_a_restart(fake, settings):
    ana = fake.add_user("ana")
    async with running_bot(settings, fake) as bot:
        interaction = await fake.slash("wave", ana, {"image": fake.upload("d.png", photo_bytes(4), "image/png"),
                                                     "song": SONG})
        await fake.until(lambda: (m := fake.original(interaction)) and m["components"], what="the job to be queued")
        job_id = await job_of(bot, interaction)
    # The bot is down while the job runs and finishes.
    runtime = await Runtime.open(settings)
    try:
        async with workers(settings):
            event = await JobsClient(runtime).wait(job_id, timeout_s=RENDER_TIMEOUT)
        assert event.status == JobStatus.DONE
    finally:
        await runtime.close()
    assert finished_reply(fake, interaction) is None
    async with running_bot(settings, fake):
        reply = await fake.until(lambda: finished_reply(fake, interaction), what="delivery after the restart")
        assert {a["filename"] for a in reply["attachments"]} == {"wave-mix.mp3", "sound-sheet.json", "casting.png"}
        await fake.until(lambda: thread_sources(fake, int(reply["id"])), what="the sound thread")
    results = [m for m in fake.messages.values() if m["attachments"] and "your mix is ready" in m["content"].lower()]
    assert len(results) == 1, "the result was posted more than once"


async def test_delivery_after_the_token_expired_goes_to_the_channel(fake, settings):
    ana = fake.add_user("ana")
    async with running_bot(settings, fake):
        interaction = await fake.slash("wave", ana, {"image": fake.upload("e.png", photo_bytes(6), "image/png"),
                                                     "song": SONG})
        await fake.until(lambda: (m := fake.original(interaction)) and m["components"], what="the job to be queued")
        fake.advance(16 * 60)  # Discord's interaction token lives 15 minutes
        async with workers(settings):
            posted = await fake.until(
                lambda: next((m for m in fake.messages_in(fake.general) if f"<@{ana.id}>" in m["content"]), None),
                timeout=RENDER_TIMEOUT, what="the result in the channel")
        assert posted["attachments"], posted["content"]
        assert finished_reply(fake, interaction) is None
        assert {a["filename"] for a in posted["attachments"]} == {"wave-mix.mp3", "sound-sheet.json", "casting.png"}
        assert "webhook_id" not in posted  # a plain channel message, not the expired interaction
        await fake.until(lambda: thread_sources(fake, int(posted["id"])), what="the sound thread")


async def test_restart_resumes_progress_and_delivers_a_remap_made_while_down(fake, settings):
    ana = fake.add_user("ana")
    async with running_bot(settings, fake) as bot:  # no workers: the job waits in line while the bot goes down
        interaction = await fake.slash("wave", ana, {"image": fake.upload("f.png", photo_bytes(7), "image/png"),
                                                     "song": SONG})
        await fake.until(lambda: (m := fake.original(interaction)) and m["components"], what="the job to be queued")
        job_id = await job_of(bot, interaction)

    # Back up while the job runs: progress shows in the reply again (its token is still valid), then the result.
    restarted_at = time.monotonic()
    async with running_bot(settings, fake) as bot, workers(settings):
        reply = await fake.until(lambda: settled_reply(fake, interaction), timeout=RENDER_TIMEOUT, what="the mix")
        assert reply["attachments"], reply["content"]
        thread_id = int(reply["id"])
        await fake.until(lambda: thread_sources(fake, thread_id), what="the sound thread")
        resumed = [(at, text) for at, text in reply["_edits"][:-1] if at > restarted_at]
        assert resumed and all("▰" in text or "▱" in text for _, text in resumed), reply["_edits"]
        assert_at_most_one_edit_a_second([at for at, _ in resumed])
        bench = next(s.variant_id for s in (await bot.jobs.result(job_id)).sources if s.session is None)

    # A remap that is played while the bot is down is posted in the thread once the bot is back, exactly once,
    # even when the first try fails (the thread cannot be reached for a moment).
    runtime = await Runtime.open(settings)
    try:
        async with workers(settings):
            version = await JobsClient(runtime).remap_many(job_id, [(bench, Session.DRUMS)])
            await eventually(lambda: _render_status(runtime, job_id, version), "done", timeout=RENDER_TIMEOUT)
    finally:
        await runtime.close()
    thread = fake.channels.pop(thread_id)
    async with running_bot(settings, fake):
        await fake.until(lambda: any(c.status == 404 and c.path == f"/channels/{thread_id}/messages"
                                     for c in fake.calls), what="a failed first try")
        fake.channels[thread_id] = thread
        remap_post = await fake.until(
            lambda: next((m for m in fake.messages_in(thread_id) if "version 2" in m["content"]), None),
            what="the remapped mix after the restart")
        assert [a["filename"] for a in remap_post["attachments"]] == ["wave-mix-v2.mp3"]
        bench_name = next(s.name for s in (await bot_result(settings, job_id)).sources if s.variant_id == bench)
        assert f"{bench_name} now plays drums" in remap_post["content"]
        await asyncio.sleep(1.0)  # a few more sweeps: nothing is posted twice
    assert len([m for m in fake.messages_in(thread_id) if "version 2" in m["content"]]) == 1


async def _render_status(runtime: Runtime, job_id: str, version: int) -> str | None:
    result = await JobsClient(runtime).result(job_id)
    return next((r.status for r in result.renders if r.version == version), None)


async def bot_result(settings, job_id: str):
    runtime = await Runtime.open(settings)
    try:
        return await JobsClient(runtime).result(job_id)
    finally:
        await runtime.close()
