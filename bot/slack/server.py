"""Running the Slack app: Socket Mode (the default) or HTTP with signed requests (``wave bot slack``)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.app import SlackWave
from jobs.runtime import Runtime
from pipeline.errors import WaveInputError
from wave_app.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def web_app(slack: SlackWave, path: str = EVENTS_PATH) -> web.Application:
    """Events, commands, interactions and options all arrive at ``path``; Bolt checks each signature."""

    async def dispatch(request: web.Request) -> web.Response:
        response = await slack.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post(path, dispatch)
    app.router.add_get("/healthz", health)
    return app


def web_client(settings: Settings, base_url: str | None = None) -> AsyncWebClient:
    client = AsyncWebClient(token=settings.slack_bot_token, **({"base_url": base_url} if base_url else {}))
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    return client


def check_settings(settings: Settings) -> None:
    missing = ["WAVE_SLACK_BOT_TOKEN"] if not settings.slack_bot_token else []
    if settings.slack_mode == "socket" and not settings.slack_app_token:
        missing.append("WAVE_SLACK_APP_TOKEN")
    if settings.slack_mode == "http" and not settings.slack_signing_secret:
        missing.append("WAVE_SLACK_SIGNING_SECRET")
    if missing:
        raise WaveInputError(f"The Slack app needs {' and '.join(missing)} (slack mode: {settings.slack_mode}).")


async def serve_slack(settings: Settings) -> None:
    """Run until cancelled."""
    check_settings(settings)
    runtime = await Runtime.open(settings)
    slack = SlackWave(settings, runtime, web_client(settings))
    runner: web.AppRunner | None = None
    try:
        await slack.start()
        if settings.slack_mode == "socket":
            handler = AsyncSocketModeHandler(slack.app, settings.slack_app_token)
            log.info("Slack app connected in Socket Mode")
            await handler.start_async()
        else:
            runner = web.AppRunner(web_app(slack))
            await runner.setup()
            await web.TCPSite(runner, "0.0.0.0", settings.slack_port).start()
            log.info("Slack app listening on port %d at %s", settings.slack_port, EVENTS_PATH)
            await asyncio.Event().wait()
    finally:
        if runner is not None:
            await runner.cleanup()
        await slack.close()
        await runtime.close()


def run_slack(settings: Settings) -> None:
    """``wave bot slack``: check the settings, then serve until interrupted."""
    check_settings(settings)
    try:
        asyncio.run(serve_slack(settings))
    except KeyboardInterrupt:
        pass
