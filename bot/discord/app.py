"""The WAVE Discord bot: connections, cogs, command sync, delivery of results."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.budget import DISCORD_EDIT_LIMITS, RateBudget
from bot.common import REMAP_DEBOUNCE_S, error_text, log_unexpected
from bot.dedupe import SeenEvents
from bot.delivery import Deliveries
from bot.discord import endpoints
from bot.discord.buttons import ResultButton, ResultChoice
from bot.discord.cogs.admin import AdminCog
from bot.discord.cogs.gallery import GalleryCog
from bot.discord.cogs.help import HelpCog
from bot.discord.cogs.make import MakeCog
from bot.discord.cogs.prefs import PrefsCog
from bot.discord.cogs.remap import RemapCog
from bot.discord.delivery import create_deliveries
from bot.discord.moves import MoveChoice
from bot.discord.once import OncePerInteractionTree
from bot.discord.reaction_failures import ReactionFailures
from bot.discord.remix import RemixButton, RemixSongButton
from bot.discord.replies import Reply, reply_ref_for
from bot.discord.views import CancelButton
from bot.progress import WaitEstimates
from bot.records import ChatRecords
from jobs.client import JobsClient
from jobs.runtime import Runtime
from pipeline.errors import WaveInputError
from wave_core.settings import Settings

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 15.0


class WaveBot(commands.Bot):
    runtime: Runtime
    jobs: JobsClient
    records: ChatRecords
    delivery: Deliveries
    seen: SeenEvents
    download_session: aiohttp.ClientSession

    def __init__(self, settings: Settings, *, sweep_interval_s: float = SWEEP_INTERVAL_S,
                 remap_debounce_s: float = REMAP_DEBOUNCE_S, guild_ready_timeout: float = 2.0,
                 edit_budget: RateBudget | None = None) -> None:
        # Default intents only: slash commands and reactions need no message content.
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default(), help_command=None,
                         guild_ready_timeout=guild_ready_timeout, tree_cls=OncePerInteractionTree)
        self.settings = settings
        self._endpoints_before = endpoints.use_settings(settings)
        self.budget = edit_budget or RateBudget(DISCORD_EDIT_LIMITS)
        self.sweep_interval_s = sweep_interval_s
        self.remap_debounce_s = remap_debounce_s
        self._sweeper: asyncio.Task | None = None
        self.reaction_failures = ReactionFailures(self)
        self.tree.on_error = self.on_app_command_error

    async def setup_hook(self) -> None:
        self.runtime = await Runtime.open(self.settings)
        self.jobs = JobsClient(self.runtime)
        self.records = ChatRecords(self.runtime, "discord")
        self.seen = SeenEvents(self.runtime.redis, self.settings.queue_prefix)
        self.estimates = WaitEstimates(self.runtime)
        self.delivery = create_deliveries(self)
        self.download_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        for cog in (MakeCog(self), RemapCog(self, debounce_s=self.remap_debounce_s), GalleryCog(self),
                    AdminCog(self), HelpCog(), PrefsCog(self)):
            await self.add_cog(cog)
        self.add_dynamic_items(CancelButton, ResultButton, ResultChoice, MoveChoice)
        self.add_dynamic_items(RemixButton, RemixSongButton)
        await self.sync_commands()
        self._sweeper = asyncio.create_task(self._deliver_forever())

    async def _deliver_forever(self) -> None:
        await self.wait_until_ready()
        await self.delivery.sweep_forever(self.sweep_interval_s)

    async def sync_commands(self) -> None:
        """One guild while developing (instant), everywhere otherwise (Discord takes a while to spread it)."""
        if self.settings.discord_guild_id:
            guild = discord.Object(self.settings.discord_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d commands", len(synced))

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        for name in list(self.cogs):
            await self.remove_cog(name)  # the remap cog flushes reactions still waiting to be applied
        if hasattr(self, "delivery"):
            await self.delivery.close()
        await super().close()
        if hasattr(self, "download_session"):
            await self.download_session.close()
        if hasattr(self, "runtime"):
            await self.runtime.close()
        endpoints.restore(self._endpoints_before)

    async def on_app_command_error(self, interaction: discord.Interaction,
                                   error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        if isinstance(original, WaveInputError):
            text = error_text(original.user_message)
        elif isinstance(error, app_commands.CheckFailure):
            text = error_text("You cannot use that command here.")
        else:
            text = error_text("Something went wrong on WAVE's side.", log_unexpected(
                f"/{interaction.command.name if interaction.command else '?'}", original))
        try:
            if interaction.response.is_done():
                await Reply(self, reply_ref_for(interaction), interaction.channel_id).answer_privately(text)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException as failure:
            log.warning("could not report an error to the user: %s", failure)


async def serve(settings: Settings) -> None:
    if not settings.discord_token:
        raise SystemExit("Set WAVE_DISCORD_TOKEN to the bot's token.")
    bot = WaveBot(settings)
    async with bot:
        await bot.start(settings.discord_token)


def run_discord(settings: Settings) -> None:
    """What `wave bot discord` runs: the bot, until interrupted. Logging is WAVE's (set up by the command), so
    discord.py's own handler is not added: with both, every line was written twice."""
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        pass
