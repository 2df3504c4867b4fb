"""``@WAVE`` mentioned: a message with a photo is a request; without one, a hint (or the help) only the person sees."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.common import SLACK_HELP_TEXT
from bot.slack.intake import split_mention

if TYPE_CHECKING:
    from bot.slack.app import SlackWave

MENTION = re.compile(r"<@[A-Z0-9]+>")
NO_PHOTO_HINT = "Attach a photo to your message (`@WAVE [song] [a few words]`) and WAVE will make music from it."


def register(app: AsyncApp, wave: SlackWave) -> None:
    ctx = wave.ctx

    @app.event("app_mention")
    async def mentioned(event: dict, body: dict) -> None:
        text = MENTION.sub("", event.get("text") or "").strip()
        thread = event.get("thread_ts") or event["ts"]
        if text.lower() == "help" or not event.get("files"):
            hint = SLACK_HELP_TEXT if text.lower() == "help" else NO_PHOTO_HINT
            await ctx.tell_privately(event["channel"], event["user"], hint, thread_ts=thread)
            return
        song, cue = split_mention(text)
        wave.start_request(team_id=body.get("team_id") or event.get("team", ""), user_id=event["user"],
                           channel=event["channel"], thread_ts=thread, files=event["files"], song=song, cue=cue)
