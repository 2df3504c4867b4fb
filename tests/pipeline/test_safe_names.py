"""Ids from data are slugs and files named from data stay in their folder: the sheet model, the path helper,
the artifact store and `wave hear` with hostile variant ids."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from jobs.store import FileArtifactStore
from pipeline.errors import WaveInputError
from pipeline.safe_names import UnsafeNameError, check_slug, is_slug, safe_child
from pipeline.sheet import SoundSheet
from wave_app.cli import EXIT_INPUT, run


def hostile_ids(tmp_path: Path) -> list[str]:
    return [
        "../../x",
        str(tmp_path / "absolute-target"),
        "/tmp/x",
        "a/b",
        "a\\b",
        "..",
        ".",
        "",
        " ",
        "x" * 300,
        "x" * 65,
        "door-1\x00.wav",
        "line\nbreak",
        "Door-1",  # upper case
        "-door",
        "door-",
        "\u2215etc\u2215passwd",  # division slash
        "\uff0e\uff0e\uff0fx",  # fullwidth dots and slash
        "door\u202e1",  # right-to-left override
        "d\u043e\u043er",  # Cyrillic o
        "\u212aey",  # Kelvin sign, which folds to k
    ]


def sheet_data(variant_ids: list[str]) -> dict:
    return {
        "scene_description": "A kitchen in the morning.",
        "mood_description": "calm",
        "engine": "test",
        "sound_sources": [
            {"name": f"thing {i}", "material": "wood", "variants": [{"id": vid, "play_method": "tapped"}]}
            for i, vid in enumerate(variant_ids)
        ],
    }


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


# --------------------------------------------------------------------------------------------- slugs and paths


def test_slugs_are_plain_lowercase_ascii():
    for good in ["door-1", "a", "rain_on_roof-2-3", "x" * 64, "7"]:
        assert is_slug(good) and check_slug(good) == good
    for bad in ["", "x" * 65, "Door", "door 1", "door/1", "-x", "x-", "é", None, 12, "door\n"]:
        assert not is_slug(bad)
        with pytest.raises(UnsafeNameError, match="lowercase letters"):
            check_slug(bad, "variant id")


def test_safe_child_keeps_plain_names_in_their_folder(tmp_path: Path):
    assert safe_child(tmp_path, "door-1.wav") == tmp_path / "door-1.wav"
    assert safe_child(tmp_path / "not-yet", "x.wav") == tmp_path / "not-yet" / "x.wav"
    assert safe_child(tmp_path, "..hidden but plain") == tmp_path / "..hidden but plain"


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "../../x.wav", "/tmp/x", "/", "a/b", "a\\b",
                                  "x\x00y", "tab\there", "x" * 256])
def test_safe_child_refuses_names_that_leave_the_folder(tmp_path: Path, name: str):
    with pytest.raises(UnsafeNameError, match="Refused to write"):
        safe_child(tmp_path, name)


def test_safe_child_refuses_a_link_pointing_outside(tmp_path: Path):
    folder = tmp_path / "out"
    folder.mkdir()
    os.symlink(tmp_path / "elsewhere.wav", folder / "door-1.wav")
    with pytest.raises(UnsafeNameError, match="outside"):
        safe_child(folder, "door-1.wav")


def test_unsafe_names_are_input_errors():
    # The CLI exits 2 and workers fail the job at once for these: they are the caller's data, not a passing fault.
    assert issubclass(UnsafeNameError, WaveInputError) and UnsafeNameError.permanent


def test_artifact_store_refuses_keys_that_leave_its_root(tmp_path: Path):
    store = FileArtifactStore(tmp_path / "store")
    key = store.put_bytes(b"hello", ".txt")
    assert store.read_bytes(key) == b"hello"
    (tmp_path / "secret.txt").write_text("secret")
    for bad in ["../secret.txt", "/etc/passwd", "..", "ab/../../secret.txt", "se/../secret.txt", "", "a/", "/a",
                f"{key[:2]}/.tmp-x", f"{key}/..", "..\x00/x"]:
        assert not store.exists(bad)
        with pytest.raises(KeyError):
            store.open_path(bad)
        with pytest.raises(KeyError):
            store.delete(bad)
    assert (tmp_path / "secret.txt").exists()


# ------------------------------------------------------------------------------------------------ sheet model


def test_sheet_model_refuses_ids_that_are_not_slugs(tmp_path: Path):
    for bad in hostile_ids(tmp_path):
        data = sheet_data(["door-1", "door-2", "door-3", "door-4", bad])
        with pytest.raises(ValidationError, match="variant id"):
            SoundSheet.model_validate(data)


def test_sheet_model_refuses_repeated_ids():
    with pytest.raises(ValidationError, match="share the id 'door-1'"):
        SoundSheet.model_validate(sheet_data(["door-1", "door-2", "door-3", "door-4", "door-1"]))


def test_vision_output_ids_become_slugs(tmp_path: Path):
    """What a model writes as an id is made into a slug (or replaced when nothing usable is left)."""
    raw = sheet_data(hostile_ids(tmp_path)[:12])
    for source in raw["sound_sources"]:
        source["variants"][0]["confidence"] = 0.9
    sheet = SoundSheet.from_raw(raw, engine="lite")
    ids = [v.id for _, v in sheet.variants()]
    assert len(ids) == len(set(ids)) == 12
    assert all(is_slug(i) for i in ids), ids
    assert "x" in ids and "a-b" in ids  # "../../x" and "a/b", normalised
    assert SoundSheet.model_validate_json(sheet.to_json()).variants()  # what the engines write loads again


def test_loading_a_sheet_with_a_hostile_id_says_which(tmp_path: Path):
    path = tmp_path / "sheet.json"
    path.write_text(json.dumps(sheet_data(["door-1", "door-2", "door-3", "door-4", "../../x"])))
    with pytest.raises(WaveInputError, match=r"variant id '\.\./\.\./x' is not allowed"):
        SoundSheet.load(path)


# ------------------------------------------------------------------------------------------------- wave hear


@pytest.mark.parametrize("index", range(21))
def test_wave_hear_refuses_hostile_ids_and_writes_nothing_outside_out(tmp_path: Path, capsys, index: int):
    bad = hostile_ids(tmp_path)[index]
    work = tmp_path / "work"
    (work / "deep" / "er").mkdir(parents=True)
    sheet = work / "sheet.json"
    sheet.write_text(json.dumps(sheet_data(["door-1", "door-2", "door-3", "door-4", bad])))
    before = files_under(tmp_path)
    out = work / "deep" / "er" / "out"

    code = run(["hear", str(sheet), "--out", str(out), "--engine", "lite", "--quiet"])

    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_INPUT
    assert "variant id" in err and "not allowed" in err and "Traceback" not in err
    assert {p for p in files_under(tmp_path) - before if out not in p.parents and p != out} == set()
    assert not Path("/tmp/x").exists() or Path("/tmp/x").stat().st_mtime < sheet.stat().st_mtime


def test_effects_engine_never_writes_outside_its_folder(tmp_path: Path):
    """A sheet changed in code after validation still cannot steer a file out of the effects folder."""
    from pipeline.effects.lite import LiteEffectsEngine

    sheet = SoundSheet.model_validate(sheet_data(["door-1", "door-2", "door-3", "door-4", "door-5"]))
    sheet.sound_sources[4].variants[0].id = "../escaped"
    out = tmp_path / "out" / "effects"
    with pytest.raises(UnsafeNameError, match="escaped"):
        LiteEffectsEngine(effects_cache_dir=None).generate(sheet, out)
    assert not (tmp_path / "out" / "escaped.wav").exists()
    assert {p.name for p in tmp_path.rglob("*.wav")} <= {f"door-{i}.wav" for i in range(1, 5)}
