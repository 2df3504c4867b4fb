"""Running the Slack app: Socket Mode (the default) or HTTP with signed requests (``wave bot slack``)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.app import SlackWave
from jobs.runtime import Runtime
from pipeline.errors import WaveInputError
from wave_core.settings import Settings

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
    """The Web API client (Socket Mode opens its connections through it too); ``base_url``, else the setting,
    points it somewhere other than slack.com."""
    base_url = base_url or settings.slack_api_base
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


async def serve_slack(settings: Settings, *, api_url: str | None = None) -> None:
    """Run until cancelled. ``api_url`` (or WAVE_SLACK_API_BASE) points the Web API client somewhere other than
    slack.com."""
    check_settings(settings)
    runtime = await Runtime.open(settings)
    slack = SlackWave(settings, runtime, web_client(settings, base_url=api_url))
    try:
        await slack.start()
        if settings.slack_mode == "socket":
            await serve_socket_mode(slack, settings.slack_app_token or "")
        else:
            await serve_http(slack, settings.slack_port)
    finally:
        await slack.close()
        await runtime.close()


async def serve_socket_mode(slack: SlackWave, app_token: str) -> None:
    """Receive over Slack's WebSocket until cancelled; the Web API client also opens the connections."""
    handler = AsyncSocketModeHandler(slack.app, app_token)
    try:
        try:  # the first URL is asked for here, so that a refused app token stops the app with a clear message
            handler.client.wss_uri = await handler.client.issue_new_wss_url()
        except SlackApiError as refused:
            raise WaveInputError(f"Slack refused WAVE_SLACK_APP_TOKEN ({refused.response.get('error')}): use an "
                                 "app-level token (xapp-...) with the connections:write scope.") from None
        await handler.connect_async()
        log.info("Slack app connected in Socket Mode")
        await asyncio.Event().wait()
    finally:
        await handler.close_async()


async def serve_http(slack: SlackWave, port: int) -> None:
    runner = web.AppRunner(web_app(slack))
    await runner.setup()
    try:
        await web.TCPSite(runner, "0.0.0.0", port).start()
        log.info("Slack app listening on port %d at %s", port, EVENTS_PATH)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def run_slack(settings: Settings) -> None:
    """``wave bot slack``: check the settings, then serve until interrupted."""
    check_settings(settings)
    try:
        asyncio.run(serve_slack(settings))
    except KeyboardInterrupt:
        pass
