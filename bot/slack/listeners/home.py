"""The App Home tab: the help and the person's recent mixes, linked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.common import SLACK_HELP_TEXT
from bot.slack.texts import home_view

if TYPE_CHECKING:
    from bot.slack.app import SlackWave


def register(app: AsyncApp, wave: SlackWave) -> None:
    ctx = wave.ctx

    @app.event("app_home_opened")
    async def home_opened(event: dict) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = event["user"]
        recent = await ctx.records.recent_jobs(user_id)
        links = {}
        for job in recent:
            ref = job.reply_ref or {}
            if ref.get("channel") and ref.get("ts"):
                try:
                    links[job.job_id] = (await ctx.client.chat_getPermalink(
                        channel=ref["channel"], message_ts=ref["ts"]))["permalink"]
                except SlackApiError:  # a removed message: the line stays, without its link
                    pass
        await ctx.client.views_publish(user_id=user_id, view=home_view(SLACK_HELP_TEXT, recent, links))
