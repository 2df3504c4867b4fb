"""The `wave` command end to end on the embedded engines: play, render, see, hear, cast, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipeline.songs import pick_song
from wave_app.cli import EXIT_INPUT, run
from wave_testing.jobs_helpers import short_song_midi

BAND = ["loop_amen", "bass_woodsy_c", "guit_em9", "ambi_glass_hum"]


@pytest.fixture
def effects(sample) -> list[Path]:
    return [sample(name) for name in BAND]


@pytest.fixture
def short_song(tmp_path: Path) -> Path:
    path = tmp_path / "short.mid"
    path.write_bytes(short_song_midi(6.0))
    return path


def report_of(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


def test_play_writes_every_promised_file(effects, short_song, tmp_path: Path):
    out = tmp_path / "play"
    assert run(["play", "--effects", *map(str, effects), "--song", str(short_song), "--out", str(out), "--quiet"]) == 0
    report = report_of(out)
    assert report["mix"] == "mix.wav" and (out / report["mix"]).exists()
    assert (out / report["mix_compressed"]).exists() and report["mix_compressed"].endswith((".mp3", ".ogg"))
    assert set(report["sessions"]) == {"drums", "bass", "guitar", "keyboard"}
    for session, entry in report["sessions"].items():
        assert entry["effect"] in {p.stem for p in effects}
        assert not Path(entry["sfz"]).is_absolute() and (out / entry["sfz"]).exists()
        assert entry["sfz"].startswith(f"instruments/{session}/")
        assert (out / report["stems"][session]).exists()
    assert len({entry["effect"] for entry in report["sessions"].values()}) == 4
    assert report["casting"] == "casting.json" and (out / "casting.json").exists()
    assert report["casting_png"] == "casting.png" and (out / "casting.png").stat().st_size > 10_000
    assert report["loudness_lufs"] == pytest.approx(-14.0, abs=1.0)
    assert report["true_peak_dbtp"] <= -1.0
    assert set(report["timings_s"]) >= {"instruments", "render", "mix"}
    mix, rate = sf.read(str(out / "mix.wav"))
    assert mix.ndim == 2 and mix.shape[1] == 2 and rate == 44100
    assert report["duration_s"] == pytest.approx(len(mix) / rate, abs=0.01)


def test_play_pins_an_effect_with_cast(effects, short_song, tmp_path: Path):
    out = tmp_path / "pinned"
    argv = ["play", "--effects", *map(str, effects), "--song", str(short_song), "--out", str(out), "--quiet",
            "--cast", "bass=loop_amen", "--character", "0.7", "bass=0.9"]
    assert run(argv) == 0
    report = report_of(out)
    assert report["sessions"]["bass"]["effect"] == "loop_amen"
    assert [report["sessions"][s].get("character") for s in ("drums", "bass", "guitar", "keyboard")] == [None, 0.9, 0.7, 0.7]
    assert "your choice" in report["sessions"]["bass"]["reason"]
    assert len({entry["effect"] for entry in report["sessions"].values()}) == 4


def test_auto_song_follows_the_mood(effects, tmp_path: Path):
    mood = "a calm, misty morning by the lake"
    out = tmp_path / "auto"
    assert run(["play", "--effects", *map(str, effects), "--song", "auto", "--mood", mood, "--out", str(out),
                "--quiet"]) == 0
    report = report_of(out)
    assert report["song"]["id"] == pick_song(mood).id
    # A calm mood slows the song within its range, and report.json says what the mood and the roles did.
    production = report["production"]
    assert production["tempo_bpm"] < production["song_tempo_bpm"]
    assert any(change.startswith("tempo") and "slower" in change for change in production["changes"])
    assert production["space"] > 1.0 and "calm" in production["mood_words"]
    assert production["roles"][production["melody_session"]] == "melody"
    assert production["roles"]["bass"] == "bass" and production["roles"]["drums"] == "drums"


def test_fewer_than_four_effects_borrow_and_say_so(sample, short_song, tmp_path: Path):
    out = tmp_path / "two"
    assert run(["play", "--effects", str(sample("bd_haus")), str(sample("ambi_glass_hum")), "--song",
                str(short_song), "--out", str(out), "--quiet"]) == 0
    report = report_of(out)
    borrowed = [s for s, e in report["sessions"].items() if e.get("fallback")]
    assert len(borrowed) == 2
    assert all("reusing" in report["sessions"][s]["fallback"] for s in borrowed)
    assert any("reusing" in note for note in report["notes"])
    assert set(report["stems"]) == {"drums", "bass", "guitar", "keyboard"}


def write_effect(path: Path, audio: np.ndarray, rate: int, subtype: str = "PCM_16") -> Path:
    sf.write(str(path), audio, rate, subtype=subtype)
    return path


def test_broken_effects_are_repaired_and_reported(sample, short_song, tmp_path: Path):
    rng = np.random.default_rng(0)
    silent = write_effect(tmp_path / "silent.wav", np.zeros(22050, np.float32), 22050)
    tiny = write_effect(tmp_path / "tiny.wav", rng.standard_normal(160).astype(np.float32) * 0.3, 16000)  # 10 ms
    long = write_effect(tmp_path / "long.wav", rng.standard_normal(600 * 8000).astype(np.float32) * 0.2, 8000)
    nans = rng.standard_normal(44100).astype(np.float32) * 0.3
    nans[1000:1500] = np.nan
    broken = write_effect(tmp_path / "nans.wav", nans, 44100, subtype="FLOAT")
    out = tmp_path / "repaired"
    argv = ["play", "--effects", str(silent), str(tiny), str(long), str(broken), "--song", str(short_song),
            "--out", str(out), "--quiet"]
    assert run(argv) == 0
    notes = " ".join(report_of(out)["notes"])
    assert "silent" in notes
    assert "10 ms" in notes
    assert "600 s long" in notes
    assert "NaN" in notes
    assert report_of(out)["loudness_lufs"] == pytest.approx(-14.0, abs=1.0)


def test_a_bad_character_is_a_clear_error(effects, short_song, tmp_path: Path, capsys):
    code = run(["play", "--effects", *map(str, effects), "--song", str(short_song), "--out", str(tmp_path / "x"),
                "--quiet", "--character", "bass=loud"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT
    assert "bass=loud" in err and "Traceback" not in err


def test_unreadable_effect_is_a_clear_error(sample, short_song, tmp_path: Path, capsys):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\x00\x00not really a wave file" * 10)
    code = run(["play", "--effects", str(junk), str(sample("bd_haus")), "--song", str(short_song), "--out",
                str(tmp_path / "x"), "--quiet"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT
    assert "junk.wav" in err and "Traceback" not in err


def test_midi_without_notes_is_a_clear_error_and_drums_only_plays(effects, tmp_path: Path, capsys):
    import mido

    empty = mido.MidiFile()
    empty.tracks.append(mido.MidiTrack([mido.MetaMessage("track_name", name="nothing", time=0)]))
    empty.save(tmp_path / "empty.mid")
    code = run(["play", "--effects", *map(str, effects), "--song", str(tmp_path / "empty.mid"), "--out",
                str(tmp_path / "e"), "--quiet"])
    assert code == EXIT_INPUT and "Traceback" not in capsys.readouterr().err

    drums = mido.MidiFile()
    track = mido.MidiTrack()
    for beat in range(8):
        track.append(mido.Message("note_on", channel=9, note=36 if beat % 2 == 0 else 38, velocity=100, time=0))
        track.append(mido.Message("note_off", channel=9, note=36 if beat % 2 == 0 else 38, velocity=0, time=480))
    drums.tracks.append(track)
    drums.save(tmp_path / "drums.mid")
    out = tmp_path / "d"
    assert run(["play", "--effects", *map(str, effects), "--song", str(tmp_path / "drums.mid"), "--out", str(out),
                "--quiet"]) == 0
    report = report_of(out)
    assert set(report["stems"]) == {"drums"}
    assert any("no bass, guitar, keyboard part" in note for note in report["notes"])


def test_render_from_the_bundled_picture(tmp_path: Path):
    out = tmp_path / "render"
    assert run(["render", "--song", "row_your_boat", "--out", str(out), "--quiet"]) == 0
    report = report_of(out)
    sheet = json.loads((out / "sheet.json").read_text())
    assert report["sheet"] == "sheet.json" and sheet["engine"] == "lite"
    variants = [v for source in sheet["sound_sources"] for v in source["variants"]]
    assert 5 <= len(variants) <= 12
    assert set(report["effects"]) == {v["id"] for v in variants}
    for variant in variants:
        assert (out / report["effects"][variant["id"]]).exists()
        assert variant["effect_engine"] == "lite" and variant["prompt"]
    cast = {v["id"]: v["session"] for v in variants if v.get("session")}
    assert sorted(cast.values()) == ["bass", "drums", "guitar", "keyboard"]
    assert report["engines"]["vision"] == "lite" and report["engines"]["effects"] == "lite"
    assert any("embedded engines" in note and "--profile gpu" in note for note in report["notes"])
    assert (out / "mix.wav").exists() and (out / "casting.png").exists()


def test_see_hear_and_cast_one_stage_at_a_time(tmp_path: Path, capsys):
    from PIL import Image
    from skimage import data

    picture = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()).save(picture)
    assert run(["see", str(picture), "--cue", "make it melancholic", "--out", str(tmp_path)]) == 0
    sheet = json.loads((tmp_path / "sheet.json").read_text())
    assert sheet["cue"] == "make it melancholic" and "melanchol" in sheet["mood_description"].lower()
    assert run(["hear", str(tmp_path / "sheet.json"), "--out", str(tmp_path), "--quiet"]) == 0
    wavs = sorted((tmp_path / "effects").glob("*.wav"))
    ids = [v["id"] for source in sheet["sound_sources"] for v in source["variants"]]
    assert sorted(p.stem for p in wavs) == sorted(ids)
    assert run(["cast", *map(str, wavs), "--out", str(tmp_path / "cast")]) == 0
    casting = json.loads((tmp_path / "cast" / "casting.json").read_text())
    assert set(casting["choices"]) == {"drums", "bass", "guitar", "keyboard"}
    assert (tmp_path / "cast" / "casting.png").exists()


def test_see_refuses_a_non_image_plainly(tmp_path: Path, capsys):
    fake = tmp_path / "notes.png"
    fake.write_text("this is text, not a picture")
    assert run(["see", str(fake), "--out", str(tmp_path)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "notes.png" in err or "image" in err.lower()
    assert "Traceback" not in err and not (tmp_path / "sheet.json").exists()


def test_see_prints_what_the_sheet_says_as_text_not_markup(tmp_path: Path, capsys):
    from PIL import Image
    from skimage import data

    picture = tmp_path / "coffee.png"
    Image.fromarray(data.coffee()).save(picture)
    assert run(["see", str(picture), "--out", str(tmp_path / "[bold]out")]) == 0
    printed = "".join(capsys.readouterr().out.split())  # long lines wrap at the terminal's width
    sheet = json.loads((tmp_path / "[bold]out" / "sheet.json").read_text())
    variant = sheet["sound_sources"][0]["variants"][0]
    assert "".join(f"[{', '.join(variant['timbre'])}]".split()) in printed  # the timbre list, brackets and all
    assert "[bold]out" in printed
