"""Bolt listeners by kind, one module each with ``register(app, wave)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import (
    buttons,
    commands,
    events,
    home,
    middleware,
    options,
    reactions,
    remix,
    shortcuts,
    show,
    views,
)

if TYPE_CHECKING:
    from bot.slack.app import SlackWave

KINDS = (middleware, commands, options, shortcuts, views, events, home, reactions, remix, show, buttons)


def register_listeners(app: AsyncApp, wave: SlackWave) -> None:
    for kind in KINDS:
        kind.register(app, wave)
