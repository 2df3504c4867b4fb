"""*Make music with WAVE* on a message with a photo: the request form, with that photo."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.common import error_text
from bot.slack.pictures import first_picture
from bot.slack.views import PICTURE_SHORTCUT, RequestOrigin, request_modal
from pipeline.errors import WaveInputError

if TYPE_CHECKING:
    from bot.slack.app import SlackWave


def register(app: AsyncApp, wave: SlackWave) -> None:
    ctx = wave.ctx

    @app.message_shortcut(PICTURE_SHORTCUT)
    async def picture_shortcut(ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        message = body.get("message") or {}
        channel, user_id = body["channel"]["id"], body["user"]["id"]
        try:
            file = first_picture(message.get("files") or [])
        except WaveInputError as exc:
            await ctx.tell_privately(channel, user_id, error_text(exc.user_message))
            return
        origin = RequestOrigin(channel=channel, thread_ts=message.get("thread_ts") or message["ts"],
                               file_id=file["id"], file_name=file.get("name"))
        await client.views_open(trigger_id=body["trigger_id"], view=request_modal(origin))
