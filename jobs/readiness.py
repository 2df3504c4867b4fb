"""Workers say in Redis whether their engines are loaded and warm, so ``wave doctor`` can tell an operator.

Each worker process keeps one key, ``<prefix>:ready:<queue>:<host>:<pid>``, holding a :class:`WorkerReadiness`.
The key expires unless the worker refreshes it, so a worker that died stops being reported; a worker whose
engines failed to load leaves its error behind for that long before it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

TTL_S = 60
REFRESH_S = 20
MAX_ERROR_CHARS = 500


class WorkerReadiness(BaseModel):
    queue: str
    host: str
    pid: int
    profile: str
    ready: bool
    engines: dict[str, str] = {}
    warm_up_s: float | None = None
    error: str | None = None
    reported_at: float


def readiness_pattern(prefix: str) -> str:
    return f"{prefix}:ready:*"


class ReadinessBeacon:
    """Warms a worker's engines, publishes the outcome and keeps it fresh until :meth:`stop`."""

    def __init__(self, redis: Any, prefix: str, queue: str, profile: str) -> None:
        self.redis = redis
        self.state = WorkerReadiness(queue=queue, host=socket.gethostname(), pid=os.getpid(), profile=profile,
                                     ready=False, reported_at=time.time())
        self.key = f"{prefix}:ready:{queue}:{self.state.host}:{self.state.pid}"
        self._refresher: asyncio.Task | None = None

    async def warm_up(self, warm: Callable[[], dict[str, str] | None] | None) -> None:
        """Run ``warm`` (blocking; returns engine names by stage) in a thread, then publish ready or the error.

        The error is re-raised: a worker that cannot load its engines should not take jobs."""
        started = time.monotonic()
        try:
            engines = await asyncio.to_thread(warm) if warm is not None else None
        except Exception as exc:
            message = getattr(exc, "user_message", None) or f"{type(exc).__name__}: {exc}"
            self.state = self.state.model_copy(update={"error": str(message)[:MAX_ERROR_CHARS]})
            await self.publish()
            raise
        self.state = self.state.model_copy(
            update={"ready": True, "engines": engines or {}, "warm_up_s": round(time.monotonic() - started, 2)}
        )
        await self.publish()
        self._refresher = asyncio.create_task(self._refresh())

    async def publish(self) -> None:
        self.state = self.state.model_copy(update={"reported_at": time.time()})
        await self.redis.set(self.key, self.state.model_dump_json(), ex=TTL_S)

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            try:
                await self.publish()
            except (RedisError, OSError) as exc:  # Redis away for a moment: the next refresh tries again
                log.warning("could not refresh worker readiness: %s", exc)

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        if self.state.ready:  # a failed start keeps its error readable until the key expires
            with contextlib.suppress(RedisError, OSError):
                await self.redis.delete(self.key)


async def read_readiness(redis: Any, prefix: str) -> list[WorkerReadiness]:
    """Every worker's latest report (unreadable entries skipped), sorted by queue and host."""
    reports = []
    async for key in redis.scan_iter(match=readiness_pattern(prefix)):
        raw = await redis.get(key)
        if raw is None:
            continue
        try:
            reports.append(WorkerReadiness.model_validate_json(raw))
        except ValidationError:
            log.warning("ignoring an unreadable worker readiness entry %r", key)
    return sorted(reports, key=lambda r: (r.queue, r.host, r.pid))
