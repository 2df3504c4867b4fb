"""The platforms' API base URLs as settings: checked when read, and what the bots really talk to."""

from __future__ import annotations

import asyncio
import uuid

import discord
import pytest
from pydantic import ValidationError

from bot.discord import endpoints
from bot.slack import serve_slack
from pipeline.errors import WaveInputError
from wave_core.settings import Settings
from wave_testing.discord_harness import bot_settings, clear_redis, running_bot
from wave_testing.fake_discord import FakeDiscord
from wave_testing.fake_slack import FakeSlack
from wave_testing.services import REDIS_TEST_URL


@pytest.mark.parametrize(("name", "value"), [
    ("slack_api_base", "ftp://slack.example/api/"),
    ("slack_api_base", "https:///api/"),
    ("discord_api_base", "discord.com/api/v10"),
    ("discord_api_base", "https://user:secret@proxy.example/api/v10"),
    ("discord_gateway_url", "https://gateway.example/"),
    ("slack_public_url", "wave.example.com"),
])
def test_a_url_that_is_not_one_is_refused(name, value):
    with pytest.raises(ValidationError) as refused:
        Settings(**{name: value})
    assert "URL" in str(refused.value)


def test_urls_are_kept_and_blanks_mean_the_platform_itself():
    settings = Settings(slack_api_base=" http://127.0.0.1:9/api/ ", discord_api_base="",
                        discord_gateway_url="wss://proxy.example/gateway/")
    assert settings.slack_api_base == "http://127.0.0.1:9/api/"
    assert settings.discord_api_base is None
    assert settings.discord_gateway_url == "wss://proxy.example/gateway/"


async def test_the_discord_bot_reaches_the_server_its_settings_name(tmp_path):
    fake = FakeDiscord()
    await fake.start()
    before = endpoints.current()
    settings = bot_settings(tmp_path, fake, discord_api_base=fake.api_base, discord_gateway_url=fake.gateway_url)
    try:
        assert discord.http.Route.BASE != fake.api_base  # nothing else points discord.py at the fake
        async with running_bot(settings, fake) as bot:
            assert bot.is_ready() and fake.command_syncs, "the bot logged in and synced its commands at the fake"
    finally:
        await clear_redis(settings)
        await fake.stop()
    assert endpoints.current() == before, "a closed bot leaves discord.py as it found it"


async def test_the_slack_app_reaches_the_server_its_settings_name(tmp_path):
    token = "xoxb-api-base"
    fake = await FakeSlack(token, app_token="xapp-1-A0-1-api-base").start()
    settings = Settings(
        profile="lite", database_url=f"sqlite+aiosqlite:///{tmp_path}/wave.db", redis_url=REDIS_TEST_URL,
        queue_prefix=f"wavetest-apibase-{uuid.uuid4().hex[:8]}", data_dir=tmp_path / "data",
        artifacts_dir=tmp_path / "artifacts", slack_bot_token=token, slack_app_token="xapp-1-revoked",
        slack_mode="socket", slack_api_base=fake.api_url,
    )
    try:
        # The fake refuses this app token: the refusal can only come from the server the setting names.
        with pytest.raises(WaveInputError) as refused:
            await asyncio.wait_for(serve_slack(settings), timeout=30)
        assert "invalid_auth" in refused.value.user_message
        assert fake.called("apps.connections.open")
    finally:
        await fake.close()
