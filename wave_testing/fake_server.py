"""What the local fakes of Discord and Slack share: serving their app on a free port of 127.0.0.1, and waiting until
what they have seen meets a condition."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web


async def serve_locally(app: web.Application, **runner_options: Any) -> tuple[web.AppRunner, int]:
    """Start serving ``app`` on 127.0.0.1 at a free port; returns the runner (``cleanup()`` stops it) and the port."""
    runner = web.AppRunner(app, **runner_options)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


async def wait_until(condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """The first true value of ``condition``, polled; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


class FakeServer:
    """A fake platform's HTTP side: ``serve`` starts it, ``stop_serving`` ends it; ``host`` is where it listens."""

    def __init__(self) -> None:
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def serve(self, app: web.Application) -> None:
        self._runner, self.port = await serve_locally(app, access_log=None)

    async def stop_serving(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
