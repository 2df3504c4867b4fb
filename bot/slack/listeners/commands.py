"""``/wave``: opens the request form; ``/wave help``, ``/wave top [week]``, ``/wave gallery #channel``,
``/wave settings …``, ``/wave me`` and ``/wave show [job]`` answer privately."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.common import SLACK_HELP_TEXT, error_text
from bot.slack import gallery, my_wave
from bot.slack.context import PLATFORM
from bot.slack.intake import channel_mention
from bot.slack.views import RequestOrigin, request_modal
from jobs.prefs import elsewhere_text, read_prefs

if TYPE_CHECKING:
    from bot.slack.app import SlackWave


def register(app: AsyncApp, wave: SlackWave) -> None:
    ctx = wave.ctx

    async def _personal(word: str, team_id: str, user_id: str, channel: str, rest: str) -> str:
        if word == "settings":
            return await my_wave.settings(ctx, team_id, user_id, rest)
        if word == "me":
            return await my_wave.me(ctx, team_id, user_id)
        return await my_wave.show(ctx, team_id, user_id, channel, rest)

    @app.command("/wave")
    async def wave_command(ack, body: dict, client: AsyncWebClient) -> None:
        text = (body.get("text") or "").strip()
        word, _, rest = text.partition(" ")
        team_id, user_id = body.get("team_id", ""), body["user_id"]
        if word.lower() == "help":
            await ack(text=SLACK_HELP_TEXT, response_type="ephemeral")
        elif word.lower() == "top":
            await ack(text=await my_wave.top(ctx, team_id, rest), response_type="ephemeral")
        elif word.lower() == "show" and not rest.strip():  # no autocomplete here: a list to pick from
            listed, blocks = await my_wave.show_list(ctx, user_id)
            await ack(text=listed, blocks=blocks, response_type="ephemeral")
        elif word.lower() in ("settings", "me", "show"):
            await ack(text=await _personal(word.lower(), team_id, user_id, body["channel_id"], rest),
                      response_type="ephemeral")
        elif word.lower() == "gallery":
            await ack(text=await gallery.set_gallery(ctx, team_id, user_id, rest), response_type="ephemeral")
        elif not (prefs := await read_prefs(ctx.runtime, PLATFORM, team_id)).answers_in(body["channel_id"]):
            await ack(text=error_text(elsewhere_text(prefs, channel_mention)), response_type="ephemeral")
        else:
            await ack()
            origin = RequestOrigin(channel=body["channel_id"])
            await client.views_open(trigger_id=body["trigger_id"], view=request_modal(origin, cue=text or None))
