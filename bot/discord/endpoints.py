"""Where discord.py talks to: Discord itself, or the REST base and gateway the settings name (a proxy, a test
server). discord.py reads both from class attributes, so they are set for the process while a bot runs."""

from __future__ import annotations

import discord
import yarl

from wave_core.settings import Settings

Endpoints = tuple[str, yarl.URL]


def current() -> Endpoints:
    return discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


def restore(endpoints: Endpoints) -> None:
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = endpoints


def use_settings(settings: Settings) -> Endpoints:
    """Point discord.py at the settings' API base and gateway (those set); returns what was there before."""
    before = current()
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)
    return before
