"""⭐ on your result shares it to the server's gallery; ⭐ on gallery posts are votes; /wave-top lists the best."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.common import CANCEL, STAR, gallery_title
from bot.discord import texts
from bot.discord.access import is_server_admin
from bot.discord.remix import remix_view
from bot.discord.replies import attach, fit, jump_url, message_ref, parse_ref, plan_files
from db.models import utcnow
from pipeline.errors import WaveInputError

if TYPE_CHECKING:
    from bot.discord.app import WaveBot

log = logging.getLogger(__name__)

SHAREABLE = ("request", "result", "remap")


class GalleryCog(commands.Cog):
    def __init__(self, bot: "WaveBot") -> None:
        self.bot = bot
        self._locks: dict[tuple[int, int], asyncio.Lock] = {}

    @asynccontextmanager
    async def _in_order(self, payload: discord.RawReactionActionEvent):
        """One person's reactions on one message are handled in the order they came (a quick un-star after a
        star must not be overtaken by it). Event handlers start in arrival order, and the lock queues them FIFO."""
        key = (payload.message_id, payload.user_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and self._locks.get(key) is lock:
                del self._locks[key]

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        emoji = str(payload.emoji)
        if emoji not in (STAR, CANCEL) or payload.user_id == self.bot.user.id:
            return
        async with self.bot.reaction_failures.guard("gallery reaction", payload), self._in_order(payload):
            await self._reaction_added(emoji, payload)

    async def _reaction_added(self, emoji: str, payload: discord.RawReactionActionEvent) -> None:
        ref = message_ref(payload.channel_id, payload.message_id)
        info = await self.bot.records.message(ref)
        if info is None:
            return
        try:
            if info.kind == "gallery":
                entry = await self.bot.records.entry_by_message(ref)
                if entry is None:
                    return
                if emoji == STAR and str(payload.user_id) == info.owner:
                    await self._take_back(payload)  # sharing is not voting: one's own star is not counted
                elif emoji == STAR:
                    await self.bot.records.vote(entry.id, str(payload.user_id), up=True)
                else:
                    await self._remove(entry.id, payload)
            elif emoji == STAR and info.kind in SHAREABLE and str(payload.user_id) == info.owner:
                await self._share(info.job_id, info.render_version or 1, payload)
        except WaveInputError as refused:
            await self._tell(payload, refused.user_message)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        if str(payload.emoji) != STAR or payload.user_id == self.bot.user.id:
            return
        async with self.bot.reaction_failures.guard("gallery vote removal", payload), self._in_order(payload):
            entry = await self.bot.records.entry_by_message(message_ref(payload.channel_id, payload.message_id))
            if entry is not None:
                await self.bot.records.vote(entry.id, str(payload.user_id), up=False)

    async def _share(self, job_id: str, version: int, payload: discord.RawReactionActionEvent) -> None:
        result = await self.bot.jobs.result(job_id)
        render = next((r for r in result.renders if r.version == version and r.status == "done"), result.latest)
        entry = await self.bot.records.share(job_id, str(payload.user_id), version=render.version if render else None,
                                             title=gallery_title(render.report if render else None))
        if entry.message_ref:
            return  # already in the gallery
        plan = plan_files([render.mix_compressed] if render else [])
        files = attach(plan.batches[0], {render.mix_compressed: f"wave-mix{render.mix_compressed.suffix}"}) \
            if plan.batches else []
        gallery = self.bot.get_partial_messageable(int(entry.channel_id), guild_id=payload.guild_id,
                                                   type=discord.ChannelType.text)
        posted = await gallery.send(
            fit(f"{STAR} **{entry.title}** — shared by {texts.mention(payload.user_id)}\nReact {STAR} to vote."),
            files=files, view=remix_view(job_id), allowed_mentions=discord.AllowedMentions.none())
        ref = message_ref(gallery.id, posted.id)
        await self.bot.records.set_entry_message(entry.id, ref)
        await self.bot.records.remember_message(ref, job_id, "gallery", render_version=render.version if render else None)
        # No star of the bot's own: Discord's count under the post is then the vote count /wave-top shows.

    async def _remove(self, entry_id: int, payload: discord.RawReactionActionEvent) -> None:
        entry = await self.bot.records.remove_entry(entry_id, str(payload.user_id),
                                                    is_admin=is_server_admin(payload.member))
        if entry.message_ref:
            channel_id, message_id = parse_ref(entry.message_ref)
            await self.bot.get_partial_messageable(channel_id).get_partial_message(message_id).delete()

    async def _take_back(self, payload: discord.RawReactionActionEvent) -> None:
        message = self.bot.get_partial_messageable(payload.channel_id).get_partial_message(payload.message_id)
        try:
            await message.remove_reaction(payload.emoji, discord.Object(payload.user_id))
        except discord.HTTPException as error:  # without Manage Messages the star stays, still not counted
            log.info("could not take back a self-vote: %s", error)

    async def _tell(self, payload: discord.RawReactionActionEvent, text: str) -> None:
        try:
            await self.bot.get_partial_messageable(payload.channel_id).send(
                f"{texts.mention(payload.user_id)} {text}", delete_after=30,
                allowed_mentions=discord.AllowedMentions(users=True))
        except discord.HTTPException as error:
            log.info("could not answer a reaction: %s", error)

    @app_commands.command(name="wave-top", description="The mixes this server voted best.")
    @app_commands.describe(period="This week's shares, or all time")
    @app_commands.guild_only()
    async def top(self, interaction: discord.Interaction, period: Literal["week", "all time"] = "all time") -> None:
        since = utcnow() - timedelta(days=7) if period == "week" else None
        entries = await self.bot.records.top(str(interaction.guild_id), limit=10, since=since)
        if not entries:
            await interaction.response.send_message(
                f"No mixes in the gallery yet. React {STAR} on one of your results to share it.", ephemeral=True)
            return
        lines = [f"{STAR} **Top mixes of this server{' this week' if since else ''}**"]
        for rank, entry in enumerate(entries, 1):
            link = f" · [listen]({jump_url(interaction.guild_id, entry.message_ref)})" if entry.message_ref else ""
            votes = f"{entry.votes} vote{'s' if entry.votes != 1 else ''}"
            lines.append(f"{rank}. **{entry.title}** — {votes} · by {texts.mention(entry.shared_by)}{link}")
        await interaction.response.send_message(fit("\n".join(lines)), allowed_mentions=discord.AllowedMentions.none())
