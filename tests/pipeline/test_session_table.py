"""The session table is the one place that says how sessions differ: every per-session value elsewhere follows it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.common import EMOJI_SESSION, SESSION_EMOJI, SESSION_SLACK_EMOJI, SLACK_EMOJI_SESSION
from pipeline import session_table
from pipeline.mix.roles import Role, stem_roles
from pipeline.play import _plan_sessions
from pipeline.session_table import SESSION_TABLE, Session, row, rows, session_for_emoji
from pipeline.sheet import normalise_session
from pipeline.songs.arrange import arrange
from pipeline.songs.catalog import SPECS
from pipeline.songs.roles import melody_session
from pipeline.songs.styles import STYLES
from pipeline.types import (
    MELODIC_SESSIONS,
    SESSION_RANGES,
    SESSIONS,
    CastChoice,
    Casting,
    EffectInput,
    Note,
    Part,
)


def test_the_table_has_one_row_per_session_in_the_enums_order() -> None:
    assert [r.session for r in rows()] == list(Session) == list(SESSIONS)
    assert len({r.emoji for r in rows()}) == len({r.slack_emoji for r in rows()}) == len({r.colour for r in rows()})
    assert len({r.emoji for r in rows()}) == len(SESSIONS)
    for r in rows():
        assert r.session not in r.borrows_from and set(r.borrows_from) <= set(Session)


def test_the_shared_maps_are_the_tables_columns() -> None:
    assert SESSION_RANGES == {r.session: r.notes for r in rows()}
    assert MELODIC_SESSIONS == tuple(r.session for r in rows() if not r.drum_kit)
    assert SESSION_EMOJI == {r.session: r.emoji for r in rows()}
    assert SESSION_SLACK_EMOJI == {r.session: r.slack_emoji for r in rows()}
    assert {EMOJI_SESSION[r.emoji] for r in rows()} == {SLACK_EMOJI_SESSION[r.slack_emoji] for r in rows()} == set(Session)


def test_an_arrangement_writes_each_part_on_its_rows_channel_pan_and_program() -> None:
    spec = next(iter(SPECS.values()))
    arrangement = arrange(spec, seed=1)
    style_programs = {Session.GUITAR: STYLES[spec.style].guitar_program,
                      Session.KEYBOARD: STYLES[spec.style].keyboard_program}
    for session, part in arrangement.parts.items():
        assert (part.channel, part.pan) == (row(session).midi_channel, row(session).pan)
        assert part.program == style_programs.get(session, row(session).program)


def _plan_empty_guitar():
    """The play plan for a song with a guitar part when only drums ('kick') and keyboard ('low') were cast."""
    effects = {i: EffectInput(id=i, path=Path(f"{i}.wav")) for i in ("kick", "low")}
    casting = Casting(choices={
        Session.DRUMS: CastChoice(session=Session.DRUMS, effect_id="kick", reason="hits"),
        Session.KEYBOARD: CastChoice(session=Session.KEYBOARD, effect_id="low", reason="held"),
    })
    return _plan_sessions(casting, effects, {Session.GUITAR}, notes=[])


@pytest.fixture
def changed_table(monkeypatch: pytest.MonkeyPatch) -> dict[Session, session_table.SessionRow]:
    """The table with guitar turned into a second bass-like part: other role, emoji, borrow order, hint words."""
    table = dict(SESSION_TABLE)
    table[Session.GUITAR] = dataclasses.replace(
        table[Session.GUITAR], mix_role=Role.BASS, emoji="🪕", slack_emoji="banjo",
        borrows_from=(Session.DRUMS, Session.BASS, Session.KEYBOARD), hint_words=r"banjo|twang",
    )
    monkeypatch.setattr(session_table, "SESSION_TABLE", table)
    return table


def test_the_stages_read_the_table_when_they_run(changed_table) -> None:
    # mix placement: the guitar's stem takes the role its row gives it
    assert stem_roles(SESSIONS, melody=Session.KEYBOARD)[Session.GUITAR] == Role.BASS
    assert stem_roles(SESSIONS, melody=Session.GUITAR)[Session.GUITAR] == Role.MELODY
    # chat reactions
    assert session_for_emoji("🪕") == session_for_emoji("banjo") == Session.GUITAR
    assert session_for_emoji("🎸") is None
    # sheet hints
    assert normalise_session("twangy thing") == Session.GUITAR
    assert normalise_session("guitar") is None
    # a part no longer accompanying is not a melody candidate
    notes = [Note(start=0, end=1, pitch=70, velocity=90)]
    assert melody_session([Part(session=Session.GUITAR, notes=notes)]) is None
    # casting fallback: an empty guitar borrows by its row's order
    plan, reports = _plan_empty_guitar()
    assert plan[Session.GUITAR] == "kick"
    assert "the drums sound" in (reports[Session.GUITAR].fallback or "")


def test_without_the_change_the_same_calls_give_the_bands_usual_answers() -> None:
    assert stem_roles(SESSIONS, melody=Session.KEYBOARD)[Session.GUITAR] == Role.ACCOMPANIMENT
    assert session_for_emoji("🎸") == Session.GUITAR
    assert normalise_session("guitar") == Session.GUITAR
    plan, _ = _plan_empty_guitar()
    assert plan[Session.GUITAR] == "low"
