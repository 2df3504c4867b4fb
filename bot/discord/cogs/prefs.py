"""/wave-settings (the server's default song, answer channels and private mode; admins), /wave-me (one's usage and
limits, privately) and /wave-show (a finished mix brought back with its controls)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.common import error_text, log_unexpected
from bot.discord import texts
from bot.discord.access import interaction_is_admin
from bot.discord.cogs.make import song_choices
from bot.discord.remix import remix_view
from bot.discord.replies import Reply, attach, message_ref, plan_files, reply_ref_for
from bot.usage_texts import job_label, usage_text
from jobs.prefs import describe, read_prefs, write_prefs
from jobs.usage import recent_finished, usage, visible_job
from pipeline.errors import WaveInputError

if TYPE_CHECKING:
    from bot.discord.app import WaveBot

NOT_ALLOWED = "Only people who may manage this server can change WAVE's settings."
EVERYWHERE = ("all", "any", "everywhere", "none", "-")
CHANNEL_WORD = re.compile(r"<#(\w+)>|(\S+)")


def parse_channels(text: str) -> list[str]:
    """``#a #b`` (arriving as ``<#id>``), bare ids, or ``all`` for every channel. Ids are checked by the jobs layer."""
    if text.strip().lower() in EVERYWHERE:
        return []
    return [mention or word for mention, word in CHANNEL_WORD.findall(text.replace(",", " "))]


class PrefsCog(commands.Cog):
    def __init__(self, bot: WaveBot) -> None:
        self.bot = bot

    @app_commands.command(name="wave-settings", description="WAVE's settings for this server (admins).")
    @app_commands.describe(default_song="The song when none is chosen (empty: auto)",
                           channels="The channels WAVE answers in (#a #b), or all",
                           private="Results only to the person who asked, nothing to the gallery")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def settings(self, interaction: discord.Interaction, default_song: str | None = None,
                       channels: str | None = None, private: bool | None = None) -> None:
        if not interaction_is_admin(interaction):  # a server may show the command to others: check here too
            await interaction.response.send_message(error_text(NOT_ALLOWED), ephemeral=True)
            return
        changes = {key: value for key, value in (("default_song", default_song), ("private", private)) if value is not None}
        if channels is not None:
            changes["channels"] = parse_channels(channels)
        guild = str(interaction.guild_id)
        try:
            prefs = await (write_prefs(self.bot.runtime, "discord", guild, **changes) if changes
                           else read_prefs(self.bot.runtime, "discord", guild))
        except WaveInputError as refused:
            await interaction.response.send_message(error_text(refused.user_message), ephemeral=True)
            return
        heading = "**WAVE on this server now**" if changes else "**WAVE on this server**"
        await interaction.response.send_message(f"{heading}\n{describe(prefs, texts.channel_mention)}", ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())

    @settings.autocomplete("default_song")
    async def song_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return song_choices(current)

    @app_commands.command(name="wave-me", description="Your mixes: how many you may make, and what is running.")
    async def me(self, interaction: discord.Interaction) -> None:
        guild = str(interaction.guild_id) if interaction.guild_id else None
        mine = await usage(self.bot.runtime, "discord", str(interaction.user.id), guild)
        await interaction.response.send_message(usage_text(mine), ephemeral=True)

    @app_commands.command(name="wave-show", description="Bring back one of your finished mixes.")
    @app_commands.describe(job="One of your mixes (start typing its song)")
    @app_commands.guild_only()
    async def show(self, interaction: discord.Interaction, job: str) -> None:
        prefs = await read_prefs(self.bot.runtime, "discord", str(interaction.guild_id))
        private = prefs.private or not prefs.answers_in(interaction.channel_id)
        await interaction.response.defer(thinking=True, ephemeral=private)
        reply = Reply(self.bot, reply_ref_for(interaction), interaction.channel_id, interaction.guild_id)
        try:
            job_id = await visible_job(self.bot.runtime, "discord", str(interaction.user.id),
                                       str(interaction.guild_id), job)
            result = await self.bot.jobs.result(job_id)
            render = result.latest
            if render is None:
                raise WaveInputError("That mix has no finished version.")
            plan = plan_files([render.mix_compressed])
            files = attach(plan.batches[0], {render.mix_compressed: f"wave-mix{render.mix_compressed.suffix}"}) \
                if plan.batches else []
            content = texts.result_text(result, render, mention_owner=False,
                                        too_large=[p.name for p in plan.too_large])
            message = await reply.edit_original(content, files=files, view=remix_view(job_id))
        except WaveInputError as refused:
            await reply.answer_privately(error_text(refused.user_message))
            return
        except Exception as exc:
            await reply.answer_privately(error_text("WAVE could not bring that mix back.", log_unexpected("/wave-show", exc)))
            return
        if message is not None and not private:  # reactions (⭐ to share) work on it as on the first result
            await self.bot.records.remember_message(message_ref(interaction.channel_id, message.id), job_id, "result",
                                                    render_version=render.version)

    @show.autocomplete("job")
    async def job_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        jobs = await recent_finished(self.bot.runtime, "discord", str(interaction.user.id), current)
        return [app_commands.Choice(name=job_label(j)[:100], value=j.job_id) for j in jobs]
