"""Prometheus metrics of workers and bots, and the ``/metrics`` endpoint that serves them.

What is measured:
- ``wave_queue_depth{queue}``: jobs waiting in each arq queue (the size of the queue's sorted set in Redis);
- ``wave_jobs{state}``: jobs in the database by state;
  both read every ``WAVE_METRICS_POLL_S`` seconds by :func:`poll_metrics`;
- ``wave_stage_seconds{stage}``: time jobs spend in each stage (queued, seeing, hearing, casting, building,
  playing), observed by the jobs' progress reporter when the stage changes;
- ``wave_job_failures_total{kind,task}`` and ``wave_task_retries_total{task}``: failed jobs by kind of failure
  (input, engine, transient, timeout, unexpected) and retried tasks;
- ``wave_delivery_seconds{platform}``: from a job being done to its result posted in chat (:func:`observe_delivery`,
  called by the bots).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Awaitable, TypeVar

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server

from pipeline.errors import WaveEngineError, WaveInputError, WaveTransientError

log = logging.getLogger(__name__)

T = TypeVar("T")

QUEUES = ("gpu", "cpu")
STAGE_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200)
DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)

QUEUE_DEPTH = Gauge("wave_queue_depth", "Jobs waiting in a queue (arq's queue in Redis).", ["queue"])
JOBS_BY_STATE = Gauge("wave_jobs", "Jobs in the database by state.", ["state"])
STAGE_SECONDS = Histogram("wave_stage_seconds", "Seconds a job spent in a stage.", ["stage"], buckets=STAGE_BUCKETS)
FAILURES = Counter("wave_job_failures", "Jobs that failed, by kind of failure and task.", ["kind", "task"])
RETRIES = Counter("wave_task_retries", "Tasks that failed for a passing reason and were retried.", ["task"])
DELIVERY_SECONDS = Histogram(
    "wave_delivery_seconds", "Seconds from a job being done to its result posted in chat.", ["platform"],
    buckets=DELIVERY_BUCKETS,
)
POLL_ERRORS = Counter("wave_metrics_poll_errors", "Failed readings of queue depth or jobs by state.", ["source"])


def observe_stage(stage: str, seconds: float) -> None:
    STAGE_SECONDS.labels(stage=stage).observe(max(0.0, seconds))


def observe_delivery(seconds: float, platform: str = "unknown") -> None:
    """For the bots: time from the job being done to the result posted (or, for the first reply, to the reply)."""
    DELIVERY_SECONDS.labels(platform=platform).observe(max(0.0, seconds))


def failure_kind(exc: BaseException) -> str:
    if isinstance(exc, WaveInputError):
        return "input"
    if isinstance(exc, WaveEngineError):
        return "engine"
    if isinstance(exc, WaveTransientError):
        return "transient"
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "timeout"
    return "unexpected"


def count_failure(exc: BaseException, task: str) -> None:
    FAILURES.labels(kind=failure_kind(exc), task=task).inc()


def count_retry(task: str) -> None:
    RETRIES.labels(task=task).inc()


def start_metrics_server(port: int, addr: str = "0.0.0.0"):
    """Serve ``/metrics`` on ``port`` from a background thread; returns the HTTP server (``shutdown()`` stops it)."""
    server, _thread = start_http_server(port, addr=addr, registry=REGISTRY)
    log.info("metrics on http://%s:%d/metrics", addr, port)
    return server


async def read_queue_depths(redis, prefix: str) -> dict[str, int]:
    """Jobs waiting per queue: arq keeps a queue as a sorted set named ``<prefix>:<queue>``."""
    return {queue: int(await redis.zcard(f"{prefix}:{queue}")) for queue in QUEUES}


async def read_jobs_by_state(open_db) -> dict[str, int]:
    """Job count for every state (zero where there is none)."""
    from sqlalchemy import func, select

    from db.models import Job, JobStatus

    async with open_db() as db:
        rows = (await db.execute(select(Job.status, func.count()).group_by(Job.status))).all()
    counts = {state.value: 0 for state in JobStatus}
    counts.update({status: int(count) for status, count in rows})
    return counts


async def refresh(redis, open_db, prefix: str) -> None:
    """Read queue depth and jobs by state once into the gauges; a failing source is logged and counted."""
    try:
        for queue, depth in (await read_queue_depths(redis, prefix)).items():
            QUEUE_DEPTH.labels(queue=queue).set(depth)
    except Exception as exc:  # a metrics reading must never stop the process it watches
        POLL_ERRORS.labels(source="redis").inc()
        log.warning("metrics: could not read queue depth: %s", exc)
    try:
        for state, count in (await read_jobs_by_state(open_db)).items():
            JOBS_BY_STATE.labels(state=state).set(count)
    except Exception as exc:
        POLL_ERRORS.labels(source="database").inc()
        log.warning("metrics: could not read jobs by state: %s", exc)


async def poll_metrics(settings, interval: float | None = None) -> None:
    """Refresh the gauges every ``interval`` seconds (default ``settings.metrics_poll_s``) until cancelled."""
    from redis.asyncio import Redis

    from db.session import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    open_db = make_sessionmaker(engine)
    try:
        while True:
            await refresh(redis, open_db, settings.queue_prefix)
            await asyncio.sleep(interval if interval is not None else settings.metrics_poll_s)
    finally:
        await redis.aclose()
        await engine.dispose()


async def with_metrics(settings, work: Awaitable[T]) -> T:
    """Run ``work`` (e.g. ``run_workers(...)``) with ``/metrics`` served on ``settings.metrics_port`` and the gauges
    kept fresh; without a port it just runs ``work``."""
    if settings.metrics_port is None:
        return await work
    server = start_metrics_server(settings.metrics_port)
    poller = asyncio.create_task(poll_metrics(settings), name="wave-metrics")
    try:
        return await work
    finally:
        poller.cancel()
        with suppress(asyncio.CancelledError):
            await poller
        server.shutdown()
        server.server_close()
