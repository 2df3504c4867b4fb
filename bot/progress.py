"""Progress that never goes quiet: how long the current stage has run (refreshed while nothing new arrives), the
worker's latest step, and, while a job waits in line, how long the wait may be from recent job durations."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from sqlalchemy import func, select

from bot.common import cut_at_word, progress_text
from db.models import Job, JobStatus
from jobs.events import JobEvent
from jobs.runtime import Runtime

QUIET_S = 3.0  # a running job's progress line changes at least this often
ESTIMATE_CACHE_S = 30.0
RECENT_JOBS = 20
MAX_STEP_CHARS = 80
QUOTED_ID = re.compile(r"\s*from '[^']+'")  # "Building the drums from 'chair-1'": the id means nothing to people
WORKING = tuple(s for s in JobStatus if not s.finished and s != JobStatus.QUEUED)


def duration_text(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest:02d} s" if minutes < 10 else f"{minutes} min"


def rough_duration_text(seconds: float) -> str:
    """An estimate, said no more precisely than it is known: "about 40 s", "about 3 min"."""
    if seconds < 60:
        return f"{max(10, round(seconds / 10) * 10)} s"
    return f"{round(seconds / 60)} min"


class WaitEstimates:
    """Seconds a job at a given place in line may wait: the median of recent job durations, spread over the jobs
    running now (about as many as there are workers). Read from the database at most every 30 s."""

    def __init__(self, runtime: Runtime, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.runtime = runtime
        self.clock = clock
        self._known: tuple[float, float | None, int] | None = None  # (read at, median seconds, running)

    async def wait_s(self, position: int) -> float | None:
        if self._known is None or self.clock() - self._known[0] > ESTIMATE_CACHE_S:
            self._known = (self.clock(), *await self._read())
        _, median, running = self._known
        return None if median is None else position * median / max(1, running)

    async def _read(self) -> tuple[float | None, int]:
        async with self.runtime.db() as db:
            rows = (await db.execute(
                select(Job.started_at, Job.finished_at).where(
                    Job.status == JobStatus.DONE.value, Job.reused_from.is_(None), Job.started_at.is_not(None),
                    Job.finished_at.is_not(None)).order_by(Job.finished_at.desc()).limit(RECENT_JOBS)
            )).all()
            running = await db.scalar(select(func.count()).select_from(Job).where(
                Job.status.in_([s.value for s in WORKING])))
        durations = [(finished - started).total_seconds() for started, finished in rows]
        durations = [d for d in durations if d > 0]
        return (statistics.median(durations) if durations else None), int(running or 0)


class ProgressLines:
    """The text of one job's progress message, event after event."""

    def __init__(self, estimates: WaitEstimates | None = None, *, steps: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.estimates = estimates
        self.steps = steps
        self.clock = clock
        self._status: JobStatus | None = None
        self._stage_started = clock()

    async def text(self, event: JobEvent) -> str:
        if event.status != self._status:
            self._status, self._stage_started = event.status, self.clock()
        line = progress_text(event)
        if event.status == JobStatus.QUEUED:
            if event.queue_position and self.estimates is not None:
                wait = await self.estimates.wait_s(event.queue_position)
                if wait is not None:
                    line += f" · about {rough_duration_text(wait)} to wait"
            return line
        if event.status in WORKING:
            line += f" · {duration_text(self.clock() - self._stage_started)}"
            step = cut_at_word(QUOTED_ID.sub("", event.message or ""), MAX_STEP_CHARS) if self.steps else ""
            if step and step not in line and not step.lower().startswith(line.split("…")[0].lower()):
                line += f"\n↳ {step}"
        return line


async def ticking(events: AsyncIterator[JobEvent], every_s: float = QUIET_S) -> AsyncIterator[JobEvent]:
    """``events``, and the latest again whenever ``every_s`` pass without a new one while the job is worked on
    (so that the time shown moves on)."""
    iterator = aiter(events)
    latest: JobEvent | None = None
    pending = asyncio.ensure_future(anext(iterator))
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=every_s)
            if pending in done:
                try:
                    latest = pending.result()
                except StopAsyncIteration:
                    return
                yield latest
                pending = asyncio.ensure_future(anext(iterator))
            elif latest is not None and latest.status in WORKING:
                yield latest
    finally:
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)
        if hasattr(iterator, "aclose"):
            await iterator.aclose()


class LiveText(Protocol):
    """A message that shows a job's progress, edited in place within the platform's limits."""

    def show(self, text: str) -> None:
        """The newest progress text; shown when the platform allows, unless a newer one replaces it first."""

    async def settle(self) -> None:
        """Progress is over: returns once no progress edit can land any more (the final text goes out next)."""
