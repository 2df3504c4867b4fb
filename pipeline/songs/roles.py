"""Which band session plays each track of an uploaded MIDI file.

Channel 10 is the drum kit. Otherwise the General MIDI program decides where it is clear (basses, guitars,
pianos, organs, pads, leads...). Programs that span registers (strings, brass, reeds) go by pitch range, and
tracks without a usable program (none set, or program 0 on every track, as many exporters write) go by pitch
range and how chordal they are: the low single line is the bass, chordal tracks are keyboard, and one single
line becomes the guitar when nothing else claims it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from pipeline import session_table
from pipeline.songs.midi_read import ChannelTrack
from pipeline.types import Note, Part, Session

CHORD_WINDOW_S = 0.03  # notes starting this close together sound as one chord
LOW_MEDIAN = 48  # C3: a line centred below this is a bass line
CHORDAL_RATIO = 0.4
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# (first program, last program, session or None to decide by range, description)
GM_PROGRAMS: tuple[tuple[int, int, Session | None, str], ...] = (
    (0, 7, Session.KEYBOARD, "piano"),
    (8, 15, Session.KEYBOARD, "chromatic percussion"),
    (16, 23, Session.KEYBOARD, "organ"),
    (24, 31, Session.GUITAR, "guitar"),
    (32, 39, Session.BASS, "bass"),
    (40, 44, None, "strings"),
    (45, 46, Session.GUITAR, "plucked strings"),
    (47, 47, None, "timpani"),
    (48, 55, Session.KEYBOARD, "ensemble"),
    (56, 63, None, "brass"),
    (64, 71, None, "reed"),
    (72, 79, Session.KEYBOARD, "pipe lead"),
    (80, 86, Session.KEYBOARD, "synth lead"),
    (87, 87, None, "synth bass and lead"),
    (88, 95, Session.KEYBOARD, "synth pad"),
    (96, 103, Session.KEYBOARD, "synth effects"),
    (104, 107, Session.GUITAR, "plucked folk strings"),
    (108, 111, Session.KEYBOARD, "folk lead"),
    (112, 112, Session.KEYBOARD, "bells"),
    (113, 113, Session.DRUMS, "percussion"),
    (114, 114, Session.KEYBOARD, "steel drums"),
    (115, 119, Session.DRUMS, "percussion"),
    (120, 127, Session.KEYBOARD, "sound effects"),
)


@dataclass(frozen=True)
class TrackShape:
    median_pitch: float
    low: int
    high: int
    chord_ratio: float  # share of notes that start together with another note

    @property
    def is_low_line(self) -> bool:
        return self.median_pitch < LOW_MEDIAN and self.chord_ratio < CHORDAL_RATIO

    @property
    def is_chordal(self) -> bool:
        return self.chord_ratio >= CHORDAL_RATIO


@dataclass(frozen=True)
class Role:
    session: Session
    reason: str


def pitch_name(pitch: float) -> str:
    pitch = round(pitch)
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def shape(track: ChannelTrack) -> TrackShape:
    return shape_of(track.notes)


def shape_of(notes: list[Note]) -> TrackShape:
    pitches = [n.pitch for n in notes]
    starts = sorted(n.start for n in notes)
    together = sum(
        1 for i, t in enumerate(starts)
        if (i > 0 and t - starts[i - 1] < CHORD_WINDOW_S) or (i + 1 < len(starts) and starts[i + 1] - t < CHORD_WINDOW_S)
    )
    return TrackShape(statistics.median(pitches), min(pitches), max(pitches), together / len(starts))


def gm_family(program: int) -> tuple[Session | None, str]:
    for first, last, session, description in GM_PROGRAMS:
        if first <= program <= last:
            return session, description
    raise ValueError(f"program {program} outside 0-127")


def _label(track: ChannelTrack) -> str:
    program = "no program" if track.program is None else f"program {track.program}"
    return f"track '{track.name}' {program}"


def infer_roles(tracks: list[ChannelTrack]) -> list[Role]:
    """One role per track, in order, each with a one-line human reason."""
    shapes = [shape(t) for t in tracks]
    melodic = [i for i, t in enumerate(tracks) if not t.is_drum_channel]
    programs_unset = len(melodic) >= 2 and all(tracks[i].program in (None, 0) for i in melodic)
    roles: dict[int, Role] = {}
    unclear: list[int] = []
    for index, track in enumerate(tracks):
        label, form = _label(track), shapes[index]
        if track.is_drum_channel:
            roles[index] = Role(Session.DRUMS, f"{label} -> drums (channel 10 is the drum kit)")
        elif track.program is None or programs_unset:
            unclear.append(index)
        else:
            session, family = gm_family(track.program)
            if session is None:
                session = Session.BASS if form.is_low_line else Session.KEYBOARD
                family = f"{family}, {'low line' if session == Session.BASS else 'upper register'} "
                family += f"around {pitch_name(form.median_pitch)}"
            roles[index] = Role(session, f"{label} -> {session.value} ({family})")
    roles.update(_by_shape(tracks, shapes, unclear, {r.session for r in roles.values()}, programs_unset))
    return [roles[i] for i in range(len(tracks))]


def _by_shape(tracks: list[ChannelTrack], shapes: list[TrackShape], unclear: list[int], taken: set[Session],
              programs_unset: bool) -> dict[int, Role]:
    why = "program 0 on every track, so by range" if programs_unset else "no program, so by range"
    roles: dict[int, Role] = {}

    def give(index: int, session: Session, detail: str) -> None:
        form = shapes[index]
        roles[index] = Role(session, f"{_label(tracks[index])} -> {session.value} ({why}: {detail}, "
                                     f"{pitch_name(form.low)}-{pitch_name(form.high)})")
        taken.add(session)

    by_height = sorted(unclear, key=lambda i: shapes[i].median_pitch)
    for index in by_height:
        if shapes[index].is_low_line:
            give(index, Session.BASS, "low single line")
    left = [i for i in by_height if i not in roles]
    if Session.BASS not in taken and len(left) >= 2:
        lowest, nxt = left[0], left[1]
        form = shapes[lowest]
        if not form.is_chordal and form.median_pitch < 55 and shapes[nxt].median_pitch - form.median_pitch >= 7:
            give(lowest, Session.BASS, "lowest single line")
    for index in [i for i in left if i not in roles]:
        if shapes[index].is_chordal:
            give(index, Session.KEYBOARD, "chordal")
    lines = [i for i in left if i not in roles]
    if Session.GUITAR not in taken:
        fitting = [i for i in lines if shapes[i].low >= 40 and shapes[i].high <= 84]
        if fitting and (len(lines) >= 2 or Session.KEYBOARD in taken):
            guitar = min(fitting, key=lambda i: abs(shapes[i].median_pitch - 62))
            give(guitar, Session.GUITAR, "single line in the guitar range")
    for index in [i for i in lines if i not in roles]:
        give(index, Session.KEYBOARD, "melody line")
    return roles


def melody_session(parts: list[Part]) -> Session | None:
    """The session whose part carries the tune: the highest single line among the melodic parts.

    Bass and drum parts never lead. A part counts as a line when few of its notes start together; among the lines,
    the one sitting highest wins, and a part that plays few notes (under a fifth of the busiest) is passed over.
    """
    candidates = [p for p in parts if p.notes and not p.is_drum and session_table.row(p.session).mix_role == session_table.Role.ACCOMPANIMENT]
    if not candidates:
        return None
    busiest = max(len(p.notes) for p in candidates)
    shapes = {id(p): shape_of(p.notes) for p in candidates}
    lines = [p for p in candidates if not shapes[id(p)].is_chordal and len(p.notes) >= busiest / 5] or candidates
    lead = max(lines, key=lambda p: (not shapes[id(p)].is_chordal, shapes[id(p)].median_pitch, len(p.notes)))
    return lead.session
