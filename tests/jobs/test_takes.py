"""Which sounds a new version made again, from the takes its report keeps."""

from __future__ import annotations

from types import SimpleNamespace

from jobs.takes import TAKES_REPORT_KEY, renewed_sounds, takes_of


def sound(variant_id: str, effect_key: str | None, play_method: str = "tapped") -> SimpleNamespace:
    return SimpleNamespace(variant_id=variant_id, effect_key=effect_key, play_method=play_method)


def report(*sounds: SimpleNamespace) -> dict:
    return {"sessions": {}, TAKES_REPORT_KEY: takes_of(sounds)}


def test_a_new_file_or_an_edited_play_method_is_a_new_take():
    before = report(sound("cup-1", "aa/1.wav"), sound("door-1", "bb/2.wav"), sound("kettle-1", "cc/3.wav"))
    after = report(sound("cup-1", "dd/4.wav"), sound("door-1", "bb/2.wav", "slammed"), sound("kettle-1", "cc/3.wav"))
    assert renewed_sounds(after, before) == {"cup-1", "door-1"}
    assert renewed_sounds(before, before) == set()


def test_sounds_without_a_file_and_reports_without_takes_change_nothing():
    assert takes_of([sound("cup-1", None)]) == {}
    assert renewed_sounds(report(sound("cup-1", "aa/1.wav")), {"sessions": {}}) == set()
    assert renewed_sounds(report(sound("cup-1", "aa/1.wav")), None) == set()
    assert renewed_sounds(report(sound("cup-1", "aa/1.wav")), report()) == set()  # a sound new to this version
