"""Workspace settings, /wave me, /wave show, remix from the gallery and /wave top week on the Slack app (Bolt over
signed HTTP against the fake Slack, real Redis, SQLite and in-process lite workers)."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from db.models import Job, User
from jobs.prefs import ServerPrefs, read_prefs
from wave_testing.fake_slack import BOT_USER, TEAM
from wave_testing.slack_app import ADMIN, CHANNEL, GALLERY, OTHER, OWNER
from wave_testing.slack_helpers import SONG, job_for, wait_delivered

pytestmark = pytest.mark.asyncio(loop_scope="module")

MUSIC = "C0MUSIC"
OTHER_SONG = "twinkle_twinkle"


async def command(wave, text: str, user: str, channel: str = CHANNEL) -> str:
    return (await command_answer(wave, text, user, channel))["text"]


async def command_answer(wave, text: str, user: str, channel: str = CHANNEL) -> dict:
    status, body = await wave.send.command(text, user=user, channel=channel, trigger_id=wave.fake.trigger())
    answer = json.loads(body)
    assert status == 200 and answer["response_type"] == "ephemeral", answer
    return answer


async def mention(wave, user: str, channel: str, seed_name: str):
    fake = wave.fake
    photo = fake.add_file(seed_name, "image/png", wave.picture)
    message = fake.user_message(channel, user, f"<@{BOT_USER}> {SONG}", files=[photo])
    await wave.send.event({"type": "app_mention", "user": user, "channel": channel, "ts": message.ts,
                           "text": message.text, "files": [photo]})
    return message


async def jobs_of(wave, user: str) -> list[Job]:
    async with wave.runtime.db() as session:
        return list((await session.scalars(select(Job).join(User).where(User.platform_user_id == user)
                                           .order_by(Job.created_at))).all())


async def test_settings_are_for_admins_and_checked(wave):
    refused = await command(wave, "settings private on", OTHER)
    assert refused.startswith("⚠️") and "admin" in refused
    assert await read_prefs(wave.runtime, "slack", TEAM) == ServerPrefs()
    assert "every channel" in await command(wave, "settings", OTHER)  # anyone may look

    assert SONG in await command(wave, f"settings song {SONG}", ADMIN)
    assert f"<#{MUSIC}>" in await command(wave, f"settings channels <#{MUSIC}|music>", ADMIN)
    for bad, words in (("settings song no_such_song", "Unknown song"), ("settings channels #music", "not a channel"),
                       ("settings private maybe", "did not understand")):
        answer = await command(wave, bad, ADMIN)
        assert answer.startswith("⚠️") and words in answer, answer
    assert await read_prefs(wave.runtime, "slack", TEAM) == ServerPrefs(default_song=SONG, channels=[MUSIC])
    await command(wave, "settings channels all", ADMIN)
    await command(wave, "settings song auto", ADMIN)


async def test_channel_restriction_answers_privately_where_it_does_answer(wave):
    fake = wave.fake
    await command(wave, f"settings channels <#{MUSIC}|music>", ADMIN)
    try:
        message = await mention(wave, "U0ELSEWHERE", CHANNEL, "else.png")
        told = await fake.wait_for(lambda: fake.private_to("U0ELSEWHERE"), what="the private note")
        assert f"<#{MUSIC}>" in told[0].text and told[0].thread_ts == message.ts
        await asyncio.sleep(0.3)
        assert not fake.thread(CHANNEL, message.ts) and await jobs_of(wave, "U0ELSEWHERE") == []
        opened = len(fake.called("views.open"))
        note = await command(wave, "", "U0ELSEWHERE")  # the form is not even opened here
        assert f"<#{MUSIC}>" in note and len(fake.called("views.open")) == opened
    finally:
        await command(wave, "settings channels all", ADMIN)


async def test_private_mode_delivers_nothing_public_and_nothing_to_the_gallery(wave):
    fake = wave.fake
    await command(wave, f"gallery <#{GALLERY}|gallery>", ADMIN)
    await command(wave, "settings private on", ADMIN)
    user, direct = "U0QUIET", "D0QUIET"
    try:
        public_before = {(m.channel, m.ts) for m in fake.bot_messages(CHANNEL)}
        message = await mention(wave, user, CHANNEL, "quiet.png")
        progress = await fake.wait_for(lambda: next((m for m in fake.bot_messages(direct) if m.thread_ts is None),
                                                    None), what="the progress in the direct message")
        thread = await wait_delivered(wave.runtime, fake, direct, progress)
        assert any(m.files for m in thread)
        job = await job_for(wave.runtime, direct, progress.ts)
        assert job.channel_id == direct
        await wave.send.reaction(user, "star", direct, progress.ts)  # sharing is refused, privately
        told = await fake.wait_for(lambda: [m for m in fake.private_to(user) if "private" in m.text], what="refusal")
        assert told[0].text.startswith("⚠️")
        assert {(m.channel, m.ts) for m in fake.bot_messages(CHANNEL)} == public_before
        assert not fake.thread(CHANNEL, message.ts) and not fake.bot_messages(GALLERY)
    finally:
        await command(wave, "settings private off", ADMIN)


async def test_me_show_remix_and_weekly_top(wave):
    fake, send = wave.fake, wave.send
    await command(wave, f"gallery <#{GALLERY}|gallery>", ADMIN)
    message = await mention(wave, OWNER, CHANNEL, "shown.png")
    progress = await fake.wait_for(lambda: next(iter(fake.thread(CHANNEL, message.ts)), None), what="progress")
    await wait_delivered(wave.runtime, fake, CHANNEL, progress)
    job = await job_for(wave.runtime, CHANNEL, progress.ts)

    me = await command(wave, "me", OWNER)
    assert "this hour:" in me and "of 50 mixes" in me and "of 1 in the making" in me
    refused = await command(wave, f"show {job.id}", OTHER)  # not shared: not someone else's to see
    assert refused.startswith("⚠️")
    # No autocomplete on Slack: `/wave show` lists the person's mixes in a select; a pick brings one back.
    listed = await command_answer(wave, "show", OWNER)
    assert job.id in listed["text"]
    (picker,) = listed["blocks"]
    assert [o["value"] for o in picker["accessory"]["options"]] == [job.id]
    await send.interaction({"type": "block_actions", "trigger_id": fake.trigger(), "user": {"id": OWNER, "team_id": TEAM},
                            "channel": {"id": CHANNEL}, "container": {"type": "message", "is_ephemeral": True},
                            "actions": [{"type": "static_select", "action_id": picker["accessory"]["action_id"],
                                         "block_id": picker["block_id"], "action_ts": "1",
                                         "selected_option": picker["accessory"]["options"][0]}]})
    await fake.wait_for(lambda: [m for m in fake.private_to(OWNER) if m.text == "Here it comes."], what="the answer")
    # The shown result carries the Remix button (beside the result's own buttons, posted in a message of their own).
    await fake.wait_for(lambda: [c for c in fake.called("chat.postMessage") if c.args.get("channel") == CHANNEL
                                 and "wave_remix" in json.dumps(c.args.get("blocks") or [])], what="shown")

    # Shared: the gallery post carries the Remix button; another person remixes it with their song.
    await send.reaction(OWNER, "star", CHANNEL, progress.ts)
    post = await fake.wait_for(lambda: next((m for m in fake.bot_messages(GALLERY) if m.thread_ts is None), None),
                               what="the gallery post")
    posted = next(c for c in fake.called("chat.postMessage") if c.args.get("channel") == GALLERY)
    button = next(e for b in json.loads(json.dumps(posted.args["blocks"])) if b["type"] == "actions"
                  for e in b["elements"])
    assert button["value"] == job.id
    where = {"user": {"id": OTHER, "team_id": TEAM}, "channel": {"id": GALLERY},
             "container": {"type": "message", "channel_id": GALLERY, "message_ts": post.ts}}
    await send.interaction({"type": "block_actions", "trigger_id": fake.trigger(), **where,
                            "actions": [{**button, "block_id": "b1", "action_ts": "1"}]})
    await fake.wait_for(lambda: [m for m in fake.private_to(OTHER) if "Which song" in m.text], what="the songs")
    picker = next(c for c in fake.called("chat.postEphemeral") if c.args.get("blocks"))
    block = json.loads(json.dumps(picker.args["blocks"]))[0]
    choice = next(o for o in block["accessory"]["options"] if o["value"] == OTHER_SONG)
    await send.interaction({"type": "block_actions", "trigger_id": fake.trigger(), **where, "actions": [{
        "type": "static_select", "action_id": "wave_remix_song", "block_id": block["block_id"],
        "selected_option": choice, "action_ts": "2"}]})
    remix_progress = await fake.wait_for(
        lambda: next((m for m in fake.bot_messages(GALLERY) if m.thread_ts is None and m.ts != post.ts), None),
        what="the remix's progress")
    await wait_delivered(wave.runtime, fake, GALLERY, remix_progress)
    (remixed,) = await jobs_of(wave, OTHER)
    result = await wave.slack.ctx.jobs.result(remixed.id)
    assert result.song == OTHER_SONG and result.status == "done" and result.owner == OTHER
    original = await wave.slack.ctx.jobs.result(job.id)
    assert sorted(s.variant_id for s in result.sources) == sorted(s.variant_id for s in original.sources)

    week = await command(wave, "top week", OTHER)
    assert "this week" in week and "Row, Row, Row Your Boat" in week
