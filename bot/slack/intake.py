"""A picture request from any way in (modal, message shortcut, mention): progress message, download, submit, follow."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.common import clean_cue, error_text, log_unexpected
from bot.delivery import Deliveries
from bot.slack.context import PLATFORM, SlackContext, message_ref
from bot.slack.delivery import RESULT, ReplyRef
from bot.slack.pictures import download_picture
from jobs.client import SubmitRequest
from pipeline.errors import WaveInputError
from pipeline.songs import AUTO, list_songs

log = logging.getLogger(__name__)

UNREACHABLE_CHANNEL = ("not_in_channel", "channel_not_found", "is_archived")
UNEXPECTED = "Something went wrong on WAVE's side; try again in a moment."


def split_mention(text: str) -> tuple[str, str | None]:
    """``[song] [cue words]`` after the mention: a first word naming a library song (or auto) picks it."""
    first, _, rest = text.strip().partition(" ")
    known = {info.id for info in list_songs()} | {AUTO}
    if first.lower() in known:
        return first.lower(), clean_cue(rest)
    return AUTO, clean_cue(text)


async def _post_progress(ctx: SlackContext, user_id: str, channel: str, thread_ts: str | None) -> tuple[str, str]:
    """The progress message; in a direct message from the app when it cannot post in the channel."""
    text = f"<@{user_id}> 📷 Got your picture, fetching it…"
    try:
        posted = await ctx.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
    except SlackApiError as exc:
        if exc.response.get("error") not in UNREACHABLE_CHANNEL:
            raise
        posted = await ctx.client.chat_postMessage(
            channel=user_id, text=f"{text}\n(WAVE is not in that channel, so it answers here.)")
    return posted["channel"], posted["ts"]


async def start_request(ctx: SlackContext, delivery: Deliveries, *, team_id: str, user_id: str, channel: str,
                        thread_ts: str | None, files: list[dict], song: str, cue: str | None) -> None:
    posted_in, ts = await _post_progress(ctx, user_id, channel, thread_ts)
    if posted_in != channel:
        channel, thread_ts = posted_in, None
    live = ctx.live(channel, ts)
    reply = ReplyRef(channel=channel, ts=ts, thread_ts=thread_ts)
    try:
        await ctx.jobs.check_quota(PLATFORM, user_id, team_id)  # before the download: a refusal costs no transfer
        _, image = await download_picture(ctx, files)
        job_id = await ctx.jobs.submit(SubmitRequest(
            image=image, song=song, cue=clean_cue(cue), platform=PLATFORM, user_id=user_id, workspace_id=team_id,
            channel_id=channel, reply_ref=reply.model_dump(),
        ))
    except WaveInputError as exc:
        await ctx.tell_privately(channel, user_id, error_text(exc.user_message), thread_ts=thread_ts, replacing_ts=ts)
        return
    except Exception as exc:  # noqa: BLE001 - the person gets an error id, the log gets the details
        await ctx.tell_privately(channel, user_id, error_text(UNEXPECTED, log_unexpected("slack request", exc)),
                                 thread_ts=thread_ts, replacing_ts=ts)
        return
    await ctx.records.remember_message(message_ref(channel, ts), job_id, RESULT)
    await delivery.follow(job_id, live)
