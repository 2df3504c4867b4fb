"""The song search inside the request form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.slack.views import SONG_BLOCK, song_options

if TYPE_CHECKING:
    from bot.slack.app import SlackWave


def register(app: AsyncApp, wave: SlackWave) -> None:
    @app.options(SONG_BLOCK)
    async def song_choices(ack, body: dict) -> None:
        await ack(options=song_options(body.get("value") or ""))
