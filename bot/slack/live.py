"""A message edited in place as a job moves on, at most once per interval (Slack rate-limits chat.update)."""

from __future__ import annotations

import asyncio
import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.common import PROGRESS_EDIT_INTERVAL_S

log = logging.getLogger(__name__)


class LiveMessage:
    """Shows the latest text given to :meth:`show`; intermediate texts that arrive faster are skipped."""

    def __init__(self, client: AsyncWebClient, channel: str, ts: str, *, text: str = "",
                 interval: float = PROGRESS_EDIT_INTERVAL_S) -> None:
        self.client = client
        self.channel = channel
        self.ts = ts
        self.interval = interval
        self._shown = text
        self._last_edit = float("-inf")
        self._pending: str | None = None
        self._flusher: asyncio.Task | None = None

    def show(self, text: str) -> None:
        self._pending = text
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())

    async def settle(self) -> None:
        """Wait until the last text given is on screen."""
        while self._flusher is not None and not self._flusher.done():
            await self._flusher

    async def show_now(self, text: str) -> None:
        self.show(text)
        await self.settle()

    async def _flush(self) -> None:
        while self._pending is not None:
            wait = self._last_edit + self.interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            text, self._pending = self._pending, None
            if text == self._shown:
                continue
            try:
                await self.client.chat_update(channel=self.channel, ts=self.ts, text=text)
                self._shown = text
            except SlackApiError as exc:  # a deleted message or a rate limit must not stop the job's delivery
                log.warning("could not update %s/%s: %s", self.channel, self.ts, exc.response.get("error"))
            self._last_edit = time.monotonic()
