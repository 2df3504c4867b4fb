"""A message edited in place as a job moves on: at most once per interval, within the app's edit budget, showing
the newest text when its turn comes. Final texts (results, errors) never wait for the budget."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.budget import SLACK_EDIT_LIMITS, RateBudget
from bot.common import PROGRESS_EDIT_INTERVAL_S

log = logging.getLogger(__name__)

WORKSPACE = "workspace"  # the bot token's workspace: Slack counts a method's calls per app and workspace
DEFAULT_RETRY_AFTER_S = 1.0
MAX_REFUSALS = 5  # rate-limit refusals in a row before a text is given up (and logged)


def edit_scopes(channel: str) -> tuple[str, str]:
    return WORKSPACE, f"channel:{channel}"


def retry_after_s(headers: dict | None) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                break
    return DEFAULT_RETRY_AFTER_S


class SharedRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """Wait and retry on HTTP 429 like slack_sdk's own handler, but through the budget: the refusal holds back every
    edit of the workspace, and each retry waits for the latest ``Retry-After`` any call was given."""

    def __init__(self, budget: RateBudget, max_retry_count: int = 3) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.budget = budget

    async def prepare_for_next_attempt_async(self, *, state: RetryState, request: HttpRequest,
                                             response: HttpResponse | None = None,
                                             error: Exception | None = None) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        state.next_attempt_requested = True
        self.budget.back_off((WORKSPACE,), retry_after_s(response.headers))
        await self.budget.wait_out_back_off((WORKSPACE,))
        state.increment_current_attempt()


def share_rate_limits(client: AsyncWebClient, budget: RateBudget) -> None:
    """Replace the client's own 429 handler (if any) with one that feeds ``budget``."""
    kept = [h for h in client.retry_handlers if not isinstance(h, AsyncRateLimitErrorRetryHandler)]
    client.retry_handlers = kept + [SharedRateLimitRetry(budget)]


class LiveMessage:
    """Shows the latest text given to :meth:`show`; intermediate texts that arrive faster are skipped."""

    def __init__(self, client: AsyncWebClient, channel: str, ts: str, *, text: str = "",
                 interval: float = PROGRESS_EDIT_INTERVAL_S, budget: RateBudget | None = None) -> None:
        self.client = client
        self.channel = channel
        self.ts = ts
        self.interval = interval
        self.budget = budget or RateBudget(SLACK_EDIT_LIMITS)
        self.scopes: Sequence[str] = edit_scopes(channel)
        self._shown = text
        self._last_edit = float("-inf")
        self._pending: str | None = None
        self._final = False
        self._waiting_turn = False
        self._refusals = 0
        self._flusher: asyncio.Task | None = None

    def show(self, text: str) -> None:
        """A progress text: shown when the budget allows, unless a newer one replaces it first."""
        self._pending = text
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())

    async def settle(self) -> None:
        """Wait until the last text given is on screen."""
        while self._flusher is not None and not self._flusher.done():
            await self._flusher

    async def show_now(self, text: str) -> None:
        """A final text (result, error): goes out ahead of the budget and replaces any progress still waiting."""
        self._pending, self._final = text, True
        if self._flusher is not None and self._waiting_turn:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        self.show(text)
        await self.settle()

    async def _flush(self) -> None:
        while self._pending is not None:
            wait = self._last_edit + self.interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if self._final:
                await self.budget.wait_urgent(self.scopes)
            else:
                self._waiting_turn = True
                try:
                    await self.budget.wait_turn(self.scopes)
                finally:
                    self._waiting_turn = False
            text, self._pending = self._pending, None
            if text is None or text == self._shown:
                continue
            try:
                await self.client.chat_update(channel=self.channel, ts=self.ts, text=text)
                self._shown, self._refusals = text, 0
            except SlackApiError as exc:
                if exc.response.status_code == 429 and self._refusals < MAX_REFUSALS:
                    # the client's own retries ran out: everyone waits, then this text is tried again
                    self._refusals += 1
                    self.budget.back_off((WORKSPACE,), retry_after_s(exc.response.headers))
                    if self._pending is None:
                        self._pending = text
                else:  # a deleted message must not stop the job's delivery
                    log.warning("could not update %s/%s: %s", self.channel, self.ts, exc.response.get("error"))
            self._last_edit = time.monotonic()
