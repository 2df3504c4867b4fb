"""The Remix button under a gallery post: the presser picks a song, and the same band plays it as their job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.slack.my_wave import offer_songs, start_remix
from bot.slack.remix_blocks import REMIX_ACTION, REMIX_SONG_ACTION

if TYPE_CHECKING:
    from bot.slack.app import SlackWave


def action_origin(body: dict) -> tuple[str, str, str]:
    """(team, user, channel) of a block action."""
    team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
    return team, body["user"]["id"], (body.get("channel") or {}).get("id") or body["user"]["id"]


def register(app: AsyncApp, wave: SlackWave) -> None:
    ctx = wave.ctx

    @app.action(REMIX_ACTION)
    async def remix_pressed(ack, body: dict, action: dict) -> None:
        await ack()
        team, user, channel = action_origin(body)
        ctx.spawn(offer_songs(ctx, team, user, channel, action.get("value") or ""), "offering remix songs")

    @app.action(REMIX_SONG_ACTION)
    async def remix_song_picked(ack, body: dict, action: dict) -> None:
        await ack()
        team, user, channel = action_origin(body)
        job_id = (action.get("block_id") or "").removeprefix(f"{REMIX_SONG_ACTION}:")
        song = (action.get("selected_option") or {}).get("value") or ""
        ctx.spawn(start_remix(ctx, wave.delivery, team_id=team, user_id=user, channel=channel, job_id=job_id,
                              song=song), "slack remix")
