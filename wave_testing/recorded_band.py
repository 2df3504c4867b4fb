"""One band of real recorded sounds (Debian's sonic-pi-samples) and a short song, for the tests of what a remap
rebuilds: the instrument cache, the stem cache and the instruments built ahead."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.types import EffectInput, Session
from wave_testing.jobs_helpers import short_song_midi

BAND = {"drums": "bd_haus", "bass": "perc_door", "guitar": "ambi_glass_rub", "keyboard": "ambi_swoosh"}


def band_effects(sample: Callable[[str], Path]) -> list[EffectInput]:
    """The band's four sounds, in BAND's order; ``sample`` finds a recorded sound by name (the tests' fixture)."""
    return [EffectInput(id=name.replace("_", "-"), path=sample(name), name=name) for name in BAND.values()]


def short_song(folder: Path) -> str:
    """A 4 s MIDI song written into ``folder``; its path."""
    path = Path(folder) / "song.mid"
    path.write_bytes(short_song_midi(seconds=4.0))
    return str(path)


def casting(effects: list[EffectInput]) -> dict[Session, str]:
    """Each of ``band_effects`` in the part BAND names for it."""
    return {Session(session): effect.id for session, effect in zip(BAND, effects)}


def swapped(assignment: dict[Session, str], a: Session, b: Session) -> dict[Session, str]:
    moved = dict(assignment)
    moved[a], moved[b] = assignment[b], assignment[a]
    return moved
