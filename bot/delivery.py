"""Posting a job's results exactly once on any chat platform: claim, post, give the claim back when the failure may
pass; follow progress while a job runs; sweep up what finished unwatched; pick progress up again after a restart.

A platform brings a :class:`DeliveryPort` (how to post there, and which of its refusals are for good) and the
:class:`~bot.progress.LiveText` its progress messages are edited through. The protocol itself lives only here."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any, Protocol

from bot.common import log_unexpected
from bot.progress import LiveText, ProgressLines, WaitEstimates, ticking
from bot.records import ChatRecords, RunningJob
from db.models import JobStatus
from jobs.client import JobResult, JobsClient, RenderResult
from wave_core.settings import Settings

log = logging.getLogger(__name__)

FOLLOW_MARGIN_S = 120  # a follower gives up this long after the job's stages should have ended; the sweep takes over


class Undeliverable(Exception):
    """A result that can never be posted (it has nowhere to go): its claim is kept and the reason logged."""


class DeliveryPort(Protocol):
    """What one chat platform does for delivery: post and edit there. Claims, retries and following are not its
    business."""

    def refused_for_good(self, error: BaseException) -> bool:
        """Whether ``error`` is the platform refusing the posting itself (it breaks one of its rules), so that the
        same posting would be refused again."""

    def resume(self, running: RunningJob) -> LiveText | None:
        """After a restart: the progress message of a job still being made, if it can still be edited."""

    async def post_result(self, result: JobResult, render: RenderResult, live: LiveText | None) -> str:
        """The result itself; returns the posted message's ref (``platform:channel:message``)."""

    async def post_sources(self, result: JobResult, posted_ref: str) -> None:
        """One message per sound under the result, each with the session reactions."""

    async def post_failure(self, result: JobResult, live: LiveText | None) -> None: ...

    async def post_cancelled(self, result: JobResult, live: LiveText | None) -> None: ...

    async def post_render(self, result: JobResult, render: RenderResult, live: LiveText | None) -> None: ...

    async def post_render_failure(self, result: JobResult, render: RenderResult, live: LiveText | None) -> None: ...


def releases_claim(error: BaseException, port: DeliveryPort) -> bool:
    """The one rule for a posting that failed. It is given up (the claim kept, the reason logged) only when trying
    again cannot help: the platform refused the posting itself, or it has nowhere to go. Anything else (network,
    rate limits, server errors, a channel out of reach for now, a stop mid-way, the unexpected) gives the claim
    back, and the next round tries again."""
    return not (isinstance(error, Undeliverable) or port.refused_for_good(error))


def follow_timeout_s(settings: Settings) -> float:
    return settings.gpu_stage_timeout_s + settings.cpu_stage_timeout_s + FOLLOW_MARGIN_S


