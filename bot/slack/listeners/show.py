"""The mix picked in ``/wave show``'s private list comes back, as ``/wave show <job>`` brings it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.slack import my_wave
from bot.slack.listeners.remix import action_origin
from bot.slack.show_picker import SHOW_ACTION

if TYPE_CHECKING:
    from bot.slack.app import SlackWave


def register(app: AsyncApp, wave: SlackWave) -> None:
    ctx = wave.ctx

    async def bring_back(team: str, user: str, channel: str, job_id: str) -> None:
        await ctx.tell_privately(channel, user, await my_wave.show(ctx, team, user, channel, job_id))

    @app.action(SHOW_ACTION)
    async def picked(ack, body: dict, action: dict) -> None:
        await ack()
        team, user, channel = action_origin(body)
        job_id = (action.get("selected_option") or {}).get("value") or ""
        ctx.spawn(bring_back(team, user, channel, job_id), "showing a picked mix")
