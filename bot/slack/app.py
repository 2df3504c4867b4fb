"""The Slack app: Bolt with WAVE's listeners (bot/slack/listeners), and the background work they need: following
jobs, debounced remaps, the delivery sweep."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.common import REMAP_DEBOUNCE_S
from bot.debounce import RemapDebouncer
from bot.slack.context import SlackContext
from bot.slack.delivery import create_deliveries
from bot.slack.intake import start_request
from bot.slack.listeners import register_listeners
from bot.slack.reactions import Reactions
from bot.slack.remaps import remap
from jobs.runtime import Runtime
from pipeline.types import Session
from wave_core.settings import Settings

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 30.0


class SlackWave:
    """Bolt app plus the background work it needs: following jobs, debounced remaps, the delivery sweep."""

    def __init__(self, settings: Settings, runtime: Runtime, client: AsyncWebClient, *,
                 debounce_s: float = REMAP_DEBOUNCE_S, sweep_interval_s: float = SWEEP_INTERVAL_S) -> None:
        self.ctx = SlackContext.create(settings, runtime, client)
        self.delivery = create_deliveries(self.ctx)
        self.debouncer = RemapDebouncer(self._remap, delay=debounce_s)
        self.reactions = Reactions(self.ctx, self.debouncer)
        self.sweep_interval_s = sweep_interval_s
        self.app = AsyncApp(client=client, signing_secret=settings.slack_signing_secret or "",
                            process_before_response=False)
        register_listeners(self.app, self)

    async def start(self) -> None:
        """Deliver what finished while the app was away, and keep doing so."""
        self.ctx.spawn(self.delivery.sweep_forever(self.sweep_interval_s), "slack delivery sweep")

    async def close(self) -> None:
        await self.debouncer.flush()
        await self.delivery.close()
        await self.ctx.close()

    def start_request(self, **request) -> None:
        """A picture request from any way in, handled in the background (the listener has to answer at once)."""
        self.ctx.spawn(start_request(self.ctx, self.delivery, **request), "slack request")

    async def _remap(self, job_id: str, moves: list[tuple[str, Session]]) -> None:
        self.ctx.spawn(remap(self.ctx, self.delivery, job_id, moves), "slack remap")
