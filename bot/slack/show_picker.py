"""``/wave show`` with no job: Slack's slash commands cannot autocomplete, so the person's latest mixes come as a
private select; picking one brings it back with its controls, as ``/wave show <job>`` does."""

from __future__ import annotations

from bot.usage_texts import job_label
from jobs.usage import JobLine

SHOW_ACTION = "wave_show"
MAX_OPTION_CHARS = 75  # Slack's limit on an option's text
PICKER_TEXT = "*Your latest mixes*: pick one to bring it back with its controls (or `/wave show <id>`)."
NO_MIXES = "You have no finished mixes yet."


def show_picker_blocks(jobs: list[JobLine]) -> list[dict]:
    options = [{"text": {"type": "plain_text", "text": job_label(job)[:MAX_OPTION_CHARS]}, "value": job.job_id}
               for job in jobs]
    return [{"type": "section", "block_id": SHOW_ACTION, "text": {"type": "mrkdwn", "text": PICKER_TEXT},
             "accessory": {"type": "static_select", "action_id": SHOW_ACTION, "options": options,
                           "placeholder": {"type": "plain_text", "text": "One of your mixes"}}}]


def show_picker_text(jobs: list[JobLine]) -> str:
    """The same list as plain text, for notifications and clients without blocks."""
    return PICKER_TEXT + "\n" + "\n".join(f"• `{job.job_id}` {job_label(job)}" for job in jobs)
