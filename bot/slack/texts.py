"""Slack wording of results, sounds, remaps and the gallery (mrkdwn)."""

from __future__ import annotations

from bot.common import (
    SESSION_SLACK_EMOJI,
    SLACK_STAR,
    cast_summary,
    describe_change,
    previous_render,
    sheet_notice,
)
from bot.records import RecentJob, TopEntry
from jobs.client import JobResult, RenderResult, SourceResult
from pipeline.songs import list_songs
from pipeline.types import SESSIONS

REACT_HINT = "React on a sound with " + " ".join(
    f":{SESSION_SLACK_EMOJI[s]}: {s.value}" for s in SESSIONS) + " to move it there."


def mrkdwn(text: str) -> str:
    """Slack bolds with single asterisks."""
    return text.replace("**", "*")


def escape(text: str) -> str:
    """Text shown as written: Slack reads only &, < and > as markup in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def song_title(render: RenderResult | None) -> str:
    song = ((render.report if render else None) or {}).get("song") or {}
    return song.get("title") or "your mix"


def result_text(result: JobResult) -> str:
    latest = result.latest
    lines = [f"✅ <@{result.owner}>, your picture is playing *{song_title(latest)}*."]
    if result.scene:
        lines.append(f"_{result.scene}_")
    if notice := sheet_notice(result.low_confidence, result.notices):
        lines.append(escape(notice))
    summary = cast_summary(latest.report if latest else None)
    if summary:
        lines.append(mrkdwn(summary))
    lines.append(f"The mix, the sound sheet and the casting are in the thread. {REACT_HINT} "
                 f":{SLACK_STAR}: here shares the mix to the gallery.")
    return "\n".join(lines)


def source_text(index: int, source: SourceResult, effect_link: str | None = None, *,
                new_take_in: int | None = None) -> str:
    """A sound's message; ``new_take_in`` is the version that made the sound again (the link is to the new one)."""
    details = ", ".join(part for part in (source.material, source.play_method) if part)
    line = f"*{index}. {source.name}*" + (f" — {details}" if details else "")
    if source.timbre:
        line += f" · _{', '.join(source.timbre)}_"
    if new_take_in is not None:
        line += f" · 🎲 new take (version {new_take_in})"
    # The session it plays is left to the casting summaries: a remap would make it stale here.
    return line + (f"\n<{effect_link}|Hear the sound>" if effect_link else "")


def new_takes_comment(version: int) -> str:
    return f"🎲 The new takes of version {version}; their messages above link them now."


def change_text(result: JobResult, change: str | None) -> str:
    return describe_change(change, {s.variant_id: s.name for s in result.sources})


def remap_started_text(result: JobResult, change: str | None) -> str:
    return f"🔁 Playing it again: {change_text(result, change)}…"


def remap_done_text(result: JobResult, render: RenderResult) -> str:
    before = previous_render(result.renders, render.version)
    summary = mrkdwn(cast_summary(render.report, before.report if before and before.report else {}))
    return f"🔁 Version {render.version}: {change_text(result, render.change)}\n{summary}".rstrip()


def gallery_post_text(title: str, owner: str) -> str:
    return f"🎵 *{title}* by <@{owner}>. :{SLACK_STAR}: to vote."


def top_text(entries: list[TopEntry], permalinks: dict[int, str] | None = None) -> str:
    if not entries:
        return "The gallery is empty so far: :star: your result to share it."
    lines = ["*Top mixes here*"]
    for rank, entry in enumerate(entries, start=1):
        title = entry.title or "untitled"
        link = (permalinks or {}).get(entry.entry_id)
        title = f"<{link}|{title}>" if link else title
        votes = f"{entry.votes} vote{'s' if entry.votes != 1 else ''}"
        lines.append(f"{rank}. {title} by <@{entry.shared_by}> · {votes}")
    return "\n".join(lines)


HOME_STATUS = {"done": "ready", "failed": "could not be made", "cancelled": "cancelled"}


def home_view(help_text: str, recent: list[RecentJob], permalinks: dict[str, str]) -> dict:
    """The App Home tab: how WAVE works and the person's latest mixes (linked to their threads)."""
    lines = []
    for job in recent:
        title = next((s.title for s in list_songs() if s.id == job.song), job.song.replace("_", " "))
        link = permalinks.get(job.job_id)
        lines.append(f"• {f'<{link}|{title}>' if link else title} — {HOME_STATUS.get(job.status, 'in the making')}")
    mixes = "\n".join(lines) or "No mixes yet: try `/wave` in a channel, or mention @WAVE with a photo."
    return {"type": "home", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "WAVE"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn(help_text)[:3000]}},
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Your latest mixes*\n{mixes}"[:3000]}},
    ]}
