"""What happens when a reaction handler fails.

Reactions have no interaction to answer, so a failure would otherwise only reach discord.py's default error log.
Here it is logged with an error id and the person who reacted is told in the channel, with that id; at most one
such message per channel every ``quiet_s`` seconds, so that a storm of failures (the database down) stays quiet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import discord

from bot.common import error_text, log_unexpected
from bot.discord.texts import mention

log = logging.getLogger(__name__)

QUIET_S = 60.0


class ReactionFailures:
    def __init__(self, client: discord.Client, *, quiet_s: float = QUIET_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.quiet_s = quiet_s
        self.clock = clock
        self._told_at: dict[int, float] = {}  # channel id -> when a failure was last told there

    @asynccontextmanager
    async def guard(self, where: str, payload: discord.RawReactionActionEvent,
                    message: str = "That reaction did not work.") -> AsyncIterator[None]:
        """Runs a reaction handler's body; an unexpected failure is reported instead of raised."""
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - anything a handler did not expect is reported, never raised
            await self.report(where, exc, payload.channel_id, payload.user_id, message)

    async def report(self, where: str, exc: BaseException, channel_id: int, user_id: int | None = None,
                     message: str = "That reaction did not work.") -> str:
        """Logs ``exc`` with a new error id and, unless told there recently, says so in the channel. Returns the id."""
        error_id = log_unexpected(where, exc)
        if not self._may_tell(channel_id):
            return error_id
        text = error_text(message, error_id)
        try:
            await self.client.get_partial_messageable(channel_id).send(
                f"{mention(user_id)} {text}" if user_id else text,
                allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True))
        except Exception as failure:  # noqa: BLE001 - the failure is logged already; telling it is best effort
            log.warning("could not tell channel %s about error %s: %s", channel_id, error_id, failure)
        return error_id

    def _may_tell(self, channel_id: int) -> bool:
        now = self.clock()
        for channel, told_at in list(self._told_at.items()):  # keeps the table as small as the recent failures
            if now - told_at >= self.quiet_s:
                del self._told_at[channel]
        if channel_id in self._told_at:
            return False
        self._told_at[channel_id] = now
        return True
