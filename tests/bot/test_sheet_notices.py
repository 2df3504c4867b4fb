"""What the sound sheet says of its own reading (low confidence, notices) reaches the result reply on both
platforms, escaped so that it shows as written."""

from __future__ import annotations

import json
import re
import uuid

from sqlalchemy import update

from bot.discord import texts as discord_texts
from bot.slack import texts as slack_texts
from db.models import Job, JobStatus, RenderCasting
from jobs.client import JobResult, JobsClient, RenderResult, SubmitRequest
from jobs.runtime import Runtime
from wave_core.settings import Settings
from wave_testing.jobs_helpers import picture_bytes
from wave_testing.services import REDIS_TEST_URL

HOSTILE = "It looked like *a kitchen* <@U123> @everyone & <!channel> `code`."


def result(**sheet) -> JobResult:
    render = RenderResult(version=1, status="done", casting=RenderCasting(), report={"song": {"title": "Row"}})
    return JobResult(job_id="j1", status=JobStatus.DONE, message="", song="row_your_boat", scene="a kitchen",
                     renders=[render], owner="U0ME", platform="slack", **sheet)


def test_a_sure_reading_says_nothing_more():
    plain = result()
    assert "🤔" not in slack_texts.result_text(plain)
    assert "🤔" not in discord_texts.result_text(plain, plain.latest, mention_owner=False, too_large=[])


def test_notices_are_shown_escaped_on_slack():
    text = slack_texts.result_text(result(low_confidence=True, notices=[HOSTILE]))
    line = next(line for line in text.splitlines() if line.startswith("🤔"))
    assert "<@U123>" not in line and "<!channel>" not in line and "&lt;@U123&gt;" in line
    assert "&amp;" in line and "a kitchen" in line


def test_notices_are_shown_escaped_on_discord():
    shown = result(low_confidence=True, notices=[HOSTILE])
    text = discord_texts.result_text(shown, shown.latest, mention_owner=False, too_large=[])
    line = next(line for line in text.splitlines() if line.startswith("🤔"))
    assert r"\*a kitchen\*" in line and r"\`code\`" in line
    assert "@everyone" not in line and r"\<@U123>" in line and not re.search(r"(?<!\\)<[@!]", line)


def test_low_confidence_without_a_notice_still_says_so():
    text = slack_texts.result_text(result(low_confidence=True))
    assert "not sure" in text


def test_long_notices_are_cut_at_a_word():
    text = slack_texts.result_text(result(notices=["word " * 200]))
    line = next(line for line in text.splitlines() if line.startswith("🤔"))
    assert len(line) < 320 and line.endswith("…")


async def test_the_jobs_api_reads_them_from_the_sheet(tmp_path):
    settings = Settings(profile="lite", database_url=f"sqlite+aiosqlite:///{tmp_path}/wave.db",
                        redis_url=REDIS_TEST_URL, queue_prefix=f"wavetest-notice-{uuid.uuid4().hex[:8]}",
                        data_dir=tmp_path / "data", artifacts_dir=tmp_path / "artifacts")
    runtime = await Runtime.open(settings)
    try:
        jobs = JobsClient(runtime)
        job_id = await jobs.submit(SubmitRequest(image=picture_bytes(seed=2), song="row_your_boat"))
        key = runtime.store.put_bytes(json.dumps({"scene_description": "a desk", "low_confidence": True,
                                                  "notices": ["Unsure.", 7]}).encode(), ".json")
        async with runtime.db() as session:
            await session.execute(update(Job).where(Job.id == job_id).values(sheet_key=key))
            await session.commit()
        read = await jobs.result(job_id)
        assert (read.scene, read.low_confidence, read.notices) == ("a desk", True, ["Unsure."])
    finally:
        keys = [k async for k in runtime.redis.scan_iter(match=f"{settings.queue_prefix}*")]
        if keys:
            await runtime.redis.delete(*keys)
        await runtime.close()
