"""The band's session table: one row per session, read by every stage and adapter that treats sessions apart.

A new session is one :class:`Session` member, one row in :data:`SESSION_TABLE` and its instrument recipe (a voicing in
:mod:`pipeline.instruments.melodic`, or a kit builder); casting scores, sheet words and arrangement patterns that
name it are its recipe too. Everything else that differs per session (range, MIDI channel and program, pan, who it
borrows a sound from, its place in the mix, its chat emoji and picture colour) is read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Session(StrEnum):
    """The four band sessions, in the order WAVE lists them."""

    DRUMS = "drums"
    BASS = "bass"
    GUITAR = "guitar"
    KEYBOARD = "keyboard"


class Role(StrEnum):
    """What a stem does in the mix; the mix's table (:data:`pipeline.mix.roles.ROLE_SOUND`) sets each one's sound."""

    MELODY = "melody"
    ACCOMPANIMENT = "accompaniment"
    BASS = "bass"
    DRUMS = "drums"


@dataclass(frozen=True)
class SessionRow:
    session: Session
    display_name: str
    notes: tuple[int, int]  # the MIDI pitch range it is built for and plays (inclusive); drums: GM kit keys
    midi_channel: int  # 0-based; 9 is the General MIDI drum channel
    program: int  # GM program written in MIDI files when a style names none
    drum_kit: bool  # played as a GM kit (SF2 bank 128) rather than in tune
    pan: float  # in the song files; the mix places each stem by its role
    borrows_from: tuple[Session, ...]  # whose sound it reuses when casting left it empty, in order of preference
    mix_role: Role  # its stem's role (and so its loudness target) unless it carries the melody
    emoji: str  # the chat reaction that moves a sound to it
    slack_emoji: str  # Slack's name for that emoji
    colour: str  # its row in the casting picture
    hint_words: str  # regex of words in a sheet's instrument hint that mean it


# fmt: off
SESSION_TABLE: dict[Session, SessionRow] = {
    Session.DRUMS: SessionRow(
        Session.DRUMS, "Drums", notes=(35, 81), midi_channel=9, program=0, drum_kit=True, pan=0.0,
        borrows_from=(Session.BASS, Session.GUITAR, Session.KEYBOARD), mix_role=Role.DRUMS,
        emoji="🥁", slack_emoji="drum_with_drumsticks", colour="#e4572e",
        hint_words=r"drum|percuss|kit|beat|rhythm|snare|kick|hi-?hat|cymbal|tom",
    ),
    Session.BASS: SessionRow(
        # Bass has no emoji of its own: the violin stands in for the double bass.
        Session.BASS, "Bass", notes=(28, 60), midi_channel=0, program=33, drum_kit=False, pan=0.0,  # E1..C4
        borrows_from=(Session.KEYBOARD, Session.GUITAR, Session.DRUMS), mix_role=Role.BASS,
        emoji="🎻", slack_emoji="violin", colour="#7b2cbf",
        hint_words=r"bass|sub|low[- ]end",
    ),
    Session.GUITAR: SessionRow(
        Session.GUITAR, "Guitar", notes=(40, 84), midi_channel=1, program=25, drum_kit=False, pan=0.0,  # E2..C6
        borrows_from=(Session.KEYBOARD, Session.BASS, Session.DRUMS), mix_role=Role.ACCOMPANIMENT,
        emoji="🎸", slack_emoji="guitar", colour="#f3a712",
        hint_words=r"guitar|string|pluck|harp|banjo|ukulele|lute|mandolin",
    ),
    Session.KEYBOARD: SessionRow(
        Session.KEYBOARD, "Keyboard", notes=(36, 96), midi_channel=2, program=0, drum_kit=False, pan=0.0,  # C2..C7
        borrows_from=(Session.GUITAR, Session.BASS, Session.DRUMS), mix_role=Role.ACCOMPANIMENT,
        emoji="🎹", slack_emoji="musical_keyboard", colour="#29a0b1",
        hint_words=r"key|piano|organ|synth|pad|celesta|marimba|vibraphone|bell|melod",
    ),
}
# fmt: on

if list(SESSION_TABLE) != list(Session) or any(key != row.session for key, row in SESSION_TABLE.items()):
    raise RuntimeError("the session table needs exactly one row per Session, in the enum's order")


def row(session: Session) -> SessionRow:
    return SESSION_TABLE[Session(session)]


def rows() -> tuple[SessionRow, ...]:
    return tuple(SESSION_TABLE.values())


def session_for_emoji(emoji: str) -> Session | None:
    """The session whose reaction this is (a Unicode emoji or its Slack name), or None."""
    return next((r.session for r in rows() if emoji in (r.emoji, r.slack_emoji)), None)


SESSIONS: tuple[Session, ...] = tuple(Session)
MELODIC_SESSIONS: tuple[Session, ...] = tuple(r.session for r in rows() if not r.drum_kit)
SESSION_RANGES: dict[Session, tuple[int, int]] = {r.session: r.notes for r in rows()}
