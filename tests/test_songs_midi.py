"""Uploaded MIDI: reading (formats, running status, tempo maps), role inference, limits and broken files."""

from __future__ import annotations

import os
from pathlib import Path

import mido
import pytest

from pipeline.errors import WaveInputError
from pipeline.songs import load_midi, load_song, resolve_song, write_midi
from pipeline.songs.library import DATA_DIR
from pipeline.types import Session


def note_track(name, channel, notes, program=None, beat=480, extra=()):
    """A track playing (start beat, length in beats, pitch) notes; ``extra`` are (tick, message) pairs."""
    timed = [(0, mido.MetaMessage("track_name", name=name))]
    if program is not None:
        timed.append((0, mido.Message("program_change", channel=channel, program=program)))
    for start, length, pitch in notes:
        timed.append((round(start * beat), mido.Message("note_on", channel=channel, note=pitch, velocity=90)))
        timed.append((round((start + length) * beat), mido.Message("note_off", channel=channel, note=pitch)))
    timed += list(extra)
    timed.sort(key=lambda item: (item[0], item[1].type == "note_on"))
    track, now = mido.MidiTrack(), 0
    for tick, message in timed:
        track.append(message.copy(time=tick - now))
        now = tick
    return track


def save(tmp_path: Path, tracks, name="song.mid", file_type=1) -> Path:
    midi = mido.MidiFile(type=file_type, ticks_per_beat=480)
    midi.tracks.extend(tracks)
    path = tmp_path / name
    midi.save(path)
    return path


def line(pitches, step=1.0):
    return [(i * step, step, p) for i, p in enumerate(pitches)]


def chords(roots, step=2.0):
    return [(i * step, step, r + offset) for i, r in enumerate(roots) for offset in (0, 4, 7)]


def sessions_of(song):
    return {part.name: part.session for part in song.parts}


def test_roles_from_gm_programs_and_channel_10(tmp_path):
    path = save(tmp_path, [
        note_track("Kit", 9, line([36, 38, 42, 38])),
        note_track("Fingered", 0, line([40, 43, 45, 47]), program=33),
        note_track("Strat", 1, line([64, 67, 69]), program=29),
        note_track("Lead", 2, line([72, 74, 76]), program=81),
        note_track("Cello", 3, line([36, 38, 40, 43]), program=42),
        note_track("Violins", 4, line([76, 79, 81]), program=40),
    ])
    song = load_midi(path, title="Band test")
    assert sessions_of(song) == {"Kit": Session.DRUMS, "Fingered": Session.BASS, "Strat": Session.GUITAR,
                                 "Lead": Session.KEYBOARD, "Cello": Session.BASS, "Violins": Session.KEYBOARD}
    assert song.info.source == "upload" and song.info.title == "Band test"
    assert "track 'Lead' program 81 -> keyboard (synth lead)" in song.role_notes
    assert any("'Kit'" in n and "channel 10" in n for n in song.role_notes)
    assert song.parts_for(Session.DRUMS)[0].is_drum
    assert len(song.role_notes) == 6


def test_roles_by_range_when_every_track_says_program_0(tmp_path):
    path = save(tmp_path, [
        note_track("Track 1", 0, line([74, 76, 77, 79, 77, 76]), program=0),
        note_track("Track 2", 1, chords([60, 65, 67]), program=0),
        note_track("Track 3", 2, line([36, 41, 43, 36]), program=0),
        note_track("Track 4", 3, line([67, 69, 71, 72]), program=0),
    ])
    song = load_midi(path)
    roles = sessions_of(song)
    assert roles["Track 3"] == Session.BASS
    assert roles["Track 2"] == Session.KEYBOARD
    assert Session.GUITAR in {roles["Track 1"], roles["Track 4"]}
    assert all("program 0 on every track" in n for n in song.role_notes)


def test_roles_without_program_changes_and_several_tracks_per_session(tmp_path):
    path = save(tmp_path, [
        note_track("Left hand", 0, line([33, 40, 38, 36])),
        note_track("Pads", 1, chords([57, 62, 64, 60])),
        note_track("Organ", 2, chords([60, 65]), program=16),
        note_track("Piano", 3, line([72, 71, 69]), program=1),
    ])
    song = load_midi(path)
    roles = sessions_of(song)
    assert roles == {"Left hand": Session.BASS, "Pads": Session.KEYBOARD, "Organ": Session.KEYBOARD,
                     "Piano": Session.KEYBOARD}
    assert "no program" in song.role_notes[0]


