"""What the Slack end-to-end tests share, whichever way Slack reaches the app (HTTP or Socket Mode)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from db.models import Job, Render
from jobs.runtime import Runtime
from wave_testing.fake_slack import BOT_USER, FakeSlack, Message

SONG = "row_your_boat"  # the shortest song in the library
SESSION_EMOJI = ["drum_with_drumsticks", "violin", "guitar", "musical_keyboard"]


def view_submission(view: dict, user: str, values: dict) -> dict:
    return {"type": "view_submission", "user": {"id": user}, "trigger_id": "0.trigger",
            "view": {**view, "state": {"values": values}}}


def press(action: str, job_id: str, user: str, controls: Message, trigger: str) -> dict:
    """The block action of ``user`` pressing the result button ``action`` on the ``controls`` message."""
    return {"type": "block_actions", "user": {"id": user}, "team": {"id": "T0WAVE"}, "trigger_id": trigger,
            "channel": {"id": controls.channel}, "container": {"type": "message", "message_ts": controls.ts},
            "message": {"ts": controls.ts, "thread_ts": controls.thread_ts, "text": controls.text},
            "actions": [{"type": "button", "action_id": f"wave:{action}", "block_id": "wave_controls",
                         "value": job_id}]}


def song_value(song: str) -> dict:
    return {"song": {"song": {"type": "external_select", "selected_option": {"value": song}}}}


def sources_of(thread: list[Message]) -> list[Message]:
    return [m for m in thread if m.user == BOT_USER and len(m.reactions) == 4]


def uploads_in(fake: FakeSlack, message: Message) -> dict[str, bytes]:
    return {fake.files[f].name: fake.files[f].content for f in message.files}


async def job_for(runtime: Runtime, channel: str, ts: str, timeout: float = 60.0) -> Job:
    """The job behind a progress message, once the app has recorded it (it may post the message first)."""
    deadline = time.monotonic() + timeout
    while True:
        async with runtime.db() as session:
            jobs = (await session.scalars(select(Job))).all()
        job = next((j for j in jobs if (j.reply_ref or {}).get("ts") == ts
                    and (j.reply_ref or {}).get("channel") == channel), None)
        if job is not None:
            return job
        assert time.monotonic() < deadline, f"no job recorded for message {ts} in {channel} within {timeout:.0f} s"
        await asyncio.sleep(0.05)


async def wait_delivered(runtime: Runtime, fake: FakeSlack, channel: str, progress: Message) -> list[Message]:
    """The thread once the whole result is posted (the app marks the first render delivered last)."""
    deadline = time.monotonic() + 240
    while True:
        async with runtime.db() as session:
            jobs = (await session.scalars(select(Job).where(Job.channel_id == channel))).all()
            job = next((j for j in jobs if (j.reply_ref or {}).get("ts") == progress.ts), None)
            first = job and await session.scalar(select(Render).where(Render.job_id == job.id, Render.version == 1))
        if first is not None and first.delivered_at is not None:
            return fake.thread(channel, progress.thread_ts or progress.ts)
        assert time.monotonic() < deadline, "timed out waiting for the result in the thread"
        await asyncio.sleep(0.1)


async def forget_queues(runtime: Runtime, prefix: str) -> None:
    keys = [k async for k in runtime.redis.scan_iter(match=f"{prefix}*")]
    if keys:
        await runtime.redis.delete(*keys)
