"""What the Discord messages say (built from the platform-neutral pieces in bot.common)."""

from __future__ import annotations

import discord

from bot.common import SESSION_EMOJI, STAR, cast_summary, describe_change, previous_render, sheet_notice
from jobs.client import JobResult, RenderResult, SourceResult
from pipeline.types import Session


def mention(user_id: str | int) -> str:
    return f"<@{user_id}>"


def channel_mention(channel_id: str | int) -> str:
    return f"<#{channel_id}>"


def result_text(result: JobResult, render: RenderResult, *, mention_owner: bool, too_large: list[str],
                private: bool = False) -> str:
    lines = [f"🎧 **{mention(result.owner)}, your mix is ready!**" if mention_owner else "🎧 **Your mix is ready!**"]
    if result.scene:
        lines.append(f"> {result.scene}")
    if notice := sheet_notice(result.low_confidence, result.notices):
        lines.append(escape(notice))
    summary = cast_summary(render.report)
    if summary:
        lines.append(summary)
    for name in too_large:
        lines.append(f"({name} is over Discord's 10 MiB limit, so it is not attached.)")
    if private:  # no thread, no reactions and no gallery for a private result
        lines.append("Each sound follows below, only for you: pick a part under one to move it there.")
    else:
        emoji = " ".join(SESSION_EMOJI.values())
        lines.append(f"React {STAR} to share it to the gallery. Each sound is in the thread: react {emoji} on one "
                     "to move it to that part.")
    return "\n".join(lines)


def escape(text: str) -> str:
    """Text shown as written: no markdown, no mentions (a backslash before "<" shows <@id> as typed)."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text)).replace("<", "\\<")


def source_text(source: SourceResult, *, new_take_in: int | None = None, too_large: bool = False) -> str:
    """A sound's message; ``new_take_in`` is the version that made the sound again (its file is the new one)."""
    detail = ", ".join(x for x in (source.material, source.play_method) if x)
    timbre = f" ({', '.join(source.timbre)})" if source.timbre else ""
    if source.session:
        role = f"plays {SESSION_EMOJI[Session(source.session)]} **{source.session}**"
    else:
        role = "waits on the bench"
    text = f"🔊 **{source.name}** — {detail}{timbre} · {role}"
    if new_take_in is not None:
        text += f" · 🎲 new take (version {new_take_in})"
    if too_large:
        text += "\n(The sound is over Discord's 10 MiB limit, so it is not attached.)"
    return text


def remap_text(result: JobResult, render: RenderResult, *, too_large: list[str]) -> str:
    change = describe_change(render.change, {s.variant_id: s.name for s in result.sources})
    lines = [f"🔁 **New mix (version {render.version})**: {change}"]
    before = previous_render(result.renders, render.version)
    summary = cast_summary(render.report, before.report if before and before.report else {})
    if summary:
        lines.append(summary)
    for name in too_large:
        lines.append(f"({name} is over Discord's 10 MiB limit, so it is not attached.)")
    lines.append(f"React {STAR} to share this version to the gallery.")
    return "\n".join(lines)


def thread_name(result: JobResult) -> str:
    scene = (result.scene or "your picture").strip().rstrip(".")
    return f"WAVE · {scene}"[:100]