class Deliveries:
    """Every delivery of one platform: live followers, the sweep and the claims they share."""

    def __init__(self, port: DeliveryPort, jobs: JobsClient, records: ChatRecords, *,
                 estimates: WaitEstimates | None = None, follow_timeout_s: float | None = None) -> None:
        self.port = port
        self.jobs = jobs
        self.records = records
        self.estimates = estimates
        self.follow_timeout_s = follow_timeout_s
        self._followed: Counter[str] = Counter()  # jobs this process follows live; the sweep leaves them alone
        self._tasks: set[asyncio.Task] = set()

    # -------------------------------------------------------------------------------------------- following

    def watch(self, job_id: str, live: LiveText | None) -> None:
        """:meth:`follow` in the background (counted at once, so that the sweep leaves the job alone)."""
        self._followed[job_id] += 1
        self._spawn(self._follow(job_id, live), f"following job {job_id}")

    def watch_render(self, job_id: str, version: int, live: LiveText | None = None, *, heading: str = "") -> None:
        self._followed[job_id] += 1
        self._spawn(self._follow_render(job_id, version, live, heading), f"following version {version} of job {job_id}")

    async def follow(self, job_id: str, live: LiveText | None) -> None:
        """Stage and queue position in ``live`` until the job ends, then its result."""
        self._followed[job_id] += 1
        await self._follow(job_id, live)

    async def follow_render(self, job_id: str, version: int, live: LiveText | None = None, *,
                            heading: str = "") -> None:
        """A remap's progress in ``live`` (under ``heading``) until it ends, then the new mix."""
        self._followed[job_id] += 1
        await self._follow_render(job_id, version, live, heading)

    async def _follow(self, job_id: str, live: LiveText | None) -> None:
        try:
            lines = ProgressLines(self.estimates)
            async for event in ticking(self.jobs.events(job_id, timeout_s=self.follow_timeout_s)):
                if not event.finished and live is not None:
                    live.show(await lines.text(event))
            if live is not None:
                await live.settle()
            await self.deliver(job_id, live)
        finally:
            self._unfollow(job_id)

    async def _follow_render(self, job_id: str, version: int, live: LiveText | None, heading: str) -> None:
        try:
            lines = ProgressLines(steps=False)
            async for event in ticking(self.jobs.events(job_id, timeout_s=self.follow_timeout_s)):
                if not event.finished and live is not None and event.render_version in (None, version):
                    line = await lines.text(event)
                    live.show(f"{heading}\n{line}" if heading else line)
            if live is not None:
                await live.settle()
            await self.deliver_render(job_id, version, live)
        finally:
            self._unfollow(job_id)

    def _unfollow(self, job_id: str) -> None:
        self._followed[job_id] -= 1
        if self._followed[job_id] <= 0:
            del self._followed[job_id]

    # -------------------------------------------------------------------------------------------- delivering

    async def deliver(self, job_id: str, live: LiveText | None = None) -> None:
        """Post a finished job's result (or failure, or cancellation) once, whoever asks first. A result comes in two
        steps: the result itself, claimed, then what hangs under it (one message per sound), which is never worth
        posting the result twice for."""
        # Read before claiming: a result that cannot be read stays unclaimed, and the next round tries again.
        result = await self.jobs.result(job_id)
        if not result.status.finished:
            return  # still running (its follower gave up waiting): the sweep delivers it once it ends
        render = result.latest if result.status == JobStatus.DONE else None
        if result.status == JobStatus.CANCELLED:
            post = partial(self.port.post_cancelled, result, live)
        elif render is not None:
            post = partial(self.port.post_result, result, render, live)
        else:
            post = partial(self.port.post_failure, result, live)
        done, posted = await self._once(partial(self.records.claim_job_delivery, job_id),
                                        partial(self.records.release_job_delivery, job_id), post, f"job {job_id}")
        if done and render is not None:
            await _logged(self.port.post_sources(result, posted), f"the sounds of job {job_id}")
            await self.records.mark_all_renders_delivered(job_id)  # last: the whole result is out

    async def deliver_render(self, job_id: str, version: int, live: LiveText | None = None) -> None:
        """Post a finished remap (or its failure) once."""
        result = await self.jobs.result(job_id)
        render = next((r for r in result.renders if r.version == version), None)
        if render is None or render.status not in ("done", "failed"):
            return  # still rendering; its own follower or the next sweep posts it
        post = self.port.post_render if render.status == "done" else self.port.post_render_failure
        await self._once(partial(self.records.claim_render_delivery, job_id, version),
                         partial(self.records.release_render_delivery, job_id, version),
                         partial(post, result, render, live), f"version {version} of job {job_id}")

    async def _once(self, claim: Callable[[], Awaitable[bool]], release: Callable[[], Awaitable[None]],
                    post: Callable[[], Awaitable[str | None]], what: str) -> tuple[bool, str | None]:
        """Claim, post, and give the claim back if the failure may pass. (True, what ``post`` returned) when this
        call posted it."""
        if not await claim():
            return False, None
        try:
            posted = await post()
        except BaseException as error:
            if releases_claim(error, self.port):
                await release()
                raise
            log.error("%s is not delivered and will not be tried again: %s", what, error,
                      exc_info=not isinstance(error, Undeliverable))
            return False, None
        return True, posted

    # ------------------------------------------------------------------------------------ sweep and restarts

    async def sweep(self) -> None:
        """Deliver what finished without a live follower: while the bot was away, or after a lost event. One that
        cannot be posted is logged and tried again next round; the others still go out."""
        for job_id in await self.records.undelivered_jobs():
            if job_id not in self._followed:
                await _logged(self.deliver(job_id), f"delivering job {job_id}")
        for job_id, version in await self.records.undelivered_renders():
            if job_id not in self._followed:
                await _logged(self.deliver_render(job_id, version), f"delivering version {version} of job {job_id}")

    async def resume(self) -> None:
        """After a restart: progress again in the messages of jobs still being made, where the platform allows."""
        for running in await self.records.running_jobs():
            if running.job_id not in self._followed and (live := self.port.resume(running)) is not None:
                self.watch(running.job_id, live)

    async def sweep_forever(self, interval_s: float) -> None:
        try:
            await self.resume()
        except Exception as exc:  # noqa: BLE001 - results still arrive through the sweep
            log_unexpected("resuming progress after a restart", exc)
        while True:
            await _logged(self.sweep(), "the delivery sweep")
            await asyncio.sleep(interval_s)

    # ------------------------------------------------------------------------------------------- background

    def _spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        task = asyncio.create_task(_logged(work, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _logged(work: Awaitable[None], what: str) -> None:
    """Background work must never die silently nor take the others down."""
    try:
        await work
    except Exception as exc:  # noqa: BLE001
        log_unexpected(what, exc)
