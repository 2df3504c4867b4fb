"""Metrics on real Redis and a real database: queue depth, jobs by state, stage times, failures, the endpoint."""

from __future__ import annotations

import json
import logging
import urllib.request

import pytest
from prometheus_client import REGISTRY

from db.models import JobStatus
from jobs.client import JobsClient, SubmitRequest
from jobs.runner import WavePipeline
from jobs.tasks import play_render, see_and_hear
from wave_core import metrics
from wave_core.logging_setup import make_handler
from wave_testing.jobs_helpers import picture_bytes, short_song_midi


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def task_log():
    """Lines the queue tasks log, as JSON."""
    import io

    buffer = io.StringIO()
    handler = make_handler("json", buffer)
    logger = logging.getLogger("jobs")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(old_level)


async def test_a_job_through_both_tasks_feeds_every_gauge_and_histogram(runtime, jobs_settings):
    client = JobsClient(runtime)
    job_id = await client.submit(SubmitRequest(image=picture_bytes(1), midi=short_song_midi(), seed=1, user_id="mia"))

    await metrics.refresh(runtime.redis, runtime.db, jobs_settings.queue_prefix)
    assert sample("wave_queue_depth", queue="gpu") == 1 and sample("wave_queue_depth", queue="cpu") == 0
    assert sample("wave_jobs", state="queued") == 1 and sample("wave_jobs", state="done") == 0

    stages = ["queued", "seeing", "hearing", "casting", "building", "playing"]
    before = {stage: sample("wave_stage_seconds_count", stage=stage) for stage in stages}
    ctx = {"runtime": runtime, "pipeline": WavePipeline(jobs_settings), "job_try": 1}
    assert await see_and_hear(ctx, job_id) == "heard"
    # The task queued the music task; the gpu queue entry is arq's to remove, so read the cpu queue.
    assert (await metrics.read_queue_depths(runtime.redis, jobs_settings.queue_prefix))["cpu"] == 1
    assert await play_render(ctx, job_id, 1) == "played"

    after = {stage: sample("wave_stage_seconds_count", stage=stage) for stage in stages}
    # casting is entered twice: at the end of the gpu task and at the start of the cpu task.
    assert {stage: after[stage] - before[stage] for stage in stages} == {
        "queued": 1, "seeing": 1, "hearing": 1, "casting": 1, "building": 1, "playing": 1}
    assert sample("wave_stage_seconds_sum", stage="playing") > 0

    await metrics.refresh(runtime.redis, runtime.db, jobs_settings.queue_prefix)
    assert sample("wave_jobs", state="done") == 1 and sample("wave_jobs", state="queued") == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_failing_engine_is_counted_by_kind_and_logged_with_the_job_id(runtime, jobs_settings, task_log):
    broken = jobs_settings.model_copy(update={"effects_engine": "audioldm2", "audioldm2_model": "/nonexistent/audioldm2"})
    client = JobsClient(runtime)
    job_id = await client.submit(SubmitRequest(image=picture_bytes(1), song="auto", user_id="leo"))
    before = sample("wave_job_failures_total", kind="engine", task="see_and_hear")
    ctx = {"runtime": runtime, "pipeline": WavePipeline(broken), "job_try": 1}

    assert await see_and_hear(ctx, job_id) == "failed"

    assert sample("wave_job_failures_total", kind="engine", task="see_and_hear") == before + 1
    status = await client.status(job_id)
    assert status.status == JobStatus.FAILED
    failure_lines = [line for line in task_log() if "failed at see_and_hear" in line["msg"]]
    assert failure_lines and all(line["job_id"] == job_id for line in failure_lines)


def test_failure_kinds():
    from pipeline.errors import WaveEngineError, WaveInputError, WaveTransientError

    assert metrics.failure_kind(WaveInputError("bad picture")) == "input"
    assert metrics.failure_kind(WaveEngineError("no weights")) == "engine"
    assert metrics.failure_kind(WaveTransientError("busy")) == "transient"
    assert metrics.failure_kind(TimeoutError()) == "timeout"
    assert metrics.failure_kind(KeyError("x")) == "unexpected"


def test_metrics_endpoint_serves_delivery_latency():
    before = sample("wave_delivery_seconds_count", platform="discord")
    metrics.observe_delivery(1.7, platform="discord")
    metrics.observe_delivery(-0.1, platform="discord")  # clock skew is clamped, not recorded as negative
    server = metrics.start_metrics_server(0, addr="127.0.0.1")
    try:
        port = server.server_address[1]
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert sample("wave_delivery_seconds_count", platform="discord") == before + 2
    assert 'wave_delivery_seconds_bucket{le="2.0",platform="discord"}' in text
    for name in ("wave_queue_depth", "wave_jobs", "wave_stage_seconds", "wave_job_failures_total"):
        assert f"# TYPE {name.removesuffix('_total')}" in text


async def test_unreachable_sources_are_counted_not_raised(jobs_settings):
    from redis.asyncio import Redis

    from db.session import make_engine, make_sessionmaker

    redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    before = (sample("wave_metrics_poll_errors_total", source="redis"),
              sample("wave_metrics_poll_errors_total", source="database"))
    try:
        await metrics.refresh(redis, make_sessionmaker(engine), "nowhere")
    finally:
        await redis.aclose()
        await engine.dispose()
    assert sample("wave_metrics_poll_errors_total", source="redis") == before[0] + 1
    assert sample("wave_metrics_poll_errors_total", source="database") == before[1] + 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_with_metrics_serves_while_the_work_runs(jobs_settings, runtime):
    import asyncio
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = jobs_settings.model_copy(update={"metrics_port": port, "metrics_poll_s": 0.05})
    await JobsClient(runtime).submit(SubmitRequest(image=picture_bytes(2), song="auto", user_id="ivy"))

    async def work() -> str:
        for _ in range(100):
            text = await asyncio.to_thread(
                lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode())
            if 'wave_queue_depth{queue="gpu"} 1.0' in text:
                return text
            await asyncio.sleep(0.05)
        return text

    text = await metrics.with_metrics(settings, work())
    assert 'wave_queue_depth{queue="gpu"} 1.0' in text
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)
