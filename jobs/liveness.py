"""Worker liveness: heartbeats and stage leases in Redis.

Every worker process writes ``{prefix}:worker:{id}`` every ``HEARTBEAT_S`` seconds, with a time to live of
``LOST_AFTER_S`` and the stages it runs. A task takes a lease on its stage before any work (``{prefix}:lease:see:JOB``
or ``{prefix}:lease:play:JOB:VERSION``, SET NX with the worker's id); the heartbeat renews the leases the worker
holds (or takes them back when Redis lost them), so a lease outlives its worker by at most ``LOST_AFTER_S``. A second runner of a stage finds the lease taken
and leaves the stage to its holder, so no stage runs twice at once. A lease is kept until the stage's pipeline
thread has really ended (a timed-out task's thread is told to stop, and the lease waits for it). A worker that finds
its lease taken by another (it stalled for longer than ``LOST_AFTER_S``) stops the stage.

The reaper (``jobs.reaper``) reads the leases: a stage that arq holds as in progress but whose lease is gone ran on a
worker that stopped.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from jobs.runtime import Runtime
from pipeline.progress import Progress, ProgressListener

log = logging.getLogger(__name__)

HEARTBEAT_S = 3.0
LOST_AFTER_S = 15.0
REAP_EVERY_S = 5.0

# Renews a lease this worker holds, or takes it back when it is free (Redis restarted empty, or this worker stalled
# and nobody took the stage meanwhile); fails only when another worker holds the stage.
_RENEW = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if not holder then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def lease_key(runtime: Runtime, stage: str) -> str:
    return f"{runtime.settings.queue_prefix}:lease:{stage}"


class StageAbandoned(Exception):
    """Raised in a pipeline thread whose stage this worker no longer runs (timed out, or taken over)."""


class Lease:
    """This worker's hold on one stage."""

    def __init__(self, stage: str, key: str) -> None:
        self.stage = stage
        self.key = key
        self.task: asyncio.Task | None = None
        self.lost = False  # another worker holds the stage now
        self.stopping = False  # the task ended; a pipeline thread still running must stop
        self._threads = 0
        self._lock = threading.Lock()
        self._idle = asyncio.Event()
        self._idle.set()

    def thread_started(self) -> None:
        with self._lock:
            if self.stopping or self.lost:
                raise StageAbandoned(self.stage)
            self._threads += 1
            self._idle.clear()

    def thread_ended(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            self._threads -= 1
            idle = self._threads == 0
        if idle:
            loop.call_soon_threadsafe(self._idle.set)

    def check(self) -> None:
        if self.stopping or self.lost:
            raise StageAbandoned(self.stage)

    async def wait_idle(self) -> None:
        await self._idle.wait()


class Liveness:
    """One worker process's heartbeat, its leases, and (under a shared lock) the reaper."""

    def __init__(self, runtime: Runtime, queues: list[str]) -> None:
        self.runtime = runtime
        self.queues = queues
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.held: dict[str, Lease] = {}
        prefix = runtime.settings.queue_prefix
        self.worker_key = f"{prefix}:worker:{self.worker_id}"
        self._reaper_lock = f"{prefix}:reaper-lock"
        self._renew = runtime.redis.register_script(_RENEW)
        self._release = runtime.redis.register_script(_RELEASE)

    async def acquire(self, stage: str) -> Lease | None:
        """The stage's lease, or None while another worker holds it."""
        key = lease_key(self.runtime, stage)
        if not await self.runtime.redis.set(key, self.worker_id, nx=True, px=int(LOST_AFTER_S * 1000)):
            return None
        lease = Lease(stage, key)
        self.held[stage] = lease
        return lease

    async def release(self, lease: Lease) -> None:
        """Give the stage up once its pipeline thread (if any) has ended."""
        lease.stopping = True
        await lease.wait_idle()
        if self.held.get(lease.stage) is lease:
            del self.held[lease.stage]
        if not lease.lost:
            await self._release(keys=[lease.key], args=[self.worker_id])

    async def beat(self) -> None:
        """Say this worker is alive, and renew its leases; a lease taken over meanwhile stops its stage."""
        ttl_ms = int(LOST_AFTER_S * 1000)
        state = {"pid": os.getpid(), "host": socket.gethostname(), "queues": self.queues,
                 "stages": sorted(self.held), "at": time.time()}
        await self.runtime.redis.set(self.worker_key, json.dumps(state), px=ttl_ms)
        for stage, lease in list(self.held.items()):
            if await self._renew(keys=[lease.key], args=[self.worker_id, ttl_ms]):
                continue
            log.error("lost the lease on %s (this worker stalled for over %.0f s); stopping it", stage, LOST_AFTER_S)
            lease.lost = True
            self.held.pop(stage, None)
            if lease.task is not None and not lease.task.done():
                lease.task.cancel()

    async def run(self, *, reap: Callable[[Runtime], Awaitable[int]] | None = None) -> None:
        """Heartbeat forever; one process at a time (a lock in Redis) runs the reaper every ``REAP_EVERY_S``."""
        next_reap = 0.0
        while True:
            try:
                await self.beat()
                now = time.monotonic()
                if reap is not None and now >= next_reap:
                    next_reap = now + REAP_EVERY_S
                    if await self.runtime.redis.set(self._reaper_lock, self.worker_id, nx=True,
                                                    px=int(REAP_EVERY_S * 1000) - 200):
                        await reap(self.runtime)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis or the database away for a moment: keep beating
                log.warning("heartbeat or reaper pass failed: %r", exc)
            await asyncio.sleep(HEARTBEAT_S)

    async def close(self) -> None:
        try:
            await self.runtime.redis.delete(self.worker_key)
        except (RedisError, OSError) as exc:
            log.warning("could not remove the worker's heartbeat: %r", exc)


class LeasedPipeline:
    """The pipeline as one leased stage sees it: its threads keep the lease held, and stop once it is given up."""

    def __init__(self, inner: Any, lease: Lease, loop: asyncio.AbstractEventLoop) -> None:
        self.inner = inner
        self.lease = lease
        self.loop = loop

    def _guarded(self, progress: ProgressListener) -> ProgressListener:
        def callback(event: Progress) -> None:
            self.lease.check()
            progress(event)

        return callback

    def _run(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.lease.thread_started()
        try:
            return method(*args, **kwargs)
        finally:
            self.lease.thread_ended(self.loop)

    def see_and_hear(self, image: bytes, cue: str | None, profile: str, seed: int, out_dir: Path, progress):
        return self._run(self.inner.see_and_hear, image, cue, profile, seed, out_dir, self._guarded(progress))

    def hear_variants(self, sheet, profile: str, seed: int, out_dir: Path, progress):
        return self._run(self.inner.hear_variants, sheet, profile, seed, out_dir, self._guarded(progress))

    def play(self, effects, song, out_dir: Path, *, progress, **options):
        return self._run(self.inner.play, effects, song, out_dir, progress=self._guarded(progress), **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def leased(task: Callable[..., Awaitable[str]], stage_of: Callable[..., str]) -> Callable[..., Awaitable[str]]:
    """``task`` run only under its stage's lease; without the lease it leaves the stage to the worker holding it."""

    @functools.wraps(task)
    async def run(ctx: dict[str, Any], *args: Any) -> str:
        liveness: Liveness = ctx["liveness"]
        stage = stage_of(*args)
        lease = await liveness.acquire(stage)
        if lease is None:
            log.info("%s is running on another worker; leaving it there", stage)
            return "running elsewhere"
        lease.task = asyncio.current_task()
        pipeline = LeasedPipeline(ctx["pipeline"], lease, asyncio.get_running_loop())
        try:
            return await task({**ctx, "pipeline": pipeline, "lease": lease}, *args)
        finally:
            await asyncio.shield(liveness.release(lease))

    return run
