"""``/wave settings`` (the workspace's default song, answer channels and private mode; admins), ``/wave me``,
``/wave show [job]``, ``/wave top [week]``, and remixing a gallery post with another song."""

from __future__ import annotations

from datetime import timedelta

from bot.common import error_text
from bot.delivery import Deliveries
from bot.slack import gallery
from bot.slack.context import PLATFORM, SlackContext, message_ref
from bot.slack.delivery import RESULT, ReplyRef
from bot.slack.gallery import CHANNEL_MENTION
from bot.slack.intake import channel_mention, run_request
from bot.slack.remix_blocks import remix_blocks, song_picker_blocks
from bot.slack.show_picker import NO_MIXES, show_picker_blocks, show_picker_text
from bot.slack.texts import result_text
from bot.usage_texts import usage_text
from db.models import utcnow
from jobs.prefs import describe, read_prefs, write_prefs
from jobs.remix import remix
from jobs.usage import recent_finished, usage, visible_job
from pipeline.errors import WaveInputError

SETTINGS_HELP = ("`/wave settings` shows them; `/wave settings song <id|auto>`, "
                 "`/wave settings channels #a #b` (or `all`), `/wave settings private on|off` change them.")
NOT_ALLOWED = "Only a workspace admin can change WAVE's settings."
EVERYWHERE = ("all", "any", "everywhere", "none", "-")
SHOWN_JOBS = 10


def parse_channel_list(text: str) -> list[str]:
    """``<#C1|a> <#C2>`` (Slack's escaped mentions) or bare ids; ``all`` for every channel. Checked by the jobs layer."""
    if text.strip().lower() in EVERYWHERE:
        return []
    return [found.group(1) if (found := CHANNEL_MENTION.fullmatch(word)) else word
            for word in text.replace(",", " ").split()]


async def settings(ctx: SlackContext, team_id: str, user_id: str, argument: str) -> str:
    word, _, value = argument.strip().partition(" ")
    word = word.lower()
    if word and not await ctx.is_admin(user_id):
        return error_text(NOT_ALLOWED)
    try:
        if not word:
            prefs = await read_prefs(ctx.runtime, PLATFORM, team_id)
        elif word == "song":
            prefs = await write_prefs(ctx.runtime, PLATFORM, team_id, default_song=value)
        elif word == "channels":
            prefs = await write_prefs(ctx.runtime, PLATFORM, team_id, channels=parse_channel_list(value))
        elif word == "private" and value.strip().lower() in ("on", "off"):
            prefs = await write_prefs(ctx.runtime, PLATFORM, team_id, private=value.strip().lower() == "on")
        else:
            return error_text(f"I did not understand that. {SETTINGS_HELP}")
    except WaveInputError as refused:
        return error_text(refused.user_message)
    return f"*WAVE in this workspace*\n{describe(prefs, channel_mention)}\n{SETTINGS_HELP}"


async def me(ctx: SlackContext, team_id: str, user_id: str) -> str:
    return usage_text(await usage(ctx.runtime, PLATFORM, user_id, team_id), bold="*")


async def show_list(ctx: SlackContext, user_id: str) -> tuple[str, list[dict] | None]:
    """The person's latest finished mixes, as a select that brings one back (text, blocks)."""
    jobs = await recent_finished(ctx.runtime, PLATFORM, user_id, limit=SHOWN_JOBS)
    if not jobs:
        return NO_MIXES, None
    return show_picker_text(jobs), show_picker_blocks(jobs)


async def show(ctx: SlackContext, team_id: str, user_id: str, channel: str, argument: str) -> str:
    """The mix posted again with its controls (in the channel; privately in private mode or where WAVE does not
    answer). Without a job, the list of the person's mixes. Returns what the person is told at once."""
    if not argument.strip():
        return (await show_list(ctx, user_id))[0]
    try:
        job_id = await visible_job(ctx.runtime, PLATFORM, user_id, team_id, argument.split()[0])
    except WaveInputError as refused:
        return error_text(refused.user_message)
    prefs = await read_prefs(ctx.runtime, PLATFORM, team_id)
    target = channel if prefs.answers_in(channel) and not prefs.private else user_id
    ctx.spawn(_post_again(ctx, job_id, target), f"showing job {job_id}")
    return "Here it comes." if target == channel else "Here it comes, in our direct messages."


async def _post_again(ctx: SlackContext, job_id: str, channel: str) -> None:
    result = await ctx.jobs.result(job_id)
    render = result.latest
    posted = await ctx.client.chat_postMessage(channel=channel, text=result_text(result),
                                               blocks=remix_blocks(result_text(result), job_id))
    await ctx.records.remember_message(message_ref(posted["channel"], posted["ts"]), job_id, RESULT)
    mix = render.mix_compressed or render.mix if render else None
    if mix is not None:
        await ctx.client.files_upload_v2(channel=posted["channel"], thread_ts=posted["ts"],
                                         file_uploads=[{"file": str(mix), "filename": f"wave-mix{mix.suffix}"}])


async def top(ctx: SlackContext, team_id: str, argument: str) -> str:
    week = argument.strip().lower() == "week"
    text = await gallery.top(ctx, team_id, since=utcnow() - timedelta(days=7) if week else None)
    return text.replace("*Top mixes here*", "*Top mixes here this week*") if week else text


async def offer_songs(ctx: SlackContext, team_id: str, user_id: str, channel: str, job_id: str) -> None:
    try:
        await visible_job(ctx.runtime, PLATFORM, user_id, team_id, job_id)
    except WaveInputError as refused:
        await ctx.tell_privately(channel, user_id, error_text(refused.user_message))
        return
    await ctx.client.chat_postEphemeral(channel=channel, user=user_id, text="Which song should this band play?",
                                        blocks=song_picker_blocks(job_id))


async def start_remix(ctx: SlackContext, delivery: Deliveries, *, team_id: str, user_id: str, channel: str,
                      job_id: str, song: str) -> None:
    """The band of ``job_id`` plays ``song`` for ``user_id``, as their own job, followed like any request."""
    prefs = await read_prefs(ctx.runtime, PLATFORM, team_id)

    async def submit(reply: ReplyRef) -> str:
        await visible_job(ctx.runtime, PLATFORM, user_id, team_id, job_id)
        return await remix(ctx.jobs, job_id, song, platform=PLATFORM, user_id=user_id, workspace_id=team_id,
                           channel_id=reply.channel, reply_ref=reply.model_dump())

    await run_request(ctx, delivery, user_id=user_id, channel=channel, thread_ts=None,
                      private=prefs.private or not prefs.answers_in(channel), submit=submit,
                      first_words="🎵 Remixing with another song…")
