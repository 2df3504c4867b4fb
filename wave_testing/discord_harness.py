"""Running the real WAVE Discord bot against the local fake Discord (wave_testing/fake_discord.py); the fixtures that use it are in
tests/bot/discord/conftest.py."""

from __future__ import annotations

import asyncio
import io
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import discord
import numpy as np
import yarl
from PIL import Image

from bot.discord import WaveBot
from bot.records import ChatRecords
from wave_core.settings import Settings
from wave_testing.fake_discord import FakeDiscord, FakeInteraction
from wave_testing.services import REDIS_TEST_URL


def point_discord_py_at(fake: FakeDiscord) -> tuple[str, yarl.URL]:
    """discord.py reads these two class attributes for every request and connection; returns the old values."""
    old = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    return old


def restore_discord_py(old: tuple[str, yarl.URL]) -> None:
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old


def bot_settings(tmp_path: Path, fake: FakeDiscord, **overrides) -> Settings:
    values = dict(
        profile="lite", database_url=f"sqlite+aiosqlite:///{tmp_path}/wave.db", redis_url=REDIS_TEST_URL,
        queue_prefix=f"wavetest-{uuid.uuid4().hex[:10]}", data_dir=tmp_path / "data",
        artifacts_dir=tmp_path / "artifacts", max_concurrent_jobs_per_user=1, max_jobs_per_user_per_hour=50,
        max_queue_length=20, gpu_stage_timeout_s=120, cpu_stage_timeout_s=120,
        discord_token=fake.token, discord_guild_id=fake.guild_id, discord_attachment_hosts=[fake.host],
        discord_api_base=fake.api_base, discord_gateway_url=fake.gateway_url,
    )
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_bot(settings: Settings, fake: FakeDiscord, **kwargs):
    """The bot logged in to the fake and ready (commands synced, guild received); closed on exit."""
    bot = WaveBot(settings, **{"sweep_interval_s": 0.3, "remap_debounce_s": 0.4, "guild_ready_timeout": 0.2, **kwargs})
    task = asyncio.create_task(bot.start(settings.discord_token))
    try:
        await fake.until(lambda: bot.is_ready() or task.done(), timeout=60, what="the bot to be ready")
        if task.done():
            task.result()  # raises what stopped the bot
        yield bot
    finally:
        await bot.close()
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):
            pass


async def eventually(read, expected, *, timeout: float = 15.0) -> None:
    """Polls ``await read()`` until it returns ``expected``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await read()) != expected:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {value!r}, expected {expected!r}")
        await asyncio.sleep(0.05)


def settled_reply(fake: FakeDiscord, interaction: FakeInteraction) -> dict | None:
    """The reply once it carries the result or a failure (so that a failing pipeline fails the test quickly)."""
    message = fake.original(interaction)
    return message if message and (message["attachments"] or message["content"].startswith("⚠️")) else None


def thread_sources(fake: FakeDiscord, thread_id: int) -> list[dict]:
    """The sound messages in a result's thread."""
    return [m for m in fake.messages_in(thread_id) if m["content"].startswith("🔊")]


async def job_of(bot: WaveBot, interaction: FakeInteraction) -> str:
    """The job behind the reply to a /wave."""
    info = await ChatRecords(bot.runtime, "discord").message(
        f"discord:{interaction.channel_id}:{interaction.original_id}")
    return info.job_id


async def clear_redis(settings: Settings) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_url)
    keys = [k async for k in redis.scan_iter(match=f"{settings.queue_prefix}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def photo_bytes(seed: int = 0, size: int = 96) -> bytes:
    """A small real photo (scikit-image's astronaut), shifted per seed so that requests differ."""
    from skimage import data

    image = Image.fromarray(np.roll(data.astronaut(), seed * 11, axis=1)).resize((size, size))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
