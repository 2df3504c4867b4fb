"""Which sound messages a new version makes stale, for every platform's thread: a sound that now plays another part
(a remap), and a sound that was made again (🎲 a new sound, ✏️ an edited sheet), whose message needs the new file."""

from __future__ import annotations

from dataclasses import dataclass

from bot.common import previous_render, roles
from jobs.client import JobResult, RenderResult, SourceResult
from jobs.takes import renewed_sounds


@dataclass(frozen=True)
class SoundUpdate:
    source: SourceResult  # as it is in the new version, with the part it plays there
    number: int  # its place among the job's sounds, from 1
    renewed: bool  # the sound itself was made again: its message must carry the new file


def sound_updates(result: JobResult, render: RenderResult) -> dict[str, SoundUpdate]:
    """variant id -> what its message must show now, for the sounds ``render`` changed against the version before."""
    before = previous_render(result.renders, render.version)
    previous_report = before.report if before else None
    now, then = roles(render.report), roles(previous_report)
    renewed = renewed_sounds(render.report, previous_report)
    updates = {}
    for number, source in enumerate(result.sources, start=1):
        variant_id = source.variant_id
        if now.get(variant_id) == then.get(variant_id) and variant_id not in renewed:
            continue
        role = now.get(variant_id)
        shown = source.model_copy(update={"session": role.value if role else None})
        updates[variant_id] = SoundUpdate(shown, number, variant_id in renewed)
    return updates
