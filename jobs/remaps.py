"""A render version's casting: what it played, and the casting a person's moves ask of the next version."""

from __future__ import annotations

from typing import Any

from db.models import Render, RenderCasting
from pipeline.digests import fields_digest
from pipeline.types import Session


def played_sessions(report: dict[str, Any]) -> dict[Session, str]:
    """session -> effect id actually cast (not borrowed) in a render's report."""
    return {
        Session(part): entry["effect"]
        for part, entry in (report.get("sessions") or {}).items()
        if entry.get("effect") and not entry.get("fallback")
    }


def next_casting(base: Render, moves: list[tuple[str, Session]]) -> tuple[RenderCasting, str]:
    """The casting of the version after ``base`` once ``moves`` (effect id, session) are applied in order, and the
    change in words. Every session of the result is pinned; sessions a move left empty are cast afresh."""
    from pipeline.sessions.casting import (
        move,  # casting's audio analysis is not needed, or loaded, before a remap
    )

    assignment = dict(base.casting.assignment)
    if not assignment and base.report:
        assignment = played_sessions(base.report)
    changes = []
    for variant_id, target in moves:
        assignment, change = move(assignment, variant_id, target)
        changes.append(change)
    return RenderCasting(assignment=assignment, overrides=assignment, song=base.casting.song), "; ".join(changes)[:300]


def casting_hash(casting: RenderCasting) -> str:
    assignment = casting.model_dump(mode="json")["assignment"]
    return fields_digest(assignment)
