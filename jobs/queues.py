"""The two work queues, the task names on them and the ids that make each stage's work unique.

A stage id names one piece of work (a job's vision stage, one render version); the arq job id adds the attempt, so
a stage queued again after a lost worker does not collide with the entry it replaces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobs.runtime import Runtime

GPU = "gpu"  # vision + sound effects
CPU = "cpu"  # casting, instruments, render, mix

VISION_TASK = "see_and_hear"
RENDER_TASK = "play_render"


def vision_stage(job_id: str) -> str:
    return f"see:{job_id}"


def render_stage(job_id: str, version: int) -> str:
    return f"play:{job_id}:{version}"


async def enqueue_vision(runtime: Runtime, job_id: str, attempt: int | str) -> None:
    await runtime.redis.enqueue_job(
        VISION_TASK, job_id, _job_id=f"{vision_stage(job_id)}:{attempt}", _queue_name=runtime.queue(GPU)
    )


async def enqueue_render(runtime: Runtime, job_id: str, version: int, attempt: int | str = 0) -> None:
    await runtime.redis.enqueue_job(
        RENDER_TASK, job_id, version, _job_id=f"{render_stage(job_id, version)}:{attempt}",
        _queue_name=runtime.queue(CPU),
    )


HEAR_AGAIN_TASK = "hear_again"


def hear_again_stage(job_id: str, version: int) -> str:
    return f"hear:{job_id}:{version}"


async def enqueue_hear_again(runtime: Runtime, job_id: str, version: int, attempt: int | str = 0) -> None:
    """The effects a change emptied, made again on the GPU queue; the render of ``version`` follows."""
    await runtime.redis.enqueue_job(
        HEAR_AGAIN_TASK, job_id, version, _job_id=f"{hear_again_stage(job_id, version)}:{attempt}",
        _queue_name=runtime.queue(GPU),
    )
