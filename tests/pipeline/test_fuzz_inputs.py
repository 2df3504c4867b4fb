"""Property-based fuzzing of every reader of outside data: the sheet parser (with its JSON repair), sheet files, the
MIDI reader, image intake and the WAV reader. Whatever the bytes, each either returns a result or raises one of
WAVE's own clear errors; nothing else escapes.

Examples per test come from a hypothesis profile: ``fuzz`` (default, a few hundred each, a few thousand in all) or
``fuzz-long`` (ten times more), chosen with ``WAVE_FUZZ_PROFILE``.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from pipeline.audio import LoadedEffect, load_effect
from pipeline.errors import WaveError
from pipeline.safe_names import is_slug
from pipeline.sheet import SoundSheet
from pipeline.songs import load_midi
from pipeline.vision.intake import load_image
from pipeline.vision.jsonrepair import SheetParseError, parse_sound_sheet
from wave_testing.jobs_helpers import short_song_midi

_COMMON = {"deadline": None, "derandomize": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("fuzz", max_examples=400, **_COMMON)
settings.register_profile("fuzz-long", max_examples=3000, **_COMMON)
FUZZ = settings.get_profile(os.environ.get("WAVE_FUZZ_PROFILE", "fuzz"))

SHEET = {
    "scene_description": "A kitchen in the morning light.",
    "mood_description": "calm, homely",
    "sound_sources": [
        {"name": name, "material": material, "variants": [
            {"id": f"{name}-{j}", "play_method": method, "timbre": ["dry", "bright"],
             "mapping_to_music_instrument": hint, "confidence": 0.9}
            for j, method in enumerate(("tapped", "scraped"), start=1)]}
        for name, material, hint in (("kettle", "steel", "keyboard"), ("door", "wood", "drums"),
                                     ("tap", "brass", "bass"))
    ],
}


def _png(mode: str, size=(40, 30)) -> bytes:
    rng = np.random.default_rng(len(mode))
    image = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _encoded(fmt: str, **params) -> bytes:
    rng = np.random.default_rng(7)
    image = Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _wav(subtype: str, channels: int = 1) -> bytes:
    t = np.arange(4410) / 44100
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    audio = tone if channels == 1 else np.stack([tone] * channels, axis=1)
    buffer = io.BytesIO()
    sf.write(buffer, audio, 44100, subtype=subtype, format="WAV")
    return buffer.getvalue()


IMAGES = [_png("RGB"), _png("RGBA"), _png("P"), _png("L"), _png("1"), _encoded("JPEG", quality=80),
          _encoded("GIF"), _encoded("WEBP"), _encoded("BMP"), _encoded("TIFF")]
WAVS = [_wav("PCM_16"), _wav("PCM_24", 2), _wav("FLOAT"), _wav("PCM_U8")]
MIDI = short_song_midi(4.0)


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    """A valid file with a few bytes changed (mostly in its header), maybe cut short or with bytes inserted."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.one_of(st.integers(0, min(96, len(data) - 1)), st.integers(0, len(data) - 1)))
        data[at] = draw(st.one_of(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]), st.integers(0, 255)))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(max_size=16))
    if draw(st.integers(0, 3)) == 0:
        del data[draw(st.integers(0, len(data))):]
    return bytes(data)


def _as_file(data: bytes, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix, prefix="wave-fuzz-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return Path(name)


# -------------------------------------------------------------------------------------------- sheet parser


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                       st.text(max_size=40))
_json = st.recursive(_json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=6), st.dictionaries(st.sampled_from(
        ["id", "name", "material", "variants", "play_method", "timbre", "confidence", "sound_sources",
         "scene_description", "mood_description", "mapping_to_music_instrument", "x"]) | st.text(max_size=8),
        inner, max_size=8)), max_leaves=40)


def _paths(value, prefix=()) -> list[tuple]:
    found = [prefix] if prefix else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        found += _paths(child, (*prefix, key))
    return found


