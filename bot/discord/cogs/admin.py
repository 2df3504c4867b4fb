"""/wave-admin: the server's gallery channel, quotas and default profile (Manage Server permission)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.access import interaction_is_admin

if TYPE_CHECKING:
    from bot.discord.app import WaveBot

NOT_ALLOWED = "Only people who may manage this server can change WAVE's settings."


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class AdminCog(commands.GroupCog, group_name="wave-admin", group_description="WAVE settings for this server"):
    def __init__(self, bot: "WaveBot") -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # Discord hides the commands from others (default permissions); a server may override that, so check here too.
        if interaction.guild_id is None or not interaction_is_admin(interaction):
            await interaction.response.send_message(NOT_ALLOWED, ephemeral=True)
            return False
        return True

    @app_commands.command(name="gallery", description="The channel shared mixes are posted to.")
    async def gallery(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        await self.bot.records.configure_workspace(str(interaction.guild_id), gallery_channel_id=str(channel.id))
        await interaction.response.send_message(f"Shared mixes now go to {channel.mention}.", ephemeral=True)

    @app_commands.command(name="quotas", description="How many mixes one person may make.")
    @app_commands.describe(at_once="Mixes in the making at once per person", per_hour="Mixes per person per hour")
    async def quotas(self, interaction: discord.Interaction, at_once: app_commands.Range[int, 1, 10],
                     per_hour: app_commands.Range[int, 1, 1000]) -> None:
        await self.bot.records.configure_workspace(str(interaction.guild_id), max_concurrent_jobs_per_user=at_once,
                                                   max_jobs_per_user_per_hour=per_hour)
        await interaction.response.send_message(
            f"Each person may now have {at_once} mix(es) in the making and make {per_hour} per hour.", ephemeral=True)

    @app_commands.command(name="profile", description="lite (CPU, quick) or gpu (the full models).")
    async def profile(self, interaction: discord.Interaction, profile: Literal["lite", "gpu"]) -> None:
        await self.bot.records.configure_workspace(str(interaction.guild_id), default_profile=profile)
        await interaction.response.send_message(f"New mixes here use the **{profile}** profile.", ephemeral=True)

