"""What every part of the Slack app shares: settings, the jobs client, chat records and the Web API client."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.budget import SLACK_EDIT_LIMITS, RateBudget
from bot.common import log_unexpected
from bot.dedupe import SeenEvents
from bot.progress import WaitEstimates
from bot.records import ChatRecords
from bot.slack.live import LiveMessage, share_rate_limits
from jobs.client import JobsClient
from jobs.runtime import Runtime
from wave_core.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "slack"
ADMIN_CACHE_S = 600.0


def message_ref(channel: str, ts: str) -> str:
    """How a Slack message is named in the chat records (``platform:channel:message``)."""
    return f"{PLATFORM}:{channel}:{ts}"


def parse_message_ref(ref: str) -> tuple[str, str]:
    """(channel, ts) of a :func:`message_ref`."""
    _, channel, ts = ref.split(":", 2)
    return channel, ts


@dataclass
class SlackContext:
    settings: Settings
    runtime: Runtime
    client: AsyncWebClient
    jobs: JobsClient
    records: ChatRecords
    budget: RateBudget
    seen: SeenEvents
    estimates: WaitEstimates
    _tasks: set[asyncio.Task] = field(default_factory=set)
    _admins: dict[str, tuple[bool, float]] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: Settings, runtime: Runtime, client: AsyncWebClient, *,
               budget: RateBudget | None = None) -> SlackContext:
        budget = budget or RateBudget(SLACK_EDIT_LIMITS)
        share_rate_limits(client, budget)
        return cls(settings, runtime, client, JobsClient(runtime), ChatRecords(runtime, PLATFORM), budget,
                   SeenEvents(runtime.redis, settings.queue_prefix), WaitEstimates(runtime))

    def live(self, channel: str, ts: str, *, text: str = "") -> LiveMessage:
        """A message edited in place within the app's shared edit budget."""
        return LiveMessage(self.client, channel, ts, text=text, budget=self.budget)

    @property
    def download_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.client.token}"}

    def spawn(self, work: Awaitable[None], name: str) -> asyncio.Task:
        """Run ``work`` in the background, keeping a reference; a failure is logged with an error id."""

        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - background work must never die silently
                log_unexpected(name, exc)

        task = asyncio.create_task(guarded(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def tell_privately(self, channel: str, user_id: str, text: str, *, thread_ts: str | None = None,
                             replacing_ts: str | None = None) -> None:
        """An error or refusal only ``user_id`` sees (``chat.postEphemeral``); ``replacing_ts``, the public message
        it stands in for (a progress message), is deleted."""
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user_id, text=text, thread_ts=thread_ts)
        except SlackApiError as exc:  # not in the channel any more: the app's direct message still reaches them
            log.info("could not answer %s privately in %s (%s); writing to them", user_id, channel,
                     exc.response.get("error"))
            await self.client.chat_postMessage(channel=user_id, text=text)
        if replacing_ts:
            try:
                await self.client.chat_delete(channel=channel, ts=replacing_ts)
            except SlackApiError as exc:
                log.warning("could not remove %s/%s: %s", channel, replacing_ts, exc.response.get("error"))

    async def is_admin(self, user_id: str) -> bool:
        """Workspace admins and owners may remap or cancel anyone's mix and set the gallery channel."""
        known = self._admins.get(user_id)
        if known is None or known[1] < time.monotonic():
            response = await self.client.users_info(user=user_id)
            user = response.get("user") or {}
            known = (bool(user.get("is_admin") or user.get("is_owner")), time.monotonic() + ADMIN_CACHE_S)
            self._admins[user_id] = known
        return known[0]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
