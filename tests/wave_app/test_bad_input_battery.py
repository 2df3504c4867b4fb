"""A battery of bad input through the `wave` command (the real parser, in this process) and through `wave submit`
(real Redis and SQLite). Every case must stop with exit code 2 and one plain message naming the problem: no
traceback, no "something went wrong", and nothing written outside the case's own folder."""

from __future__ import annotations

import io
import json
import struct
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from wave_app import ops
from wave_app.cli import EXIT_INPUT, run
from wave_core import settings as settings_module
from wave_core.settings import Settings
from wave_testing.disk_faults import fill_disk
from wave_testing.services import REDIS_TEST_URL

CACHED_SETTINGS = settings_module.get_settings  # the real, cached reader: cleared around every case

GOOD_SHEET = {
    "scene_description": "A kitchen in the morning.",
    "mood_description": "calm",
    "sound_sources": [
        {"name": f"thing {i}", "material": "wood", "variants": [{"id": f"thing-{i}", "play_method": "tapped"}]}
        for i in range(5)
    ],
}


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    raw = bytearray(png(Image.new("P", (16, 16))))
    raw[16:24] = struct.pack(">II", width, height)
    raw[29:33] = struct.pack(">I", zlib.crc32(bytes(raw[12:29])))
    return bytes(raw)


def sheet_with_id(variant_id) -> dict:
    sheet = json.loads(json.dumps(GOOD_SHEET))
    sheet["sound_sources"][4]["variants"][0]["id"] = variant_id
    return sheet


def wav_bytes(rate: int = 44100) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, (0.4 * np.sin(np.arange(8000) / 5)).astype(np.float32), 44100, format="WAV", subtype="PCM_16")
    data = bytearray(buffer.getvalue())
    data[24:28] = struct.pack("<I", rate)
    return bytes(data)


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


@dataclass
class Case:
    """``argv`` gets the case's folder and returns the command line; ``files`` are written there first."""

    name: str
    argv: Callable[[Path], list[str]]
    says: str
    files: dict[str, bytes | str | None] = field(default_factory=dict)  # None: a folder
    env: dict[str, str] = field(default_factory=dict)
    submit: bool = False
    full_disk: bool = False


def files(**named) -> dict[str, bytes | str | None]:
    return {name.replace("__", "."): value for name, value in named.items()}


def see(image: str, *extra: str) -> Callable[[Path], list[str]]:
    return lambda d: ["see", str(d / image), "--out", str(d / "out"), *extra]


def hear(sheet: str = "sheet.json", *extra: str) -> Callable[[Path], list[str]]:
    return lambda d: ["hear", str(d / sheet), "--out", str(d / "out"), "--engine", "lite", "--quiet", *extra]


def play(*effects: str, song: str = "auto", extra: tuple[str, ...] = ()) -> Callable[[Path], list[str]]:
    def argv(d: Path) -> list[str]:
        song_arg = str(d / song) if song.endswith((".mid", ".midi")) else song
        return ["play", "--effects", *(str(d / e) for e in effects), "--song", song_arg, "--out", str(d / "out"),
                "--quiet", *extra]

    return argv


def submit(image: str, *extra: str, song: str = "auto") -> Callable[[Path], list[str]]:
    return lambda d: ["submit", str(d / image), "--song", song, *extra]


PHOTO = png(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)))
WAV = wav_bytes()
JPEG = jpeg_bytes()
FOUR = files(a__wav=WAV, b__wav=wav_bytes(22050), c__wav=WAV, d__wav=WAV)

