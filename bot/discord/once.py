"""A gateway may deliver an interaction again after a reconnect: each interaction id is answered once."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

log = logging.getLogger(__name__)


async def first_time(interaction: discord.Interaction) -> bool:
    if await interaction.client.seen.first_time("discord", str(interaction.id)):
        return True
    log.info("interaction %s came again; already answered", interaction.id)
    return False


class OncePerInteractionTree(app_commands.CommandTree):
    """Slash commands and autocomplete: a repeated interaction is dropped before any command runs."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await first_time(interaction)
