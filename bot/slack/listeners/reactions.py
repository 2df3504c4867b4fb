"""Reactions on WAVE's messages: remaps, shares and votes, cancels (see :mod:`bot.slack.reactions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

if TYPE_CHECKING:
    from bot.slack.app import SlackWave


def register(app: AsyncApp, wave: SlackWave) -> None:
    @app.event("reaction_added")
    async def reaction_added(event: dict, body: dict) -> None:
        item = event.get("item") or {}
        if item.get("type") != "message":
            return
        await wave.reactions.added(team_id=body.get("team_id", ""), user_id=event["user"],
                                   reaction=event["reaction"], channel=item["channel"], ts=item["ts"])

    @app.event("reaction_removed")
    async def reaction_removed(event: dict) -> None:
        item = event.get("item") or {}
        if item.get("type") == "message":
            await wave.reactions.removed(user_id=event["user"], reaction=event["reaction"],
                                         channel=item["channel"], ts=item["ts"])
