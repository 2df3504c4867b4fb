"""Fixtures of the Discord tests: the fake Discord, bot settings pointed at it, and the rule check."""

from __future__ import annotations

import pytest

from wave_testing.discord_harness import bot_settings, clear_redis, point_discord_py_at, restore_discord_py
from wave_testing.fake_discord import FakeDiscord


@pytest.fixture
async def fake():
    """A fresh fake Discord per test, with discord.py pointed at it."""
    server = FakeDiscord()
    await server.start()
    old = point_discord_py_at(server)
    yield server
    restore_discord_py(old)
    await server.stop()


@pytest.fixture
def settings(tmp_path, fake):
    """Bot settings pointed at the test's fake Discord (use with ``fake``)."""
    return bot_settings(tmp_path, fake)


@pytest.fixture
async def rules_kept(fake, settings):
    """For the tests that use it: after each test, its queues are emptied and the fake saw no broken rule."""
    yield
    await clear_redis(settings)
    assert fake.violations == [], "the bot broke Discord's rules"
