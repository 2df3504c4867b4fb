"""A job's interaction reply kept up to date with its progress, within Discord's rate limits and the bot's budgets."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from bot.common import PROGRESS_EDIT_INTERVAL_S
from bot.discord.replies import Reply, reply_ref_for
from bot.discord.views import progress_view

if TYPE_CHECKING:
    from bot.discord.app import WaveBot

log = logging.getLogger(__name__)

RETRY_AFTER_UNKNOWN_S = 1.0  # how long the channel's edits hold back after discord.py gave up on a rate limit


def edit_scopes(channel_id: int | None) -> tuple[str, str]:
    return "global", f"channel:{channel_id}"


class LiveReply:
    """A job's interaction reply showing its progress (with the Cancel button unless ``cancellable`` is False: a
    change to a finished mix is not cancelled): at most one edit a second and within the channel's and the bot's
    budgets, always the newest text when the turn comes; nothing once the interaction token has expired."""

    def __init__(self, bot: WaveBot, reply: Reply, job_id: str, *, shown: str | None = None,
                 interval: float = PROGRESS_EDIT_INTERVAL_S, cancellable: bool = True) -> None:
        self.bot = bot
        self.cancellable = cancellable
        self.reply = reply
        self.job_id = job_id
        self.interval = interval
        self._shown = shown  # the text the reply was just given, if any
        self._last_edit = asyncio.get_running_loop().time() if shown is not None else float("-inf")
        self._pending: str | None = None
        self._over = asyncio.Event()
        self._flusher: asyncio.Task | None = None

    def show(self, text: str) -> None:
        self._pending = text
        if not self._over.is_set() and (self._flusher is None or self._flusher.done()):
            self._flusher = asyncio.create_task(self._flush())

    async def settle(self) -> None:
        self._over.set()
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        scopes = edit_scopes(self.reply.channel_id)
        while self._pending is not None and not self._over.is_set():
            if self._pending == self._shown or not self.reply.token_alive:
                self._pending = None
                return
            wait = self._last_edit + self.interval - loop.time()
            if wait > 0 and await _set_within(self._over, wait):
                return
            if not await self.bot.budget.wait_turn_unless(scopes, self._over) or self._over.is_set():
                return
            text, self._pending = self._pending, None
            if text == self._shown:
                continue
            self._last_edit = loop.time()
            try:
                await self.reply.edit_original(text, view=progress_view(self.job_id) if self.cancellable else None)
                self._shown = text
            except discord.HTTPException as error:
                log.warning("progress edit of job %s failed: %s", self.job_id, error)
                if error.status == 429:  # still rate-limited after discord.py's own retries: try again later
                    self.bot.budget.back_off(scopes, RETRY_AFTER_UNKNOWN_S)
                    if self._pending is None:
                        self._pending = text


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), seconds)
        return True
    except TimeoutError:
        return False


def change_reply(bot: WaveBot, interaction: discord.Interaction, job_id: str, shown: str) -> LiveReply:
    """The private answer to whoever asked for a change to a finished mix (a new sound, another song, an edit, a
    move), following its progress under ``shown``. A private result's new version comes there too: the press is a
    fresh interaction, so this works after the result's own reply has expired."""
    reply = Reply(bot, reply_ref_for(interaction), interaction.channel_id)
    return LiveReply(bot, reply, job_id, shown=shown, cancellable=False)
