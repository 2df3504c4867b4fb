"""/wave-help."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.common import HELP_TEXT


class HelpCog(commands.Cog):
    @app_commands.command(name="wave-help", description="How WAVE works.")
    async def help(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(HELP_TEXT, ephemeral=True)