def test_type_0_file_splits_channels(tmp_path):
    merged = mido.merge_tracks([
        note_track("all", 9, line([36, 38])),
        note_track("all", 0, line([40, 45]), program=34),
        note_track("all", 1, chords([60]), program=0),
    ])
    song = load_midi(save(tmp_path, [merged], file_type=0))
    assert sorted(p.session.value for p in song.parts) == ["bass", "drums", "keyboard"]
    assert all("(channel" in p.name for p in song.parts)


def test_format_2_tracks_keep_their_own_tempo(tmp_path):
    slow = note_track("slow", 0, [(0, 1, 60), (2, 1, 62)], program=0,
                      extra=[(0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(60)))])
    fast = note_track("fast", 1, [(0, 1, 64), (2, 1, 65)], program=0,
                      extra=[(0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120)))])
    song = load_midi(save(tmp_path, [slow, fast], file_type=2))
    starts = {p.name: [n.start for n in p.notes] for p in song.parts}
    assert starts["slow"] == pytest.approx([0.0, 2.0])
    assert starts["fast"] == pytest.approx([0.0, 1.0])


def test_tempo_changes_in_a_conductor_track(tmp_path):
    conductor = mido.MidiTrack([
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120), time=0),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(60), time=4 * 480),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(240), time=2 * 480),
    ])
    melody = note_track("tune", 0, [(0, 1, 60), (4, 1, 62), (5, 1, 64), (6, 2, 65)], program=0)
    song = load_midi(save(tmp_path, [conductor, melody]))
    notes = song.parts[0].notes
    # 4 beats at 120 = 2 s, then 2 beats at 60 = 2 s, then 240 bpm.
    assert [n.start for n in notes] == pytest.approx([0.0, 2.0, 3.0, 4.0])
    assert [n.end for n in notes] == pytest.approx([0.5, 3.0, 4.0, 4.5])
    assert song.info.tempo_bpm == pytest.approx(120)


def test_running_status_is_read(tmp_path):
    header = b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big") + (96).to_bytes(2, "big")
    events = bytes([0x00, 0xC0, 0x21,  # program 33 on channel 1
                    0x00, 0x90, 0x28, 0x64, 0x60, 0x28, 0x00,  # note on, then running-status note on velocity 0
                    0x00, 0x2B, 0x64, 0x60, 0x2B, 0x00,
                    0x00, 0xFF, 0x2F, 0x00])
    path = tmp_path / "running.mid"
    path.write_bytes(header + b"MTrk" + len(events).to_bytes(4, "big") + events)
    song = load_midi(path)
    notes = song.parts[0].notes
    assert [(n.pitch, n.start, n.end) for n in notes] == [(40, 0.0, 0.5), (43, 0.5, 1.0)]
    assert song.parts[0].session == Session.BASS


def test_pedal_pan_and_octave_folding(tmp_path):
    extra = [(0, mido.Message("control_change", channel=0, control=10, value=0)),
             (0, mido.Message("control_change", channel=0, control=64, value=127)),
             (960, mido.Message("control_change", channel=0, control=64, value=0))]
    keys = note_track("Keys", 0, line([60, 64, 67]), program=0, extra=extra)
    bass = note_track("Sub", 1, line([20, 22, 65]), program=38)
    song = load_midi(save(tmp_path, [keys, bass]))
    keyboard = song.parts_for(Session.KEYBOARD)[0]
    assert keyboard.pan == -1.0
    assert [(e.time, e.down) for e in keyboard.pedal] == [(0.0, True), (1.0, False)]
    assert [n.pitch for n in song.parts_for(Session.BASS)[0].notes] == [32, 34, 53]
    assert "3 notes moved by octaves" in song.role_notes[1]


def test_only_drums_loads(tmp_path):
    song = load_midi(save(tmp_path, [note_track("Beat", 9, line([36, 42, 38, 42, 20]))]))
    assert [p.session for p in song.parts] == [Session.DRUMS]
    assert len(song.parts[0].notes) == 4  # key 20 is no GM kit key
    assert "left out" in song.role_notes[0]


def test_no_notes_is_refused(tmp_path):
    silent = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000), mido.Message("program_change", program=5)])
    with pytest.raises(WaveInputError, match="no notes"):
        load_midi(save(tmp_path, [silent]))


