"""Session reactions on a sound's message move it to that part; quick reactions become one new mix."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.common import EMOJI_SESSION, error_text
from bot.debounce import RemapDebouncer
from bot.discord.access import may_steer
from bot.discord.replies import message_ref
from pipeline.errors import WaveInputError
from pipeline.types import Session

if TYPE_CHECKING:
    from bot.discord.app import WaveBot

log = logging.getLogger(__name__)


class RemapCog(commands.Cog):
    def __init__(self, bot: "WaveBot", *, debounce_s: float) -> None:
        self.bot = bot
        self.debouncer = RemapDebouncer(self._apply, delay=debounce_s)
        self._thread_of: dict[str, int] = {}  # job -> where its waiting moves were made; emptied as they apply

    async def cog_unload(self) -> None:
        await self.debouncer.flush()

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        session = EMOJI_SESSION.get(str(payload.emoji))
        if session is None or payload.user_id == self.bot.user.id:
            return
        async with self.bot.reaction_failures.guard("remap reaction", payload, "Moving that sound did not work."):
            info = await self.bot.records.message(message_ref(payload.channel_id, payload.message_id))
            if info is None or info.kind != "source" or info.variant_id is None:
                return
            if not may_steer(payload.user_id, info.owner, payload.member):
                await self._remove(payload)
                return
            self._thread_of[info.job_id] = payload.channel_id
            self.debouncer.add(info.job_id, info.variant_id, session)

    async def _apply(self, job_id: str, moves: list[tuple[str, Session]]) -> None:
        channel_id = self._thread_of.pop(job_id, 0)
        try:
            version = await self.bot.jobs.remap_many(job_id, moves)
        except WaveInputError as refused:
            await self._say(channel_id, error_text(refused.user_message))
            return
        except Exception as exc:  # noqa: BLE001 - reported with an error id in the thread
            await self.bot.reaction_failures.report("remap", exc, channel_id, message="That remap could not start.")
            return
        log.info("job %s: remap to version %s (%s)", job_id, version, moves)
        self.bot.delivery.watch_render(job_id, version)

    async def _say(self, channel_id: int, text: str) -> None:
        try:
            await self.bot.get_partial_messageable(channel_id).send(text)
        except discord.HTTPException as error:
            log.info("could not answer a remap: %s", error)

    async def _remove(self, payload: discord.RawReactionActionEvent) -> None:
        """Strangers' reactions change nothing; taking them off keeps the message honest."""
        channel = self.bot.get_partial_messageable(payload.channel_id)
        try:
            await channel.get_partial_message(payload.message_id).remove_reaction(payload.emoji,
                                                                                  discord.Object(payload.user_id))
        except discord.HTTPException as error:
            log.info("could not remove a reaction: %s", error)
