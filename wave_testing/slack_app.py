"""A running Slack app for end-to-end tests: Bolt over HTTP with signed requests, a local Slack Web API, real Redis,
SQLite and in-process lite workers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.slack import SlackWave, web_app
from bot.slack.server import EVENTS_PATH, web_client
from jobs.runtime import Runtime
from wave_core.settings import Settings
from wave_testing.fake_server import serve_locally
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
    serve: Callable[[], AbstractAsyncContextManager[tuple[SlackWave, SignedSender]]]
    served: AsyncExitStack

    async def restart(self) -> None:
        """Stop the app and start a new one on the same Slack, database, queues and workers, as a redeploy does."""
        await self.served.aclose()
        self.slack, self.send = await self.served.enter_async_context(self.serve())


@asynccontextmanager
async def serving_slack(settings: Settings, runtime: Runtime, fake: FakeSlack, session: aiohttp.ClientSession, *,
                        debounce_s: float, sweep_interval_s: float) -> AsyncIterator[tuple[SlackWave, SignedSender]]:
    """One run of the Slack app over HTTP, and a sender of signed requests to it."""
    async with AsyncExitStack() as stack:
        slack = SlackWave(settings, runtime, web_client(settings, base_url=fake.api_url), debounce_s=debounce_s,
                          sweep_interval_s=sweep_interval_s)
        stack.push_async_callback(slack.close)
        runner, port = await serve_locally(web_app(slack))
        stack.push_async_callback(runner.cleanup)
        await slack.start()
        yield slack, SignedSender(f"http://127.0.0.1:{port}{EVENTS_PATH}", SECRET, session)


@asynccontextmanager
async def running_slack_app(root: Path, *, token: str = TOKEN, admins: Collection[str] = (ADMIN,),
                            queue_label: str = "wavetest-slack", debounce_s: float = DEBOUNCE_S,
                            sweep_interval_s: float = 1.0, gpu_stage_timeout_s: int = 120,
                            cpu_stage_timeout_s: int = 180) -> AsyncIterator[Harness]:
    """The app, its fake Slack and workers, until the block ends."""
    async with AsyncExitStack() as stack:
        fake = await FakeSlack(token, admins=set(admins)).start()
        stack.push_async_callback(fake.close)
        settings = Settings(
            profile="lite", database_url=f"sqlite+aiosqlite:///{root}/wave.db", redis_url=REDIS_TEST_URL,
            queue_prefix=f"{queue_label}-{uuid.uuid4().hex[:8]}", data_dir=root / "data",
            artifacts_dir=root / "artifacts", slack_bot_token=token, slack_signing_secret=SECRET, slack_mode="http",
            slack_file_hosts=[fake.host], max_concurrent_jobs_per_user=1, max_jobs_per_user_per_hour=50,
            gpu_stage_timeout_s=gpu_stage_timeout_s, cpu_stage_timeout_s=cpu_stage_timeout_s,
        )
        runtime = await Runtime.open(settings)
        stack.push_async_callback(runtime.close)
        stack.push_async_callback(forget_queues, runtime, settings.queue_prefix)
        session = await stack.enter_async_context(aiohttp.ClientSession())
        await stack.enter_async_context(workers(settings))

        def serve() -> AbstractAsyncContextManager[tuple[SlackWave, SignedSender]]:
            return serving_slack(settings, runtime, fake, session, debounce_s=debounce_s,
                                 sweep_interval_s=sweep_interval_s)

        served = await stack.enter_async_context(AsyncExitStack())
        slack, send = await served.enter_async_context(serve())
        yield Harness(fake, send, slack, runtime, picture_bytes(seed=2, size=128), serve, served)
