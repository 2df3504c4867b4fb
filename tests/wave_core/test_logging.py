"""Structured logs: the job id set by a task reaches every line, in threads too, in JSON and key=value form."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest

from wave_core.logging_setup import bound_job_id, make_handler, set_job_id, setup_logging


@pytest.fixture
def capture():
    """A logger routed through WAVE's handler into a buffer; returns (logger, buffer, set_format)."""
    buffer = io.StringIO()
    logger = logging.getLogger("wave.test.logging")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)

    def use(fmt: str) -> None:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.addHandler(make_handler(fmt, buffer))

    use("json")
    yield logger, buffer, use
    for handler in list(logger.handlers):
        logger.removeHandler(handler)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


async def test_job_id_follows_each_task_and_its_threads(capture):
    logger, buffer, _ = capture

    async def task(job_id: str) -> None:
        set_job_id(job_id)
        logger.info("started")
        await asyncio.sleep(0.01)  # the two tasks interleave here
        await asyncio.to_thread(logger.info, "in a worker thread")

    await asyncio.gather(task("job-a"), task("job-b"))
    logger.info("outside any job")
    records = lines(buffer)
    assert len(records) == 5
    by_job: dict[str | None, list[str]] = {}
    for record in records:
        by_job.setdefault(record["job_id"], []).append(record["msg"])
    assert by_job["job-a"] == ["started", "in a worker thread"]
    assert by_job["job-b"] == ["started", "in a worker thread"]
    assert by_job[None] == ["outside any job"]
    assert {"ts", "level", "logger"} <= set(records[0]) and records[0]["level"] == "info"


def test_explicit_job_id_and_extra_fields_win_and_exceptions_are_kept(capture):
    logger, buffer, _ = capture
    with bound_job_id("ctx-job"):
        logging.LoggerAdapter(logger, {"job_id": "adapter-job"}).warning("retrying")
        logger.info("tried", extra={"try_no": 2})
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    logger.info("after the block")
    adapter, extra, failed, after = lines(buffer)
    assert adapter["job_id"] == "adapter-job" and adapter["level"] == "warning"
    assert extra["job_id"] == "ctx-job" and extra["try_no"] == 2
    assert failed["job_id"] == "ctx-job" and "ValueError: boom" in failed["exc"]
    assert after["job_id"] is None


def test_key_value_lines_quote_what_needs_quoting(capture):
    logger, buffer, use = capture
    use("kv")
    with bound_job_id("abc123"):
        logger.info('made "rain" sound')
    line = buffer.getvalue().strip()
    assert "job_id=abc123" in line and "level=info" in line and "logger=wave.test.logging" in line
    assert line.endswith('msg="made \\"rain\\" sound"')


def test_setup_replaces_plain_handlers_and_keeps_others():
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    plain = logging.StreamHandler(io.StringIO())
    kept = logging.FileHandler("/dev/null")
    root.addHandler(plain)
    root.addHandler(kept)
    try:
        buffer = io.StringIO()
        setup_logging("kv", "debug", stream=buffer)
        setup_logging("json", "info", stream=buffer)  # a second call replaces the first handler
        wave_handlers = [h for h in root.handlers if h.get_name() == "wave"]
        assert len(wave_handlers) == 1 and plain not in root.handlers and kept in root.handlers
        assert root.level == logging.INFO
        with bound_job_id("j1"):
            logging.getLogger("arq.worker").info("job started")
        assert json.loads(buffer.getvalue().splitlines()[-1])["job_id"] == "j1"
        with pytest.raises(ValueError, match="unknown log format"):
            make_handler("xml")  # type: ignore[arg-type]
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        kept.close()


def test_settings_pick_format_and_level(monkeypatch):
    from wave_core.logging_setup import setup_logging_from
    from wave_core.settings import Settings

    monkeypatch.setenv("WAVE_LOG_FORMAT", "kv")
    monkeypatch.setenv("WAVE_LOG_LEVEL", "warning")
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        handler = setup_logging_from(Settings())
        assert type(handler.formatter).__name__ == "KeyValueFormatter" and root.level == logging.WARNING
    finally:
        root.removeHandler(handler)
        for h in saved_handlers:
            if h not in root.handlers:
                root.addHandler(h)
        root.setLevel(saved_level)
