"""The buttons under a result and the forms they open (see :mod:`bot.slack.buttons`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.actions import ACTION_NAMES
from bot.slack.buttons import FORMS, Place, SlackButtons

if TYPE_CHECKING:
    from bot.slack.app import SlackWave

BUTTON = re.compile(rf"^wave:(?P<action>{ACTION_NAMES})$")
FORM = re.compile("^(" + "|".join(re.escape(callback) for callback in FORMS.values()) + ")$")


def register(app: AsyncApp, wave: SlackWave) -> None:
    buttons = SlackButtons(wave.ctx, wave.delivery)

    @app.action(BUTTON)
    async def pressed(ack, body: dict, action: dict) -> None:
        await ack()
        message = body.get("message") or {}
        place = Place((body.get("channel") or {}).get("id", ""), message.get("thread_ts") or message.get("ts"),
                      body["user"]["id"])
        await buttons.pressed(BUTTON.match(action["action_id"])["action"], str(action.get("value") or ""), place,
                              body.get("trigger_id", ""))

    @app.view(FORM)
    async def submitted(ack, body: dict, view: dict) -> None:
        errors = await buttons.submitted(view["callback_id"], view, body["user"]["id"])
        if errors:
            await ack(response_action="errors", errors=errors)
        else:
            await ack()
