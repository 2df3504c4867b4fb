"""The song library: size, variety, layout of the stored MIDI files, and that they match their generator."""

from __future__ import annotations

import json
from fractions import Fraction

import mido
import pytest

from pipeline.errors import WaveInputError
from pipeline.songs import list_songs, load_song
from pipeline.songs.arrange import MAX_SONG_S, MIN_SONG_S, arrange
from pipeline.songs.build import build_library
from pipeline.songs.catalog import CATALOG, SPECS
from pipeline.songs.library import DATA_DIR, LIBRARY_FILE
from pipeline.songs.midi_read import read_midi
from pipeline.songs.mood import MOOD_PLANE
from pipeline.songs.notation import NotationError, parse_chords, parse_melody
from pipeline.songs.styles import METER_BEATS, STYLES
from pipeline.types import SESSION_RANGES, SESSIONS, Session


@pytest.fixture(scope="module")
def songs():
    return {info.id: load_song(info.id) for info in list_songs()}


def test_library_is_big_and_varied():
    infos = list_songs()
    assert len(infos) >= 12
    assert len({i.id for i in infos}) == len(infos)
    assert {"4/4", "3/4", "6/8"} <= {i.meter for i in infos}
    tempos = [i.tempo_bpm for i in infos]
    assert min(tempos) <= 70 and max(tempos) >= 160
    assert len({spec.style for spec in CATALOG}) >= 7
    for info in infos:
        assert MIN_SONG_S <= info.duration_s <= MAX_SONG_S, info.id
        assert 4 <= len(info.mood) <= 8, info.id
        assert all(word in MOOD_PLANE for word in info.mood), info.id
        assert info.public_domain_basis and info.composer and info.key
        assert info.source == "library"


def test_every_song_has_all_four_sessions_in_range(songs):
    for song_id, song in songs.items():
        assert [p.session for p in song.parts] == list(SESSIONS), song_id
        for part in song.parts:
            assert part.notes, (song_id, part.session)
            low, high = SESSION_RANGES[part.session]
            pitches = [n.pitch for n in part.notes]
            assert low <= min(pitches) and max(pitches) <= high, (song_id, part.session)
        assert abs(song.duration_s - song.info.duration_s) < 0.02, song_id


def test_midi_layout_tracks_channels_programs():
    for info in list_songs():
        midi = mido.MidiFile(DATA_DIR / f"{info.id}.mid")
        names = [next(m.name for m in t if m.type == "track_name") for t in midi.tracks]
        assert names == ["drums", "bass", "guitar", "keyboard"]
        channels = [{m.channel for m in t if m.type == "note_on"} for t in midi.tracks]
        assert channels == [{9}, {0}, {1}, {2}]
        programs = {name: next(m.program for m in t if m.type == "program_change") for name, t in zip(names, midi.tracks)}
        assert programs["bass"] == 33
        assert programs["guitar"] in (25, 27)
        assert programs["keyboard"] in (0, 4)


def test_pedal_and_pan_come_through(songs):
    keyboard = songs["canon_in_d"].parts_for(Session.KEYBOARD)[0]
    assert len(keyboard.pedal) > 20
    assert [e.down for e in keyboard.pedal[:4]] == [True, False, True, False]
    assert keyboard.pedal[-1].down is False
    # The files leave every part in the centre: the mix places each stem by the role it plays.
    assert all(part.pan == 0.0 for song in songs.values() for part in song.parts)
    assert not songs["ode_to_joy"].parts_for(Session.KEYBOARD)[0].pedal  # rock style plays without pedal


def test_tempo_map_is_resolved(songs):
    # The Mountain King speeds up: its bars get shorter towards the end.
    spec = SPECS["mountain_king"]
    arrangement = arrange(spec)
    bar = METER_BEATS[spec.meter]
    first_bar = arrangement.seconds_at(bar) - arrangement.seconds_at(Fraction(0))
    late = arrangement.total_beats - 4 * bar
    late_bar = arrangement.seconds_at(late + bar) - arrangement.seconds_at(late)
    assert first_bar == pytest.approx(4 * 60 / 112, rel=1e-6)
    assert late_bar < 0.75 * first_bar
    last_note_end = max(n.start + n.duration for p in arrangement.parts.values() for n in p.notes)
    assert songs["mountain_king"].duration_s == pytest.approx(arrangement.seconds_at(last_note_end), abs=0.005)
    # A ballad slows down over its last bars.
    canon = arrange(SPECS["canon_in_d"])
    end = canon.total_beats
    assert canon.seconds_at(end) - canon.seconds_at(end - 1) > 1.2 * 60 / 66


def test_melodies_fit_their_chords():
    """On-beat melody notes are mostly chord tones: catches chord lines shifted against their tune."""
    for spec in CATALOG:
        bar = METER_BEATS[spec.meter]
        for label, section in spec.sections.items():
            melody, chords = parse_melody(section.melody, bar), parse_chords(section.chords, bar)
            on_beat = [n for n in melody.notes if n.start >= 0 and n.start.denominator == 1]
            fitting = sum(
                1 for n in on_beat
                if n.pitch % 12 in next(c for c in chords if c.start <= n.start < c.start + c.duration).chord.pitch_classes
            )
            assert fitting / len(on_beat) >= 0.6, (spec.id, label)


def test_regeneration_reproduces_stored_files(tmp_path):
    infos = build_library(tmp_path)
    assert json.loads((tmp_path / LIBRARY_FILE).read_text()) == json.loads((DATA_DIR / LIBRARY_FILE).read_text())
    for info in infos:
        fresh, stored = read_midi(tmp_path / f"{info.id}.mid"), read_midi(DATA_DIR / f"{info.id}.mid")
        assert [(p.name, p.program, p.notes, p.pedal) for p in fresh.parts] == \
               [(p.name, p.program, p.notes, p.pedal) for p in stored.parts], info.id


def test_unknown_song_lists_some_ids():
    with pytest.raises(WaveInputError) as error:
        load_song("stairway_to_nowhere")
    assert "ode_to_joy" in error.value.user_message


def test_styles_are_whole_bars():
    for style in STYLES.values():
        style.check()
        assert style.meter in METER_BEATS


def test_notation_catches_mistakes():
    melody = parse_melody("A4:.5 | C5:1 D E:1/2 F:1/2 | G4:3", Fraction(3))
    assert melody.pickup == Fraction(1, 2) and melody.bars == 2
    assert [n.pitch for n in melody.notes] == [69, 72, 74, 76, 77, 67]
    assert melody.notes[0].start == Fraction(-1, 2)
    with pytest.raises(NotationError, match="bar 1"):
        parse_melody("C4:1 D E F | G:4", Fraction(3))  # 4 beats in a 3/4 bar
    with pytest.raises(NotationError):
        parse_melody("H4:1", Fraction(4))
    with pytest.raises(NotationError):
        parse_chords("C G | Xm7", Fraction(4))
    spans = parse_chords("Am F | G:3 D/F#:1", Fraction(4))
    assert [(s.start, s.duration) for s in spans] == [(0, 2), (2, 2), (4, 3), (7, 1)]
    assert spans[-1].chord.bass == 6 and spans[-1].chord.root == 2
