"""A running Slack app for end-to-end tests: Bolt over HTTP with signed requests, a local Slack Web API, real Redis,
SQLite and in-process lite workers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.slack import SlackWave, web_app
from bot.slack.server import web_client
from jobs.runtime import Runtime
from wave_core.settings import Settings
from wave_testing.fake_slack import FakeSlack, SignedSender
from wave_testing.jobs_helpers import picture_bytes, workers
from wave_testing.services import REDIS_TEST_URL
from wave_testing.slack_helpers import forget_queues

TOKEN = "xoxb-wave-test"
SECRET = "wave-signing-secret"
CHANNEL = "C0MAIN"
GALLERY = "C0GALLERY"
OWNER, OTHER, VOTER, ADMIN = "U0OWNER", "U0OTHER", "U0VOTER", "U0ADMIN"
DEBOUNCE_S = 3.0  # the two quick reactions must land inside it even on a busy machine


@dataclass
class Harness:
    fake: FakeSlack
    send: SignedSender
    slack: SlackWave
    runtime: Runtime
    picture: bytes


@asynccontextmanager
async def running_slack_app(root: Path) -> AsyncIterator[Harness]:
    """The app, its fake Slack and workers, until the block ends."""
    async with AsyncExitStack() as stack:
        fake = await FakeSlack(TOKEN, admins={ADMIN}).start()
        stack.push_async_callback(fake.close)
        settings = Settings(
            profile="lite", database_url=f"sqlite+aiosqlite:///{root}/wave.db", redis_url=REDIS_TEST_URL,
            queue_prefix=f"wavetest-slack-{uuid.uuid4().hex[:8]}", data_dir=root / "data",
            artifacts_dir=root / "artifacts", slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_mode="http",
            slack_file_hosts=[fake.host], max_concurrent_jobs_per_user=1, max_jobs_per_user_per_hour=50,
            gpu_stage_timeout_s=120, cpu_stage_timeout_s=180,
        )
        runtime = await Runtime.open(settings)
        stack.push_async_callback(runtime.close)
        stack.push_async_callback(forget_queues, runtime, settings.queue_prefix)
        slack = SlackWave(settings, runtime, web_client(settings, base_url=fake.api_url), debounce_s=DEBOUNCE_S,
                          sweep_interval_s=1.0)
        stack.push_async_callback(slack.close)
        runner = web.AppRunner(web_app(slack))
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        session = await stack.enter_async_context(aiohttp.ClientSession())
        await stack.enter_async_context(workers(settings))
        await slack.start()
        yield Harness(fake, SignedSender(f"http://127.0.0.1:{port}/slack/events", SECRET, session), slack, runtime,
                      picture_bytes(seed=2, size=128))


