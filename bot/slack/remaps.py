"""Debounced moves become one new render; its progress shows in a new message in the job's thread."""

from __future__ import annotations

from bot.common import error_text, log_unexpected
from bot.delivery import Deliveries
from bot.slack.context import SlackContext
from bot.slack.delivery import reply_ref
from bot.slack.texts import remap_started_text
from pipeline.errors import WaveInputError
from pipeline.types import Session


async def remap(ctx: SlackContext, delivery: Deliveries, job_id: str, moves: list[tuple[str, Session]]) -> None:
    """Apply the moves as one new render, follow it in the thread and post the new mix."""
    result = await ctx.jobs.result(job_id)
    ref = reply_ref(result)
    if ref is None:
        return
    try:
        version = await ctx.jobs.remap_many(job_id, moves)
    except WaveInputError as exc:
        await ctx.tell_privately(ref.channel, result.owner, error_text(exc.user_message), thread_ts=ref.thread)
        return
    except Exception as exc:  # noqa: BLE001 - the person gets an error id, the log gets the details
        await ctx.tell_privately(ref.channel, result.owner, error_text(
            "The new mix could not be started; try again in a moment.", log_unexpected("slack remap", exc)),
            thread_ts=ref.thread)
        return
    result = await ctx.jobs.result(job_id)
    started = remap_started_text(result, next((r.change for r in result.renders if r.version == version), None))
    posted = await ctx.client.chat_postMessage(channel=ref.channel, thread_ts=ref.thread, text=started)
    live = ctx.live(ref.channel, posted["ts"], text=started)
    await delivery.follow_render(job_id, version, live, heading=started)
