"""A player's feel: every note leaves the grid by a few milliseconds, by the role it plays, the same way per seed.

The kick and snare hold the time, the bass sits a hair behind them, comping and the tune breathe a little more.
No onset moves further than ``MAX_OFFSET_MS``; a note keeps its length.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.songs.arrange import Arrangement

MAX_OFFSET_MS = 5.0
TICKS = 480  # offsets snap to the library files' resolution
# role -> (mean offset ms, spread ms): positive is late
FEEL_MS: dict[str, tuple[float, float]] = {
    "kick": (0.0, 1.0),
    "snare": (0.5, 1.5),
    "drum": (0.0, 2.5),
    "cymbal": (0.0, 1.5),
    "bass": (2.0, 1.5),
    "comp": (1.0, 3.0),
    "melody": (0.0, 3.0),
    "harmony": (1.5, 3.0),
}


def _bpm_at(changes: list[tuple[Fraction, float]], beat: Fraction) -> float:
    bpm = changes[0][1]
    for at, value in changes:
        if at > beat:
            break
        bpm = value
    return bpm


def offset_beats(role: str, bpm: float, rng: random.Random) -> Fraction:
    mean, spread = FEEL_MS.get(role, (0.0, 2.0))
    ms = max(-MAX_OFFSET_MS, min(MAX_OFFSET_MS, rng.gauss(mean, spread)))
    return Fraction(round(ms / 1000.0 * bpm / 60.0 * TICKS), TICKS)


def humanise(arrangement: Arrangement, rng: random.Random) -> None:
    """Move every note's start (and end) by its role's feel; the first beat of the song stays where it is."""
    for part in arrangement.parts.values():
        for note in part.notes:
            shift = offset_beats(note.role, _bpm_at(arrangement.tempo_changes, note.start), rng)
            note.start = max(Fraction(0), note.start + shift)
        part.notes.sort(key=lambda n: (n.start, n.pitch))
