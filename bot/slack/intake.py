"""A picture request from any way in (modal, message shortcut, mention): progress message, download, submit, follow."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError

from bot.common import clean_cue, error_text, log_unexpected
from bot.delivery import Deliveries
from bot.slack.context import PLATFORM, SlackContext, message_ref
from bot.slack.delivery import RESULT, ReplyRef
from bot.slack.pictures import download_picture
from jobs.client import SubmitRequest
from jobs.prefs import elsewhere_text, read_prefs
from pipeline.errors import WaveInputError
from pipeline.songs import AUTO, list_songs

log = logging.getLogger(__name__)

UNREACHABLE_CHANNEL = ("not_in_channel", "channel_not_found", "is_archived")
UNEXPECTED = "Something went wrong on WAVE's side; try again in a moment."
GOT_PICTURE = "📷 Got your picture, fetching it…"


def split_mention(text: str) -> tuple[str, str | None]:
    """``[song] [cue words]`` after the mention: a first word naming a library song (or auto) picks it."""
    first, _, rest = text.strip().partition(" ")
    known = {info.id for info in list_songs()} | {AUTO}
    if first.lower() in known:
        return first.lower(), clean_cue(rest)
    return AUTO, clean_cue(text)


async def _post_progress(ctx: SlackContext, user_id: str, channel: str, thread_ts: str | None,
                         first_words: str = GOT_PICTURE) -> tuple[str, str]:
    """The progress message; in a direct message from the app when it cannot post in the channel."""
    text = f"<@{user_id}> {first_words}"
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
    """A picture request. "auto" takes the workspace's default song when it has one."""
    prefs = await read_prefs(ctx.runtime, PLATFORM, team_id)
    if not prefs.answers_in(channel):
        await ctx.tell_privately(channel, user_id, error_text(elsewhere_text(prefs, channel_mention)),
                                 thread_ts=thread_ts)
        return

    async def submit(reply: ReplyRef) -> str:
        await ctx.jobs.check_quota(PLATFORM, user_id, team_id)  # before the download: a refusal costs no transfer
        _, image = await download_picture(ctx, files)
        return await ctx.jobs.submit(SubmitRequest(
            image=image, song=prefs.default_song if song == AUTO and prefs.default_song else song,
            cue=clean_cue(cue), platform=PLATFORM, user_id=user_id, workspace_id=team_id,
            channel_id=reply.channel, reply_ref=reply.model_dump(),
        ))

    await run_request(ctx, delivery, user_id=user_id, channel=channel, thread_ts=thread_ts, private=prefs.private,
                      submit=submit)


def channel_mention(channel_id: str) -> str:
    return f"<#{channel_id}>"


async def run_request(ctx: SlackContext, delivery: Deliveries, *, user_id: str, channel: str, thread_ts: str | None,
                      private: bool, submit: Callable[[ReplyRef], Awaitable[str]],
                      first_words: str = GOT_PICTURE) -> None:
    """Progress message, ``submit`` (which returns the job id), then the job followed to its result. In private
    mode it all happens in the app's direct message with the person; a refusal only they see."""
    if private:
        channel, thread_ts = user_id, None
    posted_in, ts = await _post_progress(ctx, user_id, channel, thread_ts, first_words)
    if posted_in != channel:
        channel, thread_ts = posted_in, None
    live = ctx.live(channel, ts)
    reply = ReplyRef(channel=channel, ts=ts, thread_ts=thread_ts)
    try:
        job_id = await submit(reply)
    except WaveInputError as exc:
        await ctx.tell_privately(channel, user_id, error_text(exc.user_message), thread_ts=thread_ts, replacing_ts=ts)
        return
    except Exception as exc:  # noqa: BLE001 - the person gets an error id, the log gets the details
        await ctx.tell_privately(channel, user_id, error_text(UNEXPECTED, log_unexpected("slack request", exc)),
                                 thread_ts=thread_ts, replacing_ts=ts)
        return
    await ctx.records.remember_message(message_ref(channel, ts), job_id, RESULT)
    await delivery.follow(job_id, live)
