"""What /wave-me and /wave-show say, on any platform (bold is ``**`` on Discord and ``*`` on Slack)."""

from __future__ import annotations

from bot.common import STAGE_TEXT, progress_bar
from db.models import JobStatus
from jobs.usage import JobLine, Usage


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def job_label(job: JobLine) -> str:
    """How a job is named in a list or an autocomplete choice: song, day and the start of its id."""
    return f"{job.song} · {job.created_at:%Y-%m-%d %H:%M} UTC · {job.job_id[:8]}"


def usage_text(usage: Usage, bold: str = "**") -> str:
    lines = [f"{bold}Your WAVE{bold}",
             f"• this hour: {usage.made_this_hour} of {usage.per_hour} mixes"
             + (f" (the next one in {_minutes(usage.next_slot_in_s)})" if usage.next_slot_in_s else ""),
             f"• at once: {len(usage.running)} of {usage.at_once} in the making",
             f"• in all: {usage.made_in_all} mix{'es' if usage.made_in_all != 1 else ''}"]
    for job in usage.running:
        status = JobStatus(job.status)
        lines.append(f"  – {job.song}: {STAGE_TEXT[status]}… {progress_bar(job.progress)} {job.progress * 100:.0f}% "
                     f"(`{job.job_id}`)")
    return "\n".join(lines)
