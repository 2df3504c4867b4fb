"""WAVE on Discord: `/wave`, reactions to remap and share, a gallery per server."""

from bot.discord.app import WaveBot, run_discord

__all__ = ["WaveBot", "run_discord"]