@pytest.mark.parametrize("content", [b"", os.urandom(4096), b"hello, this is not music\n" * 10])
def test_non_midi_files_are_refused(tmp_path, content):
    path = tmp_path / "upload.mid"
    path.write_bytes(content)
    with pytest.raises(WaveInputError) as error:
        load_midi(path)
    assert "upload.mid" in error.value.user_message


def test_truncated_real_file_is_refused(tmp_path):
    data = (DATA_DIR / "greensleeves.mid").read_bytes()
    path = tmp_path / "cut.mid"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WaveInputError, match="broken or cut short"):
        load_midi(path)


def test_limit_file_size(tmp_path):
    big = note_track("t", 0, line([60]), program=0)
    big.insert(0, mido.MetaMessage("text", text="x" * (1024 * 1024 + 10)))
    with pytest.raises(WaveInputError, match="1 MiB"):
        load_midi(save(tmp_path, [big]))


def test_limit_length(tmp_path):
    long_note = note_track("t", 0, [(0, 1, 60), (1330, 1, 62)], program=0)  # ends after 11 minutes at 120 bpm
    with pytest.raises(WaveInputError, match="minutes"):
        load_midi(save(tmp_path, [long_note]))


def test_limit_tracks(tmp_path):
    tracks = [note_track(f"t{i}", i % 9, line([60]), program=0) for i in range(65)]
    with pytest.raises(WaveInputError, match="65 tracks"):
        load_midi(save(tmp_path, tracks))


def test_limit_notes(tmp_path):
    # Written byte by byte with running status: much faster than building 100,000 mido messages.
    header = b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big") + (96).to_bytes(2, "big")
    body = bytearray([0x00, 0x90])
    for i in range(50_001):
        body += bytes([40 + i % 40, 80, 0x05, 40 + i % 40, 0, 0x05])
    body += bytes([0xFF, 0x2F, 0x00])  # each note ends with the delta time of the next event
    path = tmp_path / "dense.mid"
    path.write_bytes(header + b"MTrk" + len(body).to_bytes(4, "big") + bytes(body))
    with pytest.raises(WaveInputError, match="50,001 notes"):
        load_midi(path)


def test_write_midi_round_trip(tmp_path):
    song = load_song("minuet_in_g")
    again = load_midi(write_midi(song, tmp_path / "minuet.mid"))
    assert [p.session for p in again.parts] == [p.session for p in song.parts]
    tick = 60 / song.info.tempo_bpm / 480
    for before, after in zip(song.parts, again.parts):
        assert len(before.notes) == len(after.notes)
        assert all(abs(a.start - b.start) <= tick and a.pitch == b.pitch for a, b in zip(before.notes, after.notes))
        assert after.pan == pytest.approx(before.pan, abs=0.02)


def test_resolve_song_accepts_ids_paths_and_auto(tmp_path):
    assert resolve_song("sakura_sakura").info.id == "sakura_sakura"
    path = save(tmp_path, [note_track("Kit", 9, line([36, 38]))], name="mine.midi")
    assert resolve_song(str(path)).info.source == "upload"
    assert resolve_song("auto", mood="a wild stormy sea").info.source == "library"
    with pytest.raises(WaveInputError, match="not found"):
        resolve_song(str(tmp_path / "missing.mid"))


def test_the_melody_of_an_upload_is_its_highest_single_line(tmp_path):
    # Piano chords sit under a guitar tune; a high but sparse pad note does not count as the tune.
    tune = line([64, 67, 69, 71, 72, 71, 69, 67], step=0.5)
    path = save(tmp_path, [
        note_track("Kit", 9, line([36, 38, 36, 38])),
        note_track("Bass", 0, line([40, 43, 45, 47]), program=33),
        note_track("Piano", 1, chords([48, 53, 55, 48]), program=0),
        note_track("Tune", 2, tune, program=25),
    ])
    assert load_midi(path).info.melody_session == Session.GUITAR
    swapped = save(tmp_path, [
        note_track("Piano tune", 1, tune, program=0),
        note_track("Guitar chords", 2, chords([48, 53, 55, 48]), program=25),
    ], name="swapped.mid")
    assert load_midi(swapped).info.melody_session == Session.KEYBOARD
    drums_only = save(tmp_path, [note_track("Kit", 9, line([36, 38, 42, 38]))], name="drums.mid")
    assert load_midi(drums_only).info.melody_session is None


def test_library_songs_name_their_melody_session():
    for song_id, session in (("ode_to_joy", Session.KEYBOARD), ("greensleeves", Session.GUITAR)):
        assert load_song(song_id).info.melody_session == session
