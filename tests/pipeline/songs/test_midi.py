"""Uploaded MIDI: reading (formats, running status, tempo maps), role inference, limits and broken files."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from pipeline.errors import WaveInputError
from pipeline.songs import load_midi, load_song, midi_read, resolve_song, write_midi
from pipeline.songs.library import DATA_DIR
from pipeline.songs.midi_read import read_midi
from pipeline.types import Note, Part, PedalEvent, Session, Song, SongInfo


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


# ---------------------------------------------------------------- where WAVE reads differently from pretty_midi alone


def test_a_tempo_change_in_any_track_of_a_format_1_file_counts_for_every_track(tmp_path):
    # pretty_midi reads tempo changes from the first track only; MIDI puts one tempo map over all of them.
    first = note_track("first", 0, [(0, 1, 60), (6, 1, 62)], program=0)
    second = note_track("second", 1, [(0, 1, 64), (6, 1, 65)], program=0,
                        extra=[(4 * 480, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(60)))])
    content = read_midi(save(tmp_path, [first, second]))
    # 4 beats at 120 bpm = 2 s, then 2 beats at 60 bpm = 2 s.
    assert [[n.start for n in part.notes] for part in content.parts] == [pytest.approx([0.0, 4.0])] * 2


def test_each_note_off_ends_the_earliest_sounding_copy_and_unreleased_notes_end_with_their_track(tmp_path):
    # pretty_midi ends every sounding copy of a pitch at the first note-off, and drops notes never released.
    events = [(0, mido.Message("note_on", note=60, velocity=50)), (0, mido.Message("note_on", note=60, velocity=90)),
              (480, mido.Message("note_off", note=60)), (960, mido.Message("note_off", note=60)),
              (960, mido.Message("note_on", note=64, velocity=70)),
              (1920, mido.MetaMessage("end_of_track"))]
    track, now = mido.MidiTrack(), 0
    for tick, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    notes = read_midi(save(tmp_path, [track])).parts[0].notes
    assert [(n.pitch, n.velocity, n.start, n.end) for n in notes] == [(60, 50, 0.0, 0.5), (60, 90, 0.0, 1.0),
                                                                      (64, 70, 1.0, 2.0)]


def test_channel_state_is_shared_by_the_tracks_and_no_program_is_not_program_0(tmp_path):
    # A setup track states program and pan for channel 2; pretty_midi alone would give the notes program 0.
    setup = mido.MidiTrack([mido.MetaMessage("track_name", name="setup"),
                            mido.Message("program_change", channel=1, program=33),
                            mido.Message("control_change", channel=1, control=10, value=127)])
    bass = note_track("Bass", 1, line([40, 43, 45]))
    lead = note_track("Lead", 2, line([72, 74, 76]))
    drums = note_track("Kit", 9, line([36, 38]), program=25)
    parts = {p.name: p for p in read_midi(save(tmp_path, [setup, bass, lead, drums])).parts}
    assert (parts["Bass"].program, parts["Bass"].programs_seen, parts["Bass"].pan) == (33, [33], 1.0)
    assert (parts["Lead"].program, parts["Lead"].pan) == (None, None)
    # Channel 10 is the drum kit whatever program it names.
    assert parts["Kit"].is_drum_channel and parts["Kit"].program == 25 and not parts["Bass"].is_drum_channel


def test_limits_are_checked_before_pretty_midi_does_any_work(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pretty_midi was handed a file over the limits")

    monkeypatch.setattr(midi_read.pretty_midi, "PrettyMIDI", refuse)
    tracks = [note_track(f"t{i}", 0, line([60]), program=0) for i in range(5)]
    with pytest.raises(WaveInputError, match="5 tracks; up to 4"):
        read_midi(save(tmp_path, tracks), max_tracks=4)
    with pytest.raises(WaveInputError, match="5 notes; up to 4"):
        read_midi(save(tmp_path, tracks), max_notes=4)
    far = note_track("far", 0, [(0, 1, 60), (midi_read.MAX_TICK // 480, 1, 62)], program=0)
    with pytest.raises(WaveInputError, match="far too long"):
        load_midi(save(tmp_path, [far]))


def test_a_zero_tempo_is_a_broken_file_not_a_crash(tmp_path):
    tune = note_track("t", 0, line([60, 62]), program=0, extra=[(480, mido.MetaMessage("set_tempo", tempo=0))])
    with pytest.raises(WaveInputError, match="broken"):
        load_midi(save(tmp_path, [tune]))


# ------------------------------------------------------------------------------------------------ writing


def small_song(bpm=100.0) -> Song:
    info = SongInfo(id="s", title="s", composer="c", public_domain_basis="test", tempo_bpm=bpm, meter="3/4",
                    key="B minor", duration_s=3.0)
    return Song(info=info, parts=[
        Part(session=Session.DRUMS, name="kit", is_drum=True,
             notes=[Note(start=0.6 * i, end=0.6 * i + 0.1, pitch=36, velocity=100) for i in range(4)]),
        Part(session=Session.BASS, name="bass", program=33, pan=-0.5,
             notes=[Note(start=1.2, end=1.8, pitch=40, velocity=90), Note(start=2.4, end=3.0, pitch=43, velocity=80)]),
        Part(session=Session.KEYBOARD, name="keys", program=4, pan=0.5,
             notes=[Note(start=0.0, end=1.2, pitch=60, velocity=70), Note(start=0.0, end=0.6, pitch=60, velocity=100),
                    Note(start=0.0, end=1.2, pitch=64, velocity=70)],
             pedal=[PedalEvent(time=0.0, down=True), PedalEvent(time=1.8, down=False)]),
    ])


@pytest.mark.parametrize("bpm", [100.0, 118.0, 72.37])
def test_written_file_reads_the_same_in_pretty_midi_and_wave(tmp_path, bpm):
    song = small_song(bpm)
    path = write_midi(song, tmp_path / "out" / "song.mid")
    stated = [m.tempo for track in mido.MidiFile(path).tracks for m in track if m.type == "set_tempo"]
    assert stated == [mido.bpm2tempo(bpm)]  # rounded to the microsecond, not truncated
    score = pretty_midi.PrettyMIDI(str(path))
    wave = read_midi(path)
    half_tick = 60 / bpm / 480 / 2
    assert [(i.name, i.program, i.is_drum) for i in score.instruments] == [("kit", 0, True), ("bass", 33, False),
                                                                            ("keys", 4, False)]
    assert [(p.name, p.program, p.is_drum_channel) for p in wave.parts] == [("kit", 0, True), ("bass", 33, False),
                                                                            ("keys", 4, False)]
    # Two copies of C4 starting together become one note, as long as the longest and as loud as the loudest.
    expected = [[(n.pitch, n.start, n.end, n.velocity) for n in p.notes] for p in song.parts]
    expected[2] = [(60, 0.0, 1.2, 100), (64, 0.0, 1.2, 70)]
    for played in ([[(n.pitch, n.start, n.end, n.velocity) for n in sorted(i.notes, key=lambda n: (n.start, n.pitch))]
                    for i in score.instruments],
                   [[(n.pitch, n.start, n.end, n.velocity) for n in p.notes] for p in wave.parts]):
        for want, got in zip(expected, played, strict=True):
            assert [(p, v) for p, _, _, v in got] == [(p, v) for p, _, _, v in want]
            assert np.allclose([(s, e) for _, s, e, _ in got], [(s, e) for _, s, e, _ in want], atol=half_tick)
    assert (wave.meter, wave.key, wave.tempo_bpm) == ("3/4", "B minor", pytest.approx(bpm, abs=1e-3))
    assert [p.pan for p in wave.parts] == pytest.approx([0.0, -0.5, 0.5], abs=0.01)
    assert [(e.time, e.down) for e in wave.parts[2].pedal] == [(0.0, True), (pytest.approx(1.8, abs=half_tick), False)]


GM_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


@pytest.mark.skipif(shutil.which("fluidsynth") is None or not GM_SOUNDFONT.exists(), reason="needs fluidsynth")
def test_written_file_plays_in_fluidsynth_where_the_notes_are(tmp_path):
    song = Song(info=small_song().info, parts=[small_song().parts[1]])  # bass notes at 1.2-1.8 s and 2.4-3.0 s
    path = write_midi(song, tmp_path / "bass.mid")
    wav = tmp_path / "bass.wav"
    subprocess.run(["fluidsynth", "-ni", "-R", "0", "-C", "0", "-r", "44100", "-F", str(wav), str(GM_SOUNDFONT),
                    str(path)], check=True, capture_output=True, timeout=60)
    audio, rate = sf.read(wav, dtype="float32", always_2d=True)
    level = np.abs(audio.mean(axis=1))

    def peak(start, end):
        return float(level[int(start * rate):int(end * rate)].max())

    assert peak(1.25, 1.75) > 0.01 and peak(2.45, 2.95) > 0.01
    assert peak(0.0, 1.15) < peak(1.25, 1.75) / 100  # silence before the first note
