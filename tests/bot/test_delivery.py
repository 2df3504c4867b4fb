"""The platform-neutral delivery protocol against a stub platform: which failures give a claim back."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from bot.delivery import Deliveries, Undeliverable
from db.models import JobStatus


class Refused(Exception):
    """What the stub platform raises when it refuses a posting itself."""


class StubPort:
    def __init__(self, fail_with: BaseException | None = None, sources_fail: bool = False) -> None:
        self.fail_with = fail_with
        self.sources_fail = sources_fail
        self.posted: list[str] = []

    def refused_for_good(self, error: BaseException) -> bool:
        return isinstance(error, Refused)

    def resume(self, running):
        return None

    async def post_result(self, result, render, live) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.posted.append("result")
        return "stub:channel:1"

    async def post_sources(self, result, posted_ref: str) -> None:
        if self.sources_fail:
            raise RuntimeError("thread unreachable")
        self.posted.append(f"sources under {posted_ref}")


class StubRecords:
    def __init__(self) -> None:
        self.claimed: set[str] = set()
        self.renders_marked: list[str] = []

    async def claim_job_delivery(self, job_id: str) -> bool:
        if job_id in self.claimed:
            return False
        self.claimed.add(job_id)
        return True

    async def release_job_delivery(self, job_id: str) -> None:
        self.claimed.discard(job_id)

    async def mark_all_renders_delivered(self, job_id: str) -> None:
        self.renders_marked.append(job_id)


class StubJobs:
    async def result(self, job_id: str):
        return SimpleNamespace(job_id=job_id, status=JobStatus.DONE, latest=SimpleNamespace(version=1))


def deliveries(port: StubPort) -> tuple[Deliveries, StubRecords]:
    records = StubRecords()
    return Deliveries(port, StubJobs(), records), records  # type: ignore[arg-type]


@pytest.mark.parametrize("error", [ConnectionError("reset"), TimeoutError(), KeyError("surprise")])
async def test_a_failure_that_may_pass_gives_the_claim_back(error):
    delivery, records = deliveries(StubPort(fail_with=error))
    with pytest.raises(type(error)):
        await delivery.deliver("job-1")
    assert records.claimed == set()  # the next sweep tries again


@pytest.mark.parametrize("error", [Refused("message too long"), Undeliverable("nowhere to post")])
async def test_a_refusal_for_good_keeps_the_claim_and_says_so(error, caplog):
    delivery, records = deliveries(StubPort(fail_with=error))
    with caplog.at_level(logging.ERROR, logger="bot.delivery"):
        await delivery.deliver("job-1")
    assert records.claimed == {"job-1"}
    assert any("job job-1 is not delivered" in r.getMessage() for r in caplog.records)


async def test_sounds_that_cannot_be_posted_never_repost_the_result():
    port = StubPort(sources_fail=True)
    delivery, records = deliveries(port)
    await delivery.deliver("job-1")
    await delivery.deliver("job-1")  # the sweep, later
    assert port.posted == ["result"] and records.claimed == {"job-1"} and records.renders_marked == ["job-1"]


async def test_a_result_is_posted_once_with_its_sounds_under_it():
    port = StubPort()
    delivery, _ = deliveries(port)
    await delivery.deliver("job-1")
    await delivery.deliver("job-1")
    assert port.posted == ["result", "sources under stub:channel:1"]
