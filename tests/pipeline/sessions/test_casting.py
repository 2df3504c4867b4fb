"""Casting real recorded sounds: full band, empty sessions, overrides, remaps, determinism, reasons, pictures."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipeline.errors import WaveInputError
from pipeline.sessions import (
    YOUR_CHOICE,
    analyse_effect,
    cast,
    draw_casting,
    remap,
    score_effect,
    write_casting,
)
from pipeline.sessions.casting import move
from pipeline.types import SESSIONS, EffectInput, Session

# One clear sound per session plus two extras; ids do not give the answer away.
BAND = {"e1": "sn_generic", "e2": "bass_thick_c", "e3": "guit_harmonics", "e4": "ambi_glass_rub", "e5": "bd_haus",
        "e6": "elec_ping"}


@pytest.fixture(scope="module")
def band(sample) -> list[EffectInput]:
    return [EffectInput(id=i, path=sample(name)) for i, name in BAND.items()]


@pytest.fixture(scope="module")
def features(band):
    return {e.id: analyse_effect(e) for e in band}


def _who(casting) -> dict[Session, str]:
    return {s: c.effect_id for s, c in casting.choices.items()}


def test_four_or_more_effects_fill_every_session_once(band, features) -> None:
    casting = cast(band, features=features)
    assert set(casting.choices) == set(SESSIONS) and not casting.empty
    assert len({c.effect_id for c in casting.choices.values()}) == 4
    assert _who(casting) == {Session.DRUMS: "e1", Session.BASS: "e2", Session.GUITAR: "e3", Session.KEYBOARD: "e4"}
    assert [a.effect_id for a in casting.alternates] and {a.effect_id for a in casting.alternates} == {"e5", "e6"}
    assert [a.rank for a in casting.alternates] == [1, 2]
    ranked_costs = [min(casting.scores[a.effect_id].values()) for a in casting.alternates]
    assert ranked_costs == sorted(ranked_costs)


def test_reasons_quote_the_features(band, features) -> None:
    casting = cast(band, features=features)
    assert "short" in casting.choices[Session.DRUMS].reason and "noisy" in casting.choices[Session.DRUMS].reason
    assert "low" in casting.choices[Session.BASS].reason and "sustained" in casting.choices[Session.BASS].reason
    for session, choice in casting.choices.items():
        assert choice.reason.endswith(f"-> {session.value}")


def test_words_and_hint_shift_the_choice(band, features) -> None:
    ping = next(e for e in band if e.id == "e6")
    nudged = ping.model_copy(update={"words": "a small glass bell", "hint": Session.KEYBOARD})
    plain, worded = score_effect(ping, features["e6"]), score_effect(nudged, features["e6"])
    assert worded[Session.KEYBOARD].cost < plain[Session.KEYBOARD].cost - 0.3
    assert worded[Session.DRUMS].cost == plain[Session.DRUMS].cost
    assert '"bell"' in worded[Session.KEYBOARD].reason and "sheet" in worded[Session.KEYBOARD].reason


def test_fewer_effects_leave_named_empty_sessions(band, features) -> None:
    two = [e for e in band if e.id in {"e1", "e2"}]
    casting = cast(two, features=features)
    assert _who(casting) == {Session.DRUMS: "e1", Session.BASS: "e2"}
    assert set(casting.empty) == {Session.GUITAR, Session.KEYBOARD}
    assert all("only 2 sounds" in why for why in casting.empty.values())
    assert not casting.alternates


def test_overrides_are_kept_and_the_rest_is_resolved(band, features) -> None:
    casting = cast(band, {Session.BASS: "e5"}, features=features)
    assert casting.choices[Session.BASS].effect_id == "e5" and casting.choices[Session.BASS].overridden
    assert casting.choices[Session.BASS].reason.startswith(YOUR_CHOICE)
    assert not any(c.overridden for s, c in casting.choices.items() if s != Session.BASS)
    assert casting.choices[Session.DRUMS].effect_id == "e1"
    assert len({c.effect_id for c in casting.choices.values()}) == 4
    assert "e2" in {a.effect_id for a in casting.alternates}


def test_one_effect_may_be_pinned_twice_but_never_doubled_automatically(band, features) -> None:
    casting = cast(band, {Session.GUITAR: "e4", Session.KEYBOARD: "e4"}, features=features)
    assert casting.choices[Session.GUITAR].effect_id == casting.choices[Session.KEYBOARD].effect_id == "e4"
    automatic = [c.effect_id for c in casting.choices.values() if not c.overridden]
    assert len(automatic) == len(set(automatic)) == 2 and "e4" not in automatic


def test_bad_overrides_are_refused_plainly(band, features) -> None:
    with pytest.raises(WaveInputError, match="no such sound"):
        cast(band, {Session.DRUMS: "nope"}, features=features)
    with pytest.raises(WaveInputError, match="Unknown session"):
        cast(band, {"flute": "e1"}, features=features)  # type: ignore[dict-item]


def test_casting_is_deterministic_whatever_the_input_order(band, features) -> None:
    first = cast(band, features=features)
    again = cast(list(reversed(band)), features=features)
    assert first.model_dump() == again.model_dump()


def test_equal_costs_break_ties_by_effect_id(sample) -> None:
    twins = [EffectInput(id=i, path=sample("sn_generic")) for i in ("b", "a", "c")]
    features = {e.id: analyse_effect(twins[0]) for e in twins}
    casting = cast(twins, features=features)
    assert casting.choices[Session.DRUMS].effect_id == "a"
    assert casting.choices == cast(list(reversed(twins)), features=features).choices


def test_remap_swaps_with_the_old_holder(band, features) -> None:
    casting = cast(band, features=features)
    moved = remap(casting, band, "e2", "keyboard")
    assert moved.choices[Session.KEYBOARD].effect_id == "e2" and moved.choices[Session.KEYBOARD].overridden
    assert moved.choices[Session.BASS].effect_id == "e4"
    assert "swapped" in moved.choices[Session.BASS].reason
    assert moved.choices[Session.DRUMS] == casting.choices[Session.DRUMS]
    assert casting.choices[Session.KEYBOARD].effect_id == "e4"  # the original is untouched


def test_remap_of_an_alternate_demotes_the_old_holder(band, features) -> None:
    casting = cast(band, features=features)
    moved = remap(casting, band, "e5", Session.DRUMS)
    assert moved.choices[Session.DRUMS].effect_id == "e5"
    assert moved.alternates[0].effect_id == "e1" and moved.alternates[0].rank == 1
    assert "e5" not in {a.effect_id for a in moved.alternates}
    assert [a.rank for a in moved.alternates] == list(range(1, len(moved.alternates) + 1))


def test_remap_into_an_empty_session_refills_or_empties_the_old_one(band, features) -> None:
    three = [e for e in band if e.id in {"e1", "e2", "e5"}]
    casting = cast(three, features=features)
    empty = next(iter(casting.empty))
    moved = remap(casting, three, "e2", empty)
    assert moved.choices[empty].effect_id == "e2" and empty not in moved.empty
    assert Session.BASS in moved.empty and "moved" in moved.empty[Session.BASS]
    with pytest.raises(WaveInputError, match="No sound"):
        remap(casting, three, "ghost", Session.BASS)


D, B, G, K = Session.DRUMS, Session.BASS, Session.GUITAR, Session.KEYBOARD


def test_move_swaps_the_old_holder_into_the_moved_sounds_session() -> None:
    before = {D: "door", B: "rain", G: "bell"}
    after, change = move(before, "rain", "guitar")
    assert after == {D: "door", B: "bell", G: "rain"}
    assert change == "rain moved bass -> guitar; bell moved guitar -> bass"
    assert before == {D: "door", B: "rain", G: "bell"}  # the caller's map is untouched


def test_move_into_an_empty_session_frees_the_old_one() -> None:
    after, change = move({D: "door", B: "rain"}, "rain", K)
    assert after == {D: "door", K: "rain"} and change == "rain moved bass -> keyboard"


def test_move_of_a_sound_without_a_session_replaces_the_holder() -> None:
    after, change = move({D: "door", B: "rain"}, "bell", D)
    assert after == {D: "bell", B: "rain"} and change == "bell now plays drums (instead of door)"
    after, change = move({D: "door"}, "bell", G)
    assert after == {D: "door", G: "bell"} and change == "bell now plays guitar"


def test_move_to_where_the_sound_already_plays_changes_nothing() -> None:
    before = {D: "door", B: "door"}  # one sound pinned to two sessions on purpose
    for session in (D, B):
        after, change = move(before, "door", session)
        assert after == before and change == f"door already plays {session.value}"
    with pytest.raises(WaveInputError, match="Unknown session"):
        move(before, "door", "tuba")


def test_remap_follows_the_move_rule(band, features) -> None:
    casting = cast(band, features=features)
    who = {s: c.effect_id for s, c in casting.choices.items()}
    for effect in ("e2", "e5"):
        for session in SESSIONS:
            moved = remap(casting, band, effect, session)
            assert {s: c.effect_id for s, c in moved.choices.items()} == move(who, effect, session)[0]


def test_unreadable_effect_names_the_file_and_silent_effect_still_casts(band, features, tmp_path: Path) -> None:
    broken = tmp_path / "cracked_glass.wav"
    broken.write_bytes(b"RIFF" + struct.pack("<I", 99) + b"WAVEjunkjunk")
    with pytest.raises(WaveInputError, match="cracked_glass.wav"):
        cast([*band[:3], EffectInput(id="x", path=broken)], features=features)

    quiet = tmp_path / "quiet.wav"
    sf.write(str(quiet), np.zeros(22050, np.float32), 22050)
    effects = [*band[:3], EffectInput(id="q", path=quiet)]
    casting = cast(effects, features=features)
    assert set(casting.choices) == set(SESSIONS)
    assert any("silent" in note for note in casting.notes)
    assert casting.choices[Session.KEYBOARD].effect_id == "q"


def test_a_casting_picture_drawn_later_is_the_one_drawn_at_once(band, features, tmp_path: Path) -> None:
    casting = cast(band, features=features)
    _, at_once = write_casting(casting, band, tmp_path / "now")
    json_path, none = write_casting(casting, band, tmp_path / "later", picture=False)
    assert none is None and not (tmp_path / "later" / "casting.png").exists()
    later = draw_casting(tmp_path / "later", band)
    assert later.read_bytes() == at_once.read_bytes()
    with pytest.raises(WaveInputError, match="not given"):
        draw_casting(tmp_path / "later", band[1:])


def test_write_casting_json_and_a_readable_png(band, features, tmp_path: Path) -> None:
    casting = cast(band, features=features)
    json_path, png_path = write_casting(casting, band, tmp_path / "out")
    report = json.loads(json_path.read_text())
    assert report["choices"]["drums"]["effect_id"] == "e1"
    assert {e["id"] for e in report["effects"]} == set(BAND)
    assert report["effects"][0]["features"]["duration_s"] > 0
    header = png_path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert 800 <= width <= 1200 and 400 <= height <= 1200
