"""What runs around every listener: each event handled once, and errors logged with an id."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp

from bot.common import log_unexpected
from bot.slack.context import PLATFORM

if TYPE_CHECKING:
    from bot.slack.app import SlackWave

log = logging.getLogger(__name__)


def register(app: AsyncApp, wave: SlackWave) -> None:
    ctx = wave.ctx

    @app.middleware
    async def once_per_event(body: dict, request, next_) -> BoltResponse | None:
        """Slack sends an event again when it thinks the app missed it (``X-Slack-Retry-Num``); the same
        ``event_id`` is handled once, even when the retry reaches another process or comes after a restart."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await ctx.seen.first_time(PLATFORM, event_id):
            retry = (request.headers.get("x-slack-retry-num") or ["?"])[0]
            log.info("slack event %s came again (retry %s); already handled", event_id, retry)
            return BoltResponse(status=200, body="")
        await next_()
        return None

    @app.error
    async def on_error(error: Exception, body: dict) -> None:
        log_unexpected(f"slack {body.get('type') or body.get('command') or 'request'}", error)
