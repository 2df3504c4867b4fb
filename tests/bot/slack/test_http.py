"""The Slack app end to end: Bolt over HTTP with signed requests, a local Slack Web API, real Redis, SQLite and
in-process lite workers. One picture is rendered once; later requests of the same picture and song reuse it."""

from __future__ import annotations

import asyncio
import io
import json
import time
from dataclasses import dataclass

import pytest
import pytest_asyncio
import soundfile
from PIL import Image
from sqlalchemy import func, select

from bot.common import gallery_title
from db.models import ChatMessage, GalleryEntry, Job, Render, User, Vote
from pipeline.types import Session
from wave_testing.edit_rate import assert_at_most_one_edit_a_second
from wave_testing.fake_slack import BOT_USER, Message
from wave_testing.jobs_helpers import picture_bytes
from wave_testing.slack_app import ADMIN, CHANNEL, DEBOUNCE_S, GALLERY, OTHER, OWNER, VOTER, Harness
from wave_testing.slack_helpers import (
    SESSION_EMOJI,
    SONG,
    job_for,
    song_value,
    sources_of,
    uploads_in,
    view_submission,
    wait_delivered,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

@dataclass
class Delivered:
    channel: str
    progress: Message
    thread: list[Message]
    job_id: str
    submit_response: tuple[int, str]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def delivered(wave: Harness) -> Delivered:
    """/wave -> modal -> a photo and the shortest song -> progress in place -> the result in a thread."""
    fake, send = wave.fake, wave.send
    photo = fake.add_file("coffee.png", "image/png", wave.picture)
    status, _ = await send.command("", user=OWNER, channel=CHANNEL, trigger_id=fake.trigger())
    assert status == 200
    opened = await fake.wait_for(lambda: fake.called("views.open"), what="views.open")
    view = opened[-1].args["view"]
    response = await send.interaction(view_submission(view, OWNER, {
        "image": {"image": {"type": "file_input", "files": [photo]}}, **song_value(SONG),
        "cue": {"cue": {"type": "plain_text_input", "value": None}},
    }))
    progress = await fake.wait_for(lambda: next((m for m in fake.bot_messages(CHANNEL) if m.thread_ts is None), None),
                                   what="the progress message")
    thread = await wait_delivered(wave.runtime, wave.fake, CHANNEL, progress)
    job = await job_for(wave.runtime, CHANNEL, progress.ts)
    return Delivered(CHANNEL, progress, thread, job.id, response)


# ------------------------------------------------------------------------------------------- refused requests


async def test_forged_signature_is_refused_and_does_nothing(wave):
    before = len(wave.fake.calls)
    status, _ = await wave.send.command("help", user=OWNER, channel=CHANNEL, trigger_id=wave.fake.trigger(),
                                        secret="not-the-signing-secret")
    assert status == 401
    status, _ = await wave.send.event({"type": "app_mention", "user": OWNER, "channel": CHANNEL, "text": "hi",
                                       "ts": wave.fake.new_ts()}, secret="forged")
    assert status == 401
    await asyncio.sleep(0.3)
    assert len(wave.fake.calls) == before


async def test_replayed_old_request_is_refused(wave):
    before = len(wave.fake.calls)
    status, _ = await wave.send.command("", user=OWNER, channel=CHANNEL, trigger_id=wave.fake.trigger(),
                                        timestamp=time.time() - 6 * 60)
    assert status == 401
    await asyncio.sleep(0.3)
    assert len(wave.fake.calls) == before and not wave.fake.called("views.open")


async def test_help_and_song_options(wave):
    status, body = await wave.send.command("help", user=OWNER, channel=CHANNEL, trigger_id=wave.fake.trigger())
    assert status == 200 and "/wave" in json.loads(body)["text"]
    status, body = await wave.send.interaction({"type": "block_suggestion", "action_id": "song", "block_id": "song",
                                                "value": "Row your", "user": {"id": OWNER}, "view": {"id": "V1"}})
    options = json.loads(body)["options"]
    assert status == 200 and [o["value"] for o in options] == [SONG]


async def test_a_file_that_is_not_a_picture_is_refused_before_download(wave):
    fake = wave.fake
    notes = fake.add_file("notes.txt", "text/plain", b"not a picture at all")
    await wave.send.command("", user=OTHER, channel=CHANNEL, trigger_id=fake.trigger())
    opened = await fake.wait_for(lambda: [c for c in fake.called("views.open") if c.args["trigger_id"]], what="modal")
    status, body = await wave.send.interaction(view_submission(opened[-1].args["view"], OTHER, {
        "image": {"image": {"type": "file_input", "files": [notes]}}, **song_value(SONG)}))
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "errors"
    assert "picture" in answer["errors"]["image"]
    await asyncio.sleep(0.3)
    assert not [d for d in fake.downloads if d[0] == notes["id"]]
    async with wave.runtime.db() as session:
        assert await session.scalar(select(Job).join(User).where(User.platform_user_id == OTHER)) is None


# ------------------------------------------------------------------------------------------ the main flow


async def test_modal_flow_progress_and_result(wave, delivered):
    fake = wave.fake
    assert delivered.submit_response == (200, "")  # an empty 200 closes the modal
    # The photo was downloaded with the bot token from the file host, after the checks.
    assert any(authorised for _, authorised in fake.downloads)
    async with wave.runtime.db() as session:
        job = await session.get(Job, delivered.job_id)
    assert job.status == "done" and job.song_ref == SONG and job.platform == "slack" and job.channel_id == CHANNEL

    # One progress message, edited in place, at most once a second, with stages in order.
    edits = delivered.progress.edits
    texts = [t for _, t in edits]
    assert len(edits) >= 3, texts
    assert_at_most_one_edit_a_second([at for at, _ in edits])
    assert any("Waiting in line" in t or "Looking" in t or "Making the sounds" in t for t in texts), texts
    assert "%" in texts[0] and f"<@{OWNER}>" in texts[-1] and "Row, Row, Row Your Boat" in texts[-1]

    # The thread: the mix, the sheet and the casting picture, then one message per sound with four reactions.
    files_message = next(m for m in delivered.thread if m.files)
    files = uploads_in(fake, files_message)
    mix = next(content for name, content in files.items() if name.startswith("wave-mix"))
    audio, rate = soundfile.read(io.BytesIO(mix))
    assert rate == 44100 and audio.shape[0] / rate > 30
    sheet = json.loads(next(c for n, c in files.items() if n.endswith(".json")))
    assert len(sheet["sound_sources"]) >= 3
    casting = Image.open(io.BytesIO(next(c for n, c in files.items() if n.endswith(".png"))))
    assert casting.size[0] > 100
    sounds = sources_of(delivered.thread)
    variants = [v["id"] for s in sheet["sound_sources"] for v in s["variants"]]
    assert len(sounds) == len(variants) >= 5
    for message in sounds:
        assert [name for name, _ in message.reactions] == SESSION_EMOJI
        effect_id = message.text.split("/files/")[1].split("/")[0]
        effect, effect_rate = soundfile.read(io.BytesIO(fake.files[effect_id].content))
        assert effect_rate > 0 and abs(effect).max() > 0.01


async def test_someone_else_cannot_remap(wave, delivered):
    sound = sources_of(delivered.thread)[0]
    before = len(wave.fake.calls)
    status, _ = await wave.send.reaction(OTHER, "guitar", CHANNEL, sound.ts)
    assert status == 200
    await asyncio.sleep(DEBOUNCE_S + 1.0)
    async with wave.runtime.db() as session:
        versions = (await session.scalars(select(Render.version).where(Render.job_id == delivered.job_id))).all()
    assert versions == [1]
    # At most the admin check was asked; nothing was posted.
    assert {c.method for c in wave.fake.calls[before:]} <= {"users.info"}


async def test_owner_reactions_remap_once_after_the_debounce(wave, delivered):
    fake = wave.fake
    sounds = sources_of(delivered.thread)
    async with wave.runtime.db() as session:
        first = await session.scalar(select(Render).where(Render.job_id == delivered.job_id, Render.version == 1))
        refs = (await session.scalars(select(ChatMessage).where(ChatMessage.job_id == delivered.job_id,
                                                                ChatMessage.kind == "source"))).all()
    held = first.casting.assignment or {s: e["effect"] for s, e in first.report["sessions"].items()}
    variant_by_ts = {r.message_ref.rsplit(":", 1)[1]: r.variant_id for r in refs}
    assert set(variant_by_ts) == {m.ts for m in sounds}
    # A sound that is not the guitar yet, moved to keyboard and then (quickly) to guitar: one new render.
    target = next(m for m in sounds if variant_by_ts[m.ts] != held.get("guitar"))
    debouncer = wave.slack.debouncer
    debouncer.delay = 3600.0  # the moves wait for the flush below, however slowly a busy machine handles them
    await wave.send.reaction(OWNER, "musical_keyboard", CHANNEL, target.ts)
    # Each reaction is its own request; the second is sent once the first waits, so they cannot overtake each other.
    await fake.wait_for(lambda: debouncer.waiting(delivered.job_id) == {variant_by_ts[target.ts]: Session.KEYBOARD},
                        what="the first move waiting")
    await wave.send.reaction(OWNER, "guitar::skin-tone-2", CHANNEL, target.ts)
    await fake.wait_for(lambda: debouncer.waiting(delivered.job_id) == {variant_by_ts[target.ts]: Session.GUITAR},
                        what="both moves waiting as one")
    await debouncer.flush()
    thread_ts = delivered.progress.ts
    new_mix = await fake.wait_for(
        lambda: next((m for m in fake.thread(CHANNEL, thread_ts) if any(
            fake.files[f].name.startswith("wave-mix-v2") for f in m.files)), None),
        timeout=180, what="the remapped mix")
    async with wave.runtime.db() as session:
        renders = (await session.scalars(select(Render).where(Render.job_id == delivered.job_id)
                                          .order_by(Render.version))).all()
    assert [r.version for r in renders] == [1, 2]
    assert renders[1].casting.assignment[Session.GUITAR] == variant_by_ts[target.ts]
    assert renders[1].report["sessions"]["guitar"]["effect"] == variant_by_ts[target.ts]
    audio, rate = soundfile.read(io.BytesIO(uploads_in(fake, new_mix)[fake.files[new_mix.files[0]].name]))
    assert audio.shape[0] / rate > 30
    status_message = next(m for m in fake.thread(CHANNEL, thread_ts) if m.text.startswith("🔁 Version 2"))
    name = next(s.name for s in (await wave.slack.ctx.jobs.result(delivered.job_id)).sources
                if s.variant_id == variant_by_ts[target.ts])
    assert name in status_message.text and variant_by_ts[target.ts] not in status_message.text  # names, not ids
    assert "(your choice)" not in status_message.text and "🔁 changed" in status_message.text


# ------------------------------------------------------------------------------------------------ gallery


async def test_gallery_share_votes_and_top(wave, delivered):
    fake, send = wave.fake, wave.send
    _, body = await send.command(f"gallery <#{GALLERY}|gallery>", user=OTHER, channel=CHANNEL,
                                 trigger_id=fake.trigger())
    assert "admin" in json.loads(body)["text"]
    _, body = await send.command(f"gallery <#{GALLERY}|gallery>", user=ADMIN, channel=CHANNEL,
                                 trigger_id=fake.trigger())
    assert f"<#{GALLERY}>" in json.loads(body)["text"]

    await send.reaction(OTHER, "star", CHANNEL, delivered.progress.ts)  # not the owner: just a star
    await asyncio.sleep(0.5)
    assert not fake.bot_messages(GALLERY)
    await send.reaction(OWNER, "star", CHANNEL, delivered.progress.ts)
    post = await fake.wait_for(lambda: next((m for m in fake.bot_messages(GALLERY) if m.thread_ts is None), None),
                               what="the gallery post")
    assert f"<@{OWNER}>" in post.text
    shared_mix = await fake.wait_for(lambda: [m for m in fake.thread(GALLERY, post.ts) if m.files], what="mix")
    assert fake.files[shared_mix[0].files[0]].name.startswith("wave-mix")

    async with wave.runtime.db() as session:
        entry = await session.scalar(select(GalleryEntry))
    assert entry.message_ref == f"slack:{GALLERY}:{post.ts}"
    job_report = (await wave.slack.ctx.jobs.result(delivered.job_id)).latest.report
    assert entry.title == gallery_title(job_report) and entry.title in post.text and len(entry.title) <= 80
    assert not post.reactions  # no star of the app's own: Slack's count is the vote count
    for voter in (OWNER, OTHER, VOTER, VOTER):  # one vote per person; the sharer's own is not counted
        await send.reaction(voter, "star", GALLERY, post.ts)
    await votes_reach(wave, entry.id, 2)
    async with wave.runtime.db() as session:
        voters = set((await session.scalars(select(User.platform_user_id).join(Vote, Vote.user_id == User.id)
                                            .where(Vote.entry_id == entry.id))).all())
    assert voters == {OTHER, VOTER}
    await send.reaction(OTHER, "star", GALLERY, post.ts, added=False)
    await votes_reach(wave, entry.id, 1)
    _, body = await send.command("top", user=OTHER, channel=CHANNEL, trigger_id=fake.trigger())
    top = json.loads(body)["text"]
    assert "Row, Row, Row Your Boat" in top and "1 vote" in top and "/archives/" in top


async def votes_reach(wave: Harness, entry_id: int, count: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        async with wave.runtime.db() as session:
            votes = await session.scalar(select(func.count()).select_from(Vote).where(Vote.entry_id == entry_id))
        if votes == count:
            return
        assert time.monotonic() < deadline, f"{votes} votes, expected {count}"
        await asyncio.sleep(0.05)


# ----------------------------------------------------------------------------------------- other ways in


async def test_mention_with_a_photo(wave, delivered):
    fake = wave.fake
    photo = fake.add_file("IMG_2.png", "image/png", wave.picture)
    message = fake.user_message(CHANNEL, OTHER, f"<@{BOT_USER}> {SONG}", files=[photo])
    status, _ = await wave.send.event({"type": "app_mention", "user": OTHER, "channel": CHANNEL, "ts": message.ts,
                                       "text": message.text, "files": [photo]})
    assert status == 200
    progress = await fake.wait_for(lambda: next((m for m in fake.thread(CHANNEL, message.ts)), None),
                                   what="progress in the mention's thread")
    thread = await wait_delivered(wave.runtime, wave.fake, CHANNEL, progress)
    assert any(m.files for m in thread)
    job = await job_for(wave.runtime, CHANNEL, progress.ts)
    assert job.song_ref == SONG and job.reused_from == delivered.job_id  # same photo and song: no new render


async def test_a_retried_mention_is_handled_once(wave, delivered):
    """The same signed event three times: twice at once, once with X-Slack-Retry-Num, once again after the result."""
    fake = wave.fake
    photo = fake.add_file("IMG_4.png", "image/png", wave.picture)
    message = fake.user_message(CHANNEL, "U0RETRY", f"<@{BOT_USER}> {SONG}", files=[photo])
    event = {"type": "app_mention", "user": "U0RETRY", "channel": CHANNEL, "ts": message.ts, "text": message.text,
             "files": [photo]}
    answers = await asyncio.gather(wave.send.event_again(event, "Ev0RETRIED"),
                                   wave.send.event_again(event, "Ev0RETRIED", retry_num=1))
    progress = await fake.wait_for(lambda: next(iter(fake.thread(CHANNEL, message.ts)), None), what="progress")
    await wait_delivered(wave.runtime, fake, CHANNEL, progress)
    answers.append(await wave.send.event_again(event, "Ev0RETRIED", retry_num=2))
    assert [status for status, _ in answers] == [200, 200, 200]  # acknowledged, so Slack stops retrying
    # A new event after the repeats: once it is answered, anything the repeats had started would show too.
    marker = fake.user_message(CHANNEL, "U0RETRY", f"<@{BOT_USER}> help", thread_ts=message.ts)
    await wave.send.event({"type": "app_mention", "user": "U0RETRY", "channel": CHANNEL, "ts": marker.ts,
                           "thread_ts": message.ts, "text": marker.text})
    await fake.wait_for(lambda: any("/wave" in m.text for m in fake.private_to("U0RETRY")), what="the marker")
    bot_lines = [m.text for m in fake.thread(CHANNEL, message.ts) if m.user == BOT_USER]
    assert sum(line.startswith(("<@U0RETRY> 📷", "✅", "⚠️")) for line in bot_lines) == 1, bot_lines
    assert not any("in the making" in line for line in bot_lines)
    async with wave.runtime.db() as session:
        owners = (await session.scalars(select(User).where(User.platform_user_id == "U0RETRY"))).all()
        assert len(owners) == 1
        assert await session.scalar(select(func.count()).select_from(Job).where(Job.user_id == owners[0].id)) == 1


async def test_a_picture_refused_after_the_progress_message_is_answered_privately(wave):
    fake = wave.fake
    photo = fake.add_file("broken.png", "image/png", b"\x89PNG but not really")
    message = fake.user_message(CHANNEL, "U0BROKEN", f"<@{BOT_USER}> {SONG}", files=[photo])
    await wave.send.event({"type": "app_mention", "user": "U0BROKEN", "channel": CHANNEL, "ts": message.ts,
                           "text": message.text, "files": [photo]})
    told = await fake.wait_for(lambda: fake.private_to("U0BROKEN"), what="the private refusal")
    assert told[0].text.startswith("⚠️") and "image" in told[0].text and told[0].thread_ts == message.ts
    await fake.wait_for(lambda: not fake.thread(CHANNEL, message.ts), what="the progress message removed")
    assert any(m.text.startswith("<@U0BROKEN> 📷") for m in fake.deleted)
    assert not [m for m in fake.private_to(OTHER) if "image" in m.text]  # only the one who asked sees it


async def test_mention_without_a_photo_explains(wave):
    fake = wave.fake
    message = fake.user_message(CHANNEL, OTHER, f"<@{BOT_USER}> play something")
    await wave.send.event({"type": "app_mention", "user": OTHER, "channel": CHANNEL, "ts": message.ts,
                           "text": message.text})
    reply = await fake.wait_for(lambda: fake.private_to(OTHER), what="the hint")
    assert "Attach a photo" in reply[-1].text and reply[-1].thread_ts == message.ts
    assert not fake.thread(CHANNEL, message.ts)  # nothing public


async def test_message_shortcut_on_a_message_with_a_photo(wave, delivered):
    fake, send = wave.fake, wave.send
    photo = fake.add_file("holiday.png", "image/png", wave.picture)
    message = fake.user_message(CHANNEL, VOTER, "look at this", files=[photo])
    trigger = fake.trigger()
    status, _ = await send.interaction({
        "type": "message_action", "callback_id": "wave_picture", "trigger_id": trigger, "user": {"id": VOTER},
        "channel": {"id": CHANNEL}, "message": {"type": "message", "user": VOTER, "ts": message.ts,
                                                 "text": message.text, "files": [photo]},
        "response_url": "http://127.0.0.1:9/x"})
    assert status == 200
    opened = await fake.wait_for(lambda: [c for c in fake.called("views.open") if c.args["trigger_id"] == trigger],
                                 what="the shortcut's modal")
    view = opened[0].args["view"]
    assert not any(b.get("block_id") == "image" for b in view["blocks"])  # the message's photo is used
    await send.interaction(view_submission(view, VOTER, song_value(SONG)))
    progress = await fake.wait_for(lambda: next(iter(fake.thread(CHANNEL, message.ts)), None), what="progress")
    thread = await wait_delivered(wave.runtime, wave.fake, CHANNEL, progress)
    assert any(m.files for m in thread)
    assert fake.called("files.info")  # the picture's details came from files.info


async def test_shortcut_on_a_message_without_a_photo(wave):
    fake = wave.fake
    message = fake.user_message(CHANNEL, VOTER, "just words")
    before = len(fake.called("chat.postEphemeral"))
    await wave.send.interaction({"type": "message_action", "callback_id": "wave_picture", "trigger_id": fake.trigger(),
                                 "user": {"id": VOTER}, "channel": {"id": CHANNEL},
                                 "message": {"type": "message", "user": VOTER, "ts": message.ts, "text": message.text}})
    ephemeral = await fake.wait_for(lambda: fake.called("chat.postEphemeral")[before:], what="ephemeral")
    assert ephemeral[0].args["user"] == VOTER and "photo" in ephemeral[0].args["text"].lower()


async def test_a_result_that_finished_while_the_app_was_away_is_delivered(wave, delivered):
    """A job whose progress message nobody follows (the app restarted) is delivered by the sweep."""
    from jobs.client import SubmitRequest

    fake = wave.fake
    progress = fake.messages[(CHANNEL, fake._m_chat_postMessage({"channel": CHANNEL, "text": "fetching…"})["ts"])]
    await wave.slack.ctx.jobs.submit(SubmitRequest(
        image=wave.picture, song=SONG, platform="slack", user_id="U0AWAY", workspace_id="T0WAVE",
        channel_id=CHANNEL, reply_ref={"channel": CHANNEL, "ts": progress.ts}))
    thread = await wait_delivered(wave.runtime, wave.fake, CHANNEL, progress)
    assert progress.text.startswith("✅ <@U0AWAY>") and any(m.files for m in thread) and sources_of(thread)


async def test_owner_cancels_with_x(wave):
    fake = wave.fake
    photo = fake.add_file("street.png", "image/png", picture_bytes(seed=9, size=128))  # new work, not a reuse
    message = fake.user_message(CHANNEL, "U0CANCEL", f"<@{BOT_USER}> {SONG}", files=[photo])
    await wave.send.event({"type": "app_mention", "user": "U0CANCEL", "channel": CHANNEL, "ts": message.ts,
                           "text": message.text, "files": [photo]})
    progress = await fake.wait_for(lambda: next(iter(fake.thread(CHANNEL, message.ts)), None), what="progress")
    job = await job_for(wave.runtime, progress.channel, progress.ts)
    await wave.send.reaction(OTHER, "x", CHANNEL, progress.ts)  # not theirs: ignored
    await asyncio.sleep(0.5)
    async with wave.runtime.db() as session:
        assert (await session.get(Job, job.id)).status != "cancelled"
    await wave.send.reaction("U0CANCEL", "x", CHANNEL, progress.ts)
    await fake.wait_for(lambda: progress.text == "Cancelled.", timeout=60, what="the cancelled message")
    async with wave.runtime.db() as session:
        assert (await session.get(Job, job.id)).status == "cancelled"


async def test_a_cancel_that_comes_after_the_result_says_it_came_too_late(wave, delivered):
    fake = wave.fake
    await wave.send.reaction(OWNER, "x", CHANNEL, delivered.progress.ts)
    told = await fake.wait_for(lambda: [m for m in fake.private_to(OWNER) if "already finished" in m.text],
                               what="the too-late answer")
    assert told[0].channel == CHANNEL
    async with wave.runtime.db() as session:
        assert (await session.get(Job, delivered.job_id)).status == "done"


async def test_app_home_shows_help_and_the_persons_latest_mixes(wave, delivered):
    fake = wave.fake
    for user in (OWNER, "U0NEWCOMER"):
        await wave.send.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
                               "event_ts": f"{time.time():.6f}"})
    views = await fake.wait_for(lambda: len(fake.home_views) == 2 and fake.home_views, what="both home tabs")
    owner_text = json.dumps(views[OWNER])
    assert "/wave" in owner_text and "Row, Row, Row Your Boat" in owner_text and "ready" in owner_text
    assert f"/archives/{CHANNEL}/p{delivered.progress.ts.replace('.', '')}" in owner_text  # linked to its thread
    assert "No mixes yet" in json.dumps(views["U0NEWCOMER"])
