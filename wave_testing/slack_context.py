"""A Slack context on real Redis and SQLite against the fake Slack, without workers or Bolt: for tests that drive
delivery or intake directly."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager

from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import Deliveries
from bot.slack.context import SlackContext
from bot.slack.delivery import create_deliveries
from jobs.runtime import Runtime
from wave_core.settings import Settings
from wave_testing.fake_slack import FakeSlack
from wave_testing.services import REDIS_TEST_URL


@asynccontextmanager
async def slack_context(tmp_path, token: str = "xoxb-context", **overrides):
    """(fake Slack, the app's context, its deliveries); ``overrides`` go to the settings."""
    fake = await FakeSlack(token).start()
    settings = Settings(**{
        "profile": "lite", "database_url": f"sqlite+aiosqlite:///{tmp_path}/slack.db", "redis_url": REDIS_TEST_URL,
        "queue_prefix": f"wavetest-slackctx-{uuid.uuid4().hex[:8]}", "data_dir": tmp_path / "slackdata",
        "artifacts_dir": tmp_path / "slackartifacts", "slack_bot_token": token, "slack_file_hosts": [fake.host],
        "slack_api_base": fake.api_url, **overrides,
    })
    runtime = await Runtime.open(settings)
    ctx = SlackContext.create(settings, runtime, AsyncWebClient(token=token, base_url=settings.slack_api_base))
    delivery: Deliveries = create_deliveries(ctx)
    try:
        yield fake, ctx, delivery
    finally:
        await delivery.close()
        await ctx.close()
        keys = [k async for k in runtime.redis.scan_iter(match=f"{settings.queue_prefix}*")]
        if keys:
            await runtime.redis.delete(*keys)
        await runtime.close()
        await fake.close()
