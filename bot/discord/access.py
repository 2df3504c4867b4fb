"""Who may steer a mix: its owner, or someone who may manage the server."""

from __future__ import annotations

import discord


def is_server_admin(member: discord.abc.User | None) -> bool:
    if not isinstance(member, discord.Member):
        return False
    permissions = member.guild_permissions
    return permissions.administrator or permissions.manage_guild


def may_steer(user_id: int, owner_id: str, member: discord.abc.User | None) -> bool:
    return str(user_id) == owner_id or is_server_admin(member)


def interaction_is_admin(interaction: discord.Interaction) -> bool:
    permissions = interaction.permissions
    return permissions.administrator or permissions.manage_guild
