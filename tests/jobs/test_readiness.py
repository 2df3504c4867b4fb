"""Workers load and warm their engines before taking jobs and report it in Redis; `wave doctor` reads the reports."""

from __future__ import annotations

import pytest

from jobs.readiness import read_readiness
from jobs.runner import WavePipeline
from jobs.runtime import GPU, Runtime
from jobs.worker import warm_engines
from pipeline.errors import WaveEngineError
from wave_app import doctor


async def _cleanup(redis, prefix: str) -> None:
    keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
    if keys:
        await redis.delete(*keys)


async def test_gpu_worker_reports_ready_engines_and_withdraws_on_shutdown(jobs_settings):
    runtime = await Runtime.open(jobs_settings)
    redis = runtime.redis
    beacons = await warm_engines(runtime, jobs_settings, [GPU], WavePipeline(jobs_settings))
    try:
        (report,) = await read_readiness(redis, jobs_settings.queue_prefix)
        assert report.queue == GPU and report.ready and report.error is None
        assert report.engines == {"vision": "lite", "effects": "lite"}
        check = await doctor.check_workers(jobs_settings.redis_url, jobs_settings.queue_prefix)
        assert check.level == "ok" and "ready, vision lite, effects lite" in check.detail
    finally:
        for beacon in beacons:
            await beacon.stop()
        await runtime.close()
    check = await doctor.check_workers(jobs_settings.redis_url, jobs_settings.queue_prefix)
    assert check.level == "warn" and "wave worker" in check.fix


async def test_worker_whose_weights_are_missing_fails_to_start_and_doctor_says_why(jobs_settings, tmp_path):
    settings = jobs_settings.model_copy(update={
        "profile": "gpu", "device": "cpu", "qwen_model": "wave-tests/no-such-qwen", "model_dir": tmp_path / "empty",
    })
    runtime = await Runtime.open(settings)
    try:
        with pytest.raises(WaveEngineError, match="wave models download"):
            await warm_engines(runtime, settings, [GPU], WavePipeline(settings))
    finally:
        await runtime.close()
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_url)
    try:
        (report,) = await read_readiness(redis, settings.queue_prefix)
        assert not report.ready and "wave models download" in report.error
        check = await doctor.check_workers(settings.redis_url, settings.queue_prefix)
        assert check.level == "fail" and "no-such-qwen" in check.detail
    finally:
        await _cleanup(redis, settings.queue_prefix)
        await redis.aclose()
