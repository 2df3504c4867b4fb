"""The small text notation the song library is written in.

Melody: whitespace-separated tokens, ``|`` between bars. A token is a pitch with an optional octave and an
optional duration: ``F#5:1.5``, ``Bb``, ``r:2`` (a rest). Octave and duration are sticky: a token without them
reuses the last ones. Durations are in quarter-note beats and may be fractions (``1/3`` for a triplet eighth).
The first bar may be a pickup (shorter than a bar); the last bar may be short, leaving room for the pickup of
whatever section follows. Every other bar must be exactly one bar long: the check catches typing mistakes in the
library.

Chords: one group of chord symbols per bar, ``|`` between bars, e.g. ``Am F | G:2 C:1``. Chords without a
duration share what is left of the bar equally. Symbols: root, optional ``#``/``b``, a quality from
:data:`CHORD_QUALITIES` and an optional slash bass (``D/F#``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

PITCH_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

CHORD_QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "add9": (0, 4, 7, 14),
    "madd9": (0, 3, 7, 14),
}

_NOTE = re.compile(r"^(?P<name>[A-Ga-g][#b]?|r)(?P<octave>-?\d)?(?::(?P<dur>[\d./]+))?$")
_CHORD = re.compile(r"^(?P<root>[A-G][#b]?)(?P<quality>[a-z0-9]*)(?:/(?P<bass>[A-G][#b]?))?(?::(?P<dur>[\d./]+))?$")


class NotationError(ValueError):
    """A melody or chord line that does not parse or does not fit the meter."""


@dataclass(frozen=True)
class MelodyNote:
    start: Fraction  # beats from the section's first barline; a pickup starts below zero
    duration: Fraction
    pitch: int


@dataclass(frozen=True)
class Melody:
    notes: tuple[MelodyNote, ...]
    pickup: Fraction
    bars: int  # bars after the pickup


@dataclass(frozen=True)
class Chord:
    symbol: str
    root: int  # pitch class
    tones: tuple[int, ...]  # semitones above the root
    bass: int  # pitch class of the lowest note

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple(sorted({(self.root + t) % 12 for t in self.tones}))


@dataclass(frozen=True)
class ChordSpan:
    start: Fraction
    duration: Fraction
    chord: Chord


def pitch_class(name: str) -> int:
    base = PITCH_CLASSES[name[0].upper()]
    if name.endswith("#"):
        base += 1
    elif len(name) > 1 and name.endswith("b"):
        base -= 1
    return base % 12


def _duration(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError) as exc:
        raise NotationError(f"bad duration {text!r}") from exc
    if value <= 0:
        raise NotationError(f"duration must be positive: {text!r}")
    return value


def parse_melody(text: str, bar_beats: Fraction) -> Melody:
    """Parse a melody line and check its bars against ``bar_beats`` (quarter-note beats per bar)."""
    octave, duration = 4, Fraction(1)
    bars: list[list[tuple[int | None, Fraction]]] = []
    for bar_text in text.split("|"):
        tokens = bar_text.split()
        if not tokens:
            continue
        bar: list[tuple[int | None, Fraction]] = []
        for token in tokens:
            match = _NOTE.match(token)
            if match is None:
                raise NotationError(f"bad melody token {token!r}")
            if match["octave"] is not None:
                octave = int(match["octave"])
            if match["dur"] is not None:
                duration = _duration(match["dur"])
            name = match["name"]
            pitch = None if name == "r" else 12 * (octave + 1) + PITCH_CLASSES[name[0].upper()] + (
                1 if name.endswith("#") else -1 if len(name) > 1 else 0
            )
            bar.append((pitch, duration))
        bars.append(bar)
    if not bars:
        raise NotationError("empty melody")

    lengths = [sum((d for _, d in bar), Fraction(0)) for bar in bars]
    pickup = lengths[0] if lengths[0] < bar_beats else Fraction(0)
    body = bars[1:] if pickup else bars
    body_lengths = lengths[1:] if pickup else lengths
    for index, length in enumerate(body_lengths):
        is_last = index == len(body_lengths) - 1
        if length != bar_beats and not (is_last and length < bar_beats):
            raise NotationError(f"bar {index + 1} lasts {length} beats, expected {bar_beats}: {body[index]}")

    notes: list[MelodyNote] = []
    position = -pickup
    for bar in bars:
        for pitch, dur in bar:
            if pitch is not None:
                notes.append(MelodyNote(position, dur, pitch))
            position += dur
    return Melody(tuple(notes), pickup, len(body))


def parse_chord(symbol: str) -> tuple[Chord, Fraction | None]:
    match = _CHORD.match(symbol)
    if match is None or match["quality"] not in CHORD_QUALITIES:
        raise NotationError(f"bad chord symbol {symbol!r}")
    root = pitch_class(match["root"])
    bass = pitch_class(match["bass"]) if match["bass"] else root
    plain = symbol.split(":")[0]
    chord = Chord(plain, root, CHORD_QUALITIES[match["quality"]], bass)
    return chord, _duration(match["dur"]) if match["dur"] else None


def parse_chords(text: str, bar_beats: Fraction) -> list[ChordSpan]:
    """Parse a chord line into spans from the first barline; each bar must add up to ``bar_beats``."""
    spans: list[ChordSpan] = []
    bar_start = Fraction(0)
    for bar_text in text.split("|"):
        symbols = bar_text.split()
        if not symbols:
            continue
        parsed = [parse_chord(s) for s in symbols]
        fixed = sum((d for _, d in parsed if d is not None), Fraction(0))
        free = [c for c, d in parsed if d is None]
        share = (bar_beats - fixed) / len(free) if free else Fraction(0)
        if fixed > bar_beats or (not free and fixed != bar_beats) or (free and share <= 0):
            raise NotationError(f"chord bar {bar_text.strip()!r} does not fill {bar_beats} beats")
        position = bar_start
        for chord, duration in parsed:
            length = duration if duration is not None else share
            spans.append(ChordSpan(position, length, chord))
            position += length
        bar_start += bar_beats
    if not spans:
        raise NotationError("empty chord line")
    return spans
