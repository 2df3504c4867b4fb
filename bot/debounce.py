"""Several quick reactions on one job become one remap render."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from bot.common import log_unexpected
from pipeline.types import Session

Apply = Callable[[str, list[tuple[str, Session]]], Awaitable[None]]


class RemapDebouncer:
    """Collects (variant, session) moves per job and applies them ``delay`` seconds after the last one.

    Moves apply in arrival order; a later move of the same sound replaces an earlier one. A failing ``apply`` is
    logged with an error id; ``flush`` applies what is waiting and waits for applies already running.
    """

    def __init__(self, apply: Apply, delay: float = 2.0) -> None:
        self.apply = apply
        self.delay = delay
        self._pending: dict[str, dict[str, Session]] = {}
        self._timers: dict[str, asyncio.Task] = {}
        self._applying: set[asyncio.Task] = set()  # referenced until done, so none is collected mid-way

    def add(self, job_id: str, variant_id: str, session: Session) -> None:
        moves = self._pending.setdefault(job_id, {})
        moves.pop(variant_id, None)
        moves[variant_id] = session
        timer = self._timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()
        task = asyncio.create_task(self._fire_later(job_id))
        self._timers[job_id] = task
        self._applying.add(task)
        task.add_done_callback(self._applying.discard)

    def waiting(self, job_id: str) -> dict[str, Session]:
        """The moves of ``job_id`` that wait for their render, sound -> session."""
        return dict(self._pending.get(job_id, {}))

    async def _fire_later(self, job_id: str) -> None:
        await asyncio.sleep(self.delay)
        if self._timers.get(job_id) is asyncio.current_task():
            del self._timers[job_id]
        await self._apply_pending(job_id)

    async def _apply_pending(self, job_id: str) -> None:
        moves = self._pending.pop(job_id, {})
        if not moves:
            return
        try:
            await self.apply(job_id, list(moves.items()))
        except Exception as exc:  # noqa: BLE001 - one job's failed remap must not go unnoticed or stop others
            log_unexpected(f"applying the remap of job {job_id}", exc)

    async def flush(self) -> None:
        for job_id in list(self._timers):
            self._timers.pop(job_id).cancel()
            await self._apply_pending(job_id)
        running = [task for task in self._applying if not task.done()]
        await asyncio.gather(*running, return_exceptions=True)