CLI_CASES = [
    # pictures
    Case("picture missing", see("nowhere.png"), "not found"),
    Case("picture is a folder", see("folder"), "is a folder, not a picture", files(folder=None)),
    Case("picture empty", see("e.png"), "is empty", files(e__png=b"")),
    Case("picture is text", see("t.png"), "not an image WAVE can read", files(t__png="hello, not a picture")),
    Case("picture is a PDF", see("d.pdf"), "is a PDF document", files(d__pdf=b"%PDF-1.7\n1 0 obj\n")),
    Case("picture is SVG", see("v.svg"), "SVG is a vector format", files(v__svg=b"<svg xmlns='x'></svg>")),
    Case("picture is a web page", see("w.png"), "is a web page", files(w__png=b"<!DOCTYPE html><html></html>")),
    Case("picture is PostScript", see("p.eps"), "PostScript", files(p__eps=b"%!PS-Adobe-3.0 EPSF-3.0\n")),
    Case("picture cut short (PNG)", see("c.png"), "could not be read", files(c__png=PHOTO[: len(PHOTO) // 2])),
    Case("picture cut short (JPEG)", see("c.jpg"), "could not be read",
         files(c__jpg=JPEG[: len(JPEG) // 2])),
    Case("picture header claims 20000x20000", see("bomb.png"), "too many pixels",
         files(bomb__png=png_claiming(20000, 20000))),
    Case("picture over 64 megapixels", see("big.png"), "9000x8000", files(big__png=png_claiming(9000, 8000))),
    Case("picture too small", see("tiny.png"), "too small", files(tiny__png=png(Image.new("RGB", (8, 8))))),
    Case("picture over 20 MiB", see("huge.png"), "too large", files(huge__png=b"\x89PNG" + bytes(21 * 2**20))),
    Case("picture is HEIC", see("h.heic"), "HEIC",
         files(h__heic=b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64))),
    Case("cue too long", see("p.png", "--cue", "x" * 201), "The cue is too long", files(p__png=PHOTO)),
    # sheets
    Case("sheet missing", hear("none.json"), "is not a WAVE sound sheet"),
    Case("sheet is a folder", hear("folder"), "is a folder, not a WAVE sound sheet", files(folder=None)),
    Case("sheet too large", hear(), "too large for a WAVE sound sheet", files(sheet__json=" " * (2 * 2**20))),
    Case("sheet not JSON", hear(), "is not a WAVE sound sheet", files(sheet__json="{ this is not json")),
    Case("sheet is a list", hear(), "is not a WAVE sound sheet", files(sheet__json="[1, 2, 3]")),
    Case("sheet without sources", hear(), "sound_sources", files(sheet__json=json.dumps({"scene_description": "x",
                                                                                          "mood_description": "y"}))),
    Case("variant id ../../x", hear(), "variant id", files(sheet__json=json.dumps(sheet_with_id("../../x")))),
    Case("variant id /tmp/x", hear(), "variant id", files(sheet__json=json.dumps(sheet_with_id("/tmp/x")))),
    Case("variant id a/b", hear(), "variant id", files(sheet__json=json.dumps(sheet_with_id("a/b")))),
    Case("variant id with fullwidth dots", hear(), "variant id",
         files(sheet__json=json.dumps(sheet_with_id("\uff0e\uff0e\uff0fx")))),
    Case("variant id empty", hear(), "variant id", files(sheet__json=json.dumps(sheet_with_id("")))),
    Case("variant id overlong", hear(), "variant id", files(sheet__json=json.dumps(sheet_with_id("x" * 300)))),
    Case("variant id not text", hear(), "variant id", files(sheet__json=json.dumps(sheet_with_id(["x"])))),
    Case("variant ids repeated", hear(), "share the id", files(sheet__json=json.dumps(sheet_with_id("thing-0")))),
    Case("variant without play_method", hear(), "play_method",
         files(sheet__json=json.dumps({**GOOD_SHEET, "sound_sources": [
             {"name": "x", "variants": [{"id": "x-1", "play_method": ""}]}]}))),
    Case("seed out of range", hear("sheet.json", "--seed", "-1"), "out of range",
         files(sheet__json=json.dumps(GOOD_SHEET))),
    # effects and songs
    Case("effect missing", play("a.wav", "gone.wav"), "not found", FOUR),
    Case("effect is not audio", play("a.wav", "t.wav"), "not a sound file", {**FOUR, "t.wav": "text"}),
    Case("effect empty", play("a.wav", "e.wav"), "is empty", {**FOUR, "e.wav": b""}),
    Case("effect claims 2 GHz", play("a.wav", "r.wav"), "sample rate", {**FOUR, "r.wav": wav_bytes(2_000_000_000)}),
    Case("unknown song", play("a.wav", "c.wav", song="no_such_song"), "no song called", FOUR),
    Case("MIDI file missing", play("a.wav", "c.wav", song="gone.mid"), "was not found", FOUR),
    Case("MIDI file broken", play("a.wav", "c.wav", song="bad.mid"), "not a readable MIDI file",
         {**FOUR, "bad.mid": b"MThd\x00\x00\x00\x06\x00\x01"}),
    Case("cast names no session", play("a.wav", "c.wav", extra=("--cast", "flute=a")), "--cast", FOUR),
    Case("cast without effect", play("a.wav", "c.wav", extra=("--cast", "bass")), "--cast", FOUR),
    Case("render unknown song", lambda d: ["render", "--song", "no_such_song", "--out", str(d / "out"), "--quiet"],
         "no song called"),
    Case("out is an existing file", lambda d: ["see", str(d / "p.png"), "--out", str(d / "p.png")],
         "--out takes a folder", files(p__png=PHOTO)),
    Case("bad profile setting", hear(), "WAVE_PROFILE='bogus'", files(sheet__json=json.dumps(GOOD_SHEET)),
         env={"WAVE_PROFILE": "bogus"}),
    Case("bad number setting", hear(), "WAVE_SAMPLE_RATE", files(sheet__json=json.dumps(GOOD_SHEET)),
         env={"WAVE_SAMPLE_RATE": "lots"}),
    Case("full disk", hear(), "The disk is full", files(sheet__json=json.dumps(GOOD_SHEET)), full_disk=True),
]

SUBMIT_CASES = [
    Case("submit: picture missing", submit("nowhere.png"), "not found", submit=True),
    Case("submit: picture is a folder", submit("folder"), "is a folder, not a picture", files(folder=None),
         submit=True),
    Case("submit: picture empty", submit("e.png"), "is empty", files(e__png=b""), submit=True),
    Case("submit: not a picture", submit("t.png"), "not an image WAVE can read", files(t__png="text"), submit=True),
    Case("submit: header claims 20000x20000", submit("b.png"), "too many pixels",
         files(b__png=png_claiming(20000, 20000)), submit=True),
    Case("submit: over 20 MiB", submit("h.png"), "too large", files(h__png=b"\x89PNG" + bytes(21 * 2**20)),
         submit=True),
    Case("submit: unknown song", submit("p.png", song="no_such_song"), "Unknown song", files(p__png=PHOTO),
         submit=True),
    Case("submit: song is a path", submit("p.png", song="../../etc/passwd"), "Unknown song", files(p__png=PHOTO),
         submit=True),
    Case("submit: cue over 300 characters", submit("p.png", "--cue", "y" * 301), "The cue is too long",
         files(p__png=PHOTO), submit=True),
    Case("submit: cut-short picture", submit("c.png"), "could not be read", files(c__png=PHOTO[:200]), submit=True),
    Case("submit: full disk", submit("p.png"), "The disk is full", files(p__png=PHOTO), submit=True,
         full_disk=True),
]


def test_the_battery_is_large_enough():
    kinds = {case.name.removeprefix("submit: ") for case in CLI_CASES + SUBMIT_CASES}
    assert len(CLI_CASES) >= 40 and len(SUBMIT_CASES) >= 10 and len(kinds) >= 40


def snapshot(root: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in root.rglob("*")}


@pytest.mark.parametrize("case", CLI_CASES + SUBMIT_CASES, ids=lambda c: c.name)
def test_bad_input_gets_a_clear_message(case: Case, tmp_path: Path, monkeypatch, capsys):
    work = tmp_path / "case"
    work.mkdir()
    for name, content in case.files.items():
        if content is None:
            (work / name).mkdir()
        else:
            (work / name).write_bytes(content.encode() if isinstance(content, str) else content)
    monkeypatch.chdir(work)  # anything written to a relative default lands in the case's folder
    data = work / "data"
    settings = Settings(profile="lite", data_dir=data, database_url=f"sqlite+aiosqlite:///{data}/wave.db",
                        artifacts_dir=data / "artifacts", redis_url=REDIS_TEST_URL,
                        queue_prefix=f"wavetest-{uuid.uuid4().hex[:10]}")
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    CACHED_SETTINGS.cache_clear()
    if not case.env:
        monkeypatch.setattr(settings_module, "get_settings", lambda: settings)
        monkeypatch.setattr(ops, "get_settings", lambda: settings)
    if case.full_disk:
        fill_disk(monkeypatch, work)
    before = snapshot(tmp_path)

    try:
        code = run(case.argv(work))
    except SystemExit as stopped:  # argparse refuses a value it has a type check for
        code = stopped.code
    finally:
        CACHED_SETTINGS.cache_clear()

    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert code == EXIT_INPUT, err
    assert case.says in err or case.says in err.replace(" ", ""), err
    assert "error" in err and "Traceback" not in captured.err and "something went wrong" not in err
    assert "Logging error" not in captured.err
    changed = {p for p, mtime in snapshot(tmp_path).items() if before.get(p) != mtime}
    allowed = (work / "out", data)
    assert {p for p in changed if not any(p == a or a in p.parents for a in allowed)} <= {work}, changed
    assert not list(work.rglob(".tmp-*"))
