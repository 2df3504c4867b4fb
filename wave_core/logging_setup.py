"""Structured logs for workers and bots: every line carries the job id of the work that wrote it.

The job id lives in a context variable. Queue tasks set it when they start; asyncio tasks and ``asyncio.to_thread``
copy the context, so lines written by the pipeline in a worker thread carry the id too. A ``logging.Filter`` puts
it on each record, where the JSON and key=value formatters pick it up.
"""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Iterator, Literal

LogFormat = Literal["text", "json", "kv"]

job_id_var: ContextVar[str | None] = ContextVar("wave_job_id", default=None)

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is worth printing.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "job_id"}


def set_job_id(job_id: str | None) -> None:
    """Tag the log lines of the current task (and the threads it starts) with ``job_id``."""
    job_id_var.set(job_id)


@contextmanager
def bound_job_id(job_id: str | None) -> Iterator[None]:
    """Tag log lines with ``job_id`` inside the block only."""
    token = job_id_var.set(job_id)
    try:
        yield
    finally:
        job_id_var.reset(token)


class JobIdFilter(logging.Filter):
    """Adds ``record.job_id`` from the context, unless the caller passed one with ``extra={"job_id": ...}``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "job_id", None) is None:
            record.job_id = job_id_var.get()
        return True


def _fields(record: logging.LogRecord, formatter: logging.Formatter) -> dict[str, object]:
    fields: dict[str, object] = {
        "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "job_id": getattr(record, "job_id", None),
        "msg": record.getMessage(),
    }
    for key, value in vars(record).items():
        if key not in _STANDARD_ATTRS and not key.startswith("_"):
            fields[key] = value
    if record.exc_info:
        fields["exc"] = formatter.formatException(record.exc_info)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, job_id, msg, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record, self), default=str, ensure_ascii=False)


class KeyValueFormatter(logging.Formatter):
    """``ts=... level=info logger=jobs.tasks job_id=ab12 msg="..."``: easy to read and to grep."""

    def format(self, record: logging.LogRecord) -> str:
        parts = []
        for key, value in _fields(record, self).items():
            if value is None:
                value = "-"
            text = str(value)
            if not text or any(c in text for c in ' "=\n\t'):
                text = json.dumps(text, ensure_ascii=False)
            parts.append(f"{key}={text}")
        return " ".join(parts)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(job_id)s]: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "job_id", None) is None:
            record.job_id = "-"
        return super().format(record)


FORMATTERS: dict[str, type[logging.Formatter]] = {"json": JsonFormatter, "kv": KeyValueFormatter, "text": TextFormatter}


def make_handler(fmt: LogFormat = "text", stream=None) -> logging.Handler:
    if fmt not in FORMATTERS:
        raise ValueError(f"unknown log format {fmt!r}: use text, json or kv")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(FORMATTERS[fmt]())
    # On the handler, not a logger: records from every logger (arq, sqlalchemy, discord) pass through it.
    handler.addFilter(JobIdFilter())
    handler.set_name("wave")
    return handler


def setup_logging(fmt: LogFormat = "text", level: str | int = "INFO", stream=None) -> logging.Handler:
    """Route the root logger to one WAVE handler. Call once at process start (``wave worker``, the bots).

    Replaces an earlier WAVE handler and plain stream handlers (such as ``logging.basicConfig``'s), so no line
    is printed twice; other handlers (files, test capture) stay.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "wave" or type(h) is logging.StreamHandler]:
        root.removeHandler(old)
    handler = make_handler(fmt, stream)
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
    return handler


def setup_logging_from(settings) -> logging.Handler:
    """``setup_logging`` with ``WAVE_LOG_FORMAT`` and ``WAVE_LOG_LEVEL``: what ``wave worker`` and the bots call."""
    return setup_logging(settings.log_format, settings.log_level)
