"""Several quick reactions on one job become one remap render."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from pipeline.types import Session

Apply = Callable[[str, list[tuple[str, Session]]], Awaitable[None]]


class RemapDebouncer:
    """Collects (variant, session) moves per job and applies them ``delay`` seconds after the last one.

    Moves apply in arrival order; a later move of the same sound replaces an earlier one.
    """

    def __init__(self, apply: Apply, delay: float = 2.0) -> None:
        self.apply = apply
        self.delay = delay
        self._pending: dict[str, dict[str, Session]] = {}
        self._timers: dict[str, asyncio.TimerHandle | asyncio.Task] = {}

    def add(self, job_id: str, variant_id: str, session: Session) -> None:
        moves = self._pending.setdefault(job_id, {})
        moves.pop(variant_id, None)
        moves[variant_id] = session
        timer = self._timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()
        self._timers[job_id] = asyncio.create_task(self._fire_later(job_id))

    async def _fire_later(self, job_id: str) -> None:
        await asyncio.sleep(self.delay)
        self._timers.pop(job_id, None)
        moves = self._pending.pop(job_id, {})
        if moves:
            await self.apply(job_id, list(moves.items()))

    async def flush(self) -> None:
        for job_id in list(self._timers):
            timer = self._timers.pop(job_id)
            timer.cancel()
            moves = self._pending.pop(job_id, {})
            if moves:
                await self.apply(job_id, list(moves.items()))
