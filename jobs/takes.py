"""Which take of each sound a render version played, kept in its report: a chat adapter compares two versions'
takes to tell which sounds a change made again (a new sound, an edited play method), so their messages can follow."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

TAKES_REPORT_KEY = "sound_takes"  # where a render's report keeps variant id -> the take it played


class _Source(Protocol):
    variant_id: str
    effect_key: str | None
    play_method: str


def takes_of(sources: Iterable[_Source]) -> dict[str, dict[str, str]]:
    """variant id -> the effect file and play method a render plays it with (sounds without an effect are left out)."""
    return {s.variant_id: {"effect": s.effect_key, "play_method": s.play_method} for s in sources if s.effect_key}


def renewed_sounds(report: dict[str, Any] | None, previous: dict[str, Any] | None) -> set[str]:
    """The sounds whose take differs between two versions' reports. Nothing when either report predates takes."""
    now, before = (report or {}).get(TAKES_REPORT_KEY), (previous or {}).get(TAKES_REPORT_KEY)
    if not isinstance(now, dict) or not isinstance(before, dict):
        return set()
    return {variant_id for variant_id, take in now.items() if variant_id in before and before[variant_id] != take}
