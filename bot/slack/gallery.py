"""The gallery: a channel per workspace where shared mixes are posted and ⭐ reactions are votes."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.common import gallery_title
from bot.slack.context import SlackContext, message_ref, parse_message_ref
from bot.slack.remix_blocks import remix_blocks
from bot.slack.texts import gallery_post_text, top_text
from jobs.client import JobResult

log = logging.getLogger(__name__)

CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


def parse_channel(text: str) -> str | None:
    """A channel from ``<#C123|name>`` (how Slack escapes a mention) or a bare channel id."""
    text = text.strip()
    found = CHANNEL_MENTION.search(text)
    if found:
        return found.group(1)
    return text if CHANNEL_ID.match(text) else None


async def set_gallery(ctx: SlackContext, team_id: str, user_id: str, argument: str) -> str:
    if not await ctx.is_admin(user_id):
        return "Only a workspace admin can choose the gallery channel."
    channel = parse_channel(argument)
    if channel is None:
        return "Name the channel like this: `/wave gallery #music-gallery`."
    await ctx.records.configure_workspace(team_id, gallery_channel_id=channel)
    return f"Shared mixes will be posted in <#{channel}>. Invite WAVE there if it is not a member yet."


async def _ensure_gallery(ctx: SlackContext, team_id: str) -> None:
    """A workspace without its own gallery channel uses the one in the settings, if any."""
    default = ctx.settings.slack_gallery_channel
    if not default:
        return
    workspace = await ctx.records.workspace(team_id)
    if workspace is None or not workspace.gallery_channel_id:
        await ctx.records.configure_workspace(team_id, gallery_channel_id=default)


async def share(ctx: SlackContext, team_id: str, result: JobResult, user_id: str) -> None:
    """Post the job's latest mix in the gallery channel (raises WaveInputError with the reason it cannot)."""
    await _ensure_gallery(ctx, team_id)
    entry = await ctx.records.share(result.job_id, user_id, title=gallery_title(result.latest.report if result.latest
                                                                                else None))
    title = entry.title
    if entry.message_ref:
        return  # already in the gallery
    latest = result.latest
    text = gallery_post_text(title, result.owner)
    posted = await ctx.client.chat_postMessage(channel=entry.channel_id, text=text,
                                               blocks=remix_blocks(text, result.job_id))
    await ctx.records.set_entry_message(entry.id, message_ref(entry.channel_id, posted["ts"]))
    mix = latest.mix_compressed or latest.mix
    if mix is not None:
        await ctx.client.files_upload_v2(channel=entry.channel_id, thread_ts=posted["ts"],
                                         file_uploads=[{"file": str(mix), "filename": f"wave-mix{mix.suffix}",
                                                        "title": title}])
    # No star of the app's own: Slack's count under the post is then the vote count `/wave top` shows.


async def vote(ctx: SlackContext, ref: str, user_id: str, *, up: bool) -> bool:
    """A ⭐ added or removed on a gallery post; False when the message is not one."""
    entry = await ctx.records.entry_by_message(ref)
    if entry is None:
        return False
    count = await ctx.records.vote(entry.id, user_id, up=up)
    log.info("gallery entry %s has %d votes", entry.id, count)
    return True


async def top(ctx: SlackContext, team_id: str, *, since: datetime | None = None) -> str:
    entries = await ctx.records.top(team_id, since=since)
    links: dict[int, str] = {}
    for entry in entries:
        if entry.message_ref:
            channel, ts = parse_message_ref(entry.message_ref)
            try:
                links[entry.entry_id] = (await ctx.client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"]
            except SlackApiError:  # a missing link only makes the line plainer
                log.warning("no permalink for gallery entry %s", entry.entry_id)
    return top_text(entries, links)