SHEET_PATHS = _paths(SHEET)


@st.composite
def sheet_like(draw) -> dict:
    """The example sheet with some of its values swapped for arbitrary JSON."""
    sheet = json.loads(json.dumps(SHEET))
    for path in draw(st.lists(st.sampled_from(SHEET_PATHS), min_size=1, max_size=6)):
        parent = sheet
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = draw(_json)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier swap removed this place
    return sheet


def _parse(text: str) -> None:
    try:
        sheet = parse_sound_sheet(text, engine="fuzz")
    except SheetParseError:
        return
    assert all(is_slug(v.id) for _, v in sheet.variants())


@FUZZ
@given(st.text(max_size=400))
def test_sheet_parser_on_any_text(text: str):
    _parse(text)


@FUZZ
@given(sheet_like(), st.sampled_from(["plain", "fenced", "cut", "prose", "single-quoted"]))
def test_sheet_parser_on_damaged_sheets(sheet: dict, dress: str):
    text = json.dumps(sheet, allow_nan=True)
    text = {"plain": text, "fenced": f"```json\n{text}\n```", "cut": text[: len(text) * 2 // 3],
            "prose": f"Here is the sheet: {text} Hope it helps!", "single-quoted": text.replace('"', "'")}[dress]
    _parse(text)


@FUZZ
@given(st.one_of(sheet_like(), _json))
def test_sheet_files_load_or_say_why(tmp_path_factory, value):
    path = tmp_path_factory.mktemp("sheet") / "sheet.json"
    path.write_text(json.dumps(value, allow_nan=True))
    try:
        sheet = SoundSheet.load(path)
    except WaveError:
        return
    assert all(is_slug(v.id) or v.id == "" for _, v in sheet.variants())


# ---------------------------------------------------------------------------------------------------- MIDI


@FUZZ
@given(st.one_of(mutated([MIDI]), st.binary(max_size=200).map(lambda b: b"MThd" + b)))
def test_midi_reader(data: bytes):
    path = _as_file(data, ".mid")
    try:
        load_midi(path)
    except WaveError:
        pass
    finally:
        path.unlink()


# --------------------------------------------------------------------------------------------------- images


@FUZZ
@given(st.one_of(mutated(IMAGES), st.binary(max_size=300)))
def test_image_intake(data: bytes):
    try:
        image = load_image(data, max_side=64)
    except WaveError:
        return
    assert image.mode == "RGB" and max(image.size) <= 64


# ------------------------------------------------------------------------------------------------------ WAV


def _effect_or_none(data: bytes) -> LoadedEffect | None:
    """The effect read from ``data`` as a WAV file, or None when WAVE refused it with its own error."""
    path = _as_file(data, ".wav")
    try:
        return load_effect(path)
    except WaveError:
        return None
    finally:
        path.unlink()


@FUZZ
@given(st.one_of(mutated(WAVS), st.binary(max_size=300).map(lambda b: b"RIFF" + b)))
def test_wav_reader(data: bytes):
    effect = _effect_or_none(data)
    if effect is not None:
        assert effect.sample_rate == 44100 and effect.audio.ndim == 1 and np.isfinite(effect.audio).all()


@FUZZ
@given(st.integers(0, 2**32 - 1), st.sampled_from(WAVS))
def test_wav_reader_with_any_sample_rate(rate: int, wav: bytes):
    """A header may claim any rate; resampling must never be asked to build a filter for an absurd one."""
    data = bytearray(wav)
    block_align = int.from_bytes(data[32:34], "little")
    data[24:28] = struct.pack("<I", rate)
    data[28:32] = struct.pack("<I", rate * block_align & 0xFFFFFFFF)
    effect = _effect_or_none(bytes(data))
    if effect is not None:
        assert effect.sample_rate == 44100 and len(effect.audio) <= 31 * 44100
