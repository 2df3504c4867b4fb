"""Instruments built ahead while the worker is idle: the likely trades first, never while a stage runs, and a remap
that was guessed builds nothing itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.remap_prep import RemapPreparer, likely_moves
from jobs.runner import WavePipeline
from pipeline.instruments.cache import InstrumentCache
from pipeline.play import PlayOptions, play
from pipeline.report import PlayReport, SessionReport
from pipeline.types import EffectInput, Session
from wave_core.engines import play_options
from wave_core.settings import Settings
from wave_testing.recorded_band import band_effects, casting, short_song

ENOUGH_S = 300  # a bound for a stuck thread, not a speed target


@pytest.fixture
def effects(sample) -> list[EffectInput]:
    return band_effects(sample)


@pytest.fixture
def song(tmp_path: Path) -> str:
    return short_song(tmp_path)


def report_for(assignment: dict[Session, str]) -> PlayReport:
    return PlayReport.model_validate({
        "song": {"id": "s", "title": "S", "composer": "-", "public_domain_basis": "-", "key": "C", "tempo_bpm": 120.0,
                 "duration_s": 4.0},
        "sessions": {s: SessionReport(effect=e, effect_name=e, reason="cast") for s, e in assignment.items()},
        "mix_compressed": "mix.mp3", "stems": {}, "duration_s": 4.0, "loudness_lufs": -14.0, "true_peak_dbtp": -1.0,
        "timings_s": {},
    })


def test_the_likeliest_remaps_come_first(effects, sample) -> None:
    bench = EffectInput(id="bench-sound", path=sample("bd_haus"), name="bench")
    moves = [(effect.id, session.value) for effect, session in likely_moves([*effects, bench], report_for(casting(effects)))]
    assert moves[:4] == [("bd-haus", "bass"), ("perc-door", "drums"), ("bd-haus", "guitar"), ("ambi-glass-rub", "drums")]
    assert len(moves) == 12 + 4  # both sides of the six trades, then the bench's sound in each part
    assert moves[-4:] == [("bench-sound", s) for s in ("drums", "bass", "guitar", "keyboard")]
    playing = {(effect, session.value) for session, effect in casting(effects).items()}
    assert not playing & set(moves)


def test_a_remap_built_ahead_builds_no_instrument(tmp_path, effects, song) -> None:
    settings = Settings(profile="lite", data_dir=tmp_path / "data", artifacts_dir=tmp_path / "artifacts",
                        database_url=f"sqlite+aiosqlite:///{tmp_path}/wave.db", remap_prepare_instruments=2)
    pipeline = WavePipeline(settings)
    try:
        first = casting(effects)
        pipeline.play(effects, song, tmp_path / "v1", mood="", seed=0, overrides=first, progress=lambda *_: None)
        assert pipeline.remap_preparer.wait_idle(ENOUGH_S)
        assert pipeline.remap_preparer.built == 2  # the drums' and the bass's sounds trading parts

        misses = pipeline.instrument_cache.misses
        moved = dict(first)
        moved[Session.DRUMS], moved[Session.BASS] = first[Session.BASS], first[Session.DRUMS]
        report = pipeline.play(effects, song, tmp_path / "v2", mood="", seed=0, overrides=moved,
                               progress=lambda *_: None)
        assert pipeline.instrument_cache.misses == misses
        assert report.sessions[Session.DRUMS].effect == first[Session.BASS]
        assert report.stems_reused == [Session.GUITAR, Session.KEYBOARD]
        # built ahead from copies of the sounds, reused stems and all: the mix of a fresh render of that casting
        fresh = play(effects, song, tmp_path / "fresh", options=play_options(settings), overrides=moved)
        assert (tmp_path / "v2" / report.mix).read_bytes() == (tmp_path / "fresh" / fresh.mix).read_bytes()
    finally:
        pipeline.close()


def test_nothing_is_built_while_a_stage_runs(tmp_path, effects) -> None:
    cache = InstrumentCache(tmp_path / "cache")
    preparer = RemapPreparer(cache, limit=1)
    try:
        with preparer.paused():
            assert preparer.plan(effects, report_for(casting(effects)), PlayOptions(sample_rate=22050)) == 1
            assert not preparer.wait_idle(0.2)  # cannot become idle while paused, however long it waits
            assert preparer.built == 0 and cache.entries() == []
        assert preparer.wait_idle(ENOUGH_S)
        assert preparer.built == 1 and len(cache.entries()) == 1
        # planned again: already in the cache, nothing to build
        assert preparer.plan(effects, report_for(casting(effects)), PlayOptions(sample_rate=22050)) == 0
    finally:
        preparer.close()
    assert preparer.plan(effects, report_for(casting(effects)), PlayOptions(sample_rate=22050)) == 0  # closed


def test_copies_and_builds_go_in_the_worker_scratch_folder(tmp_path, effects) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    preparer = RemapPreparer(InstrumentCache(tmp_path / "cache"), limit=1, scratch_dir=scratch)
    try:
        with preparer.paused():
            assert preparer.plan(effects, report_for(casting(effects)), PlayOptions(sample_rate=22050)) == 1
            copies = [path for path in scratch.rglob("*") if path.is_file()]
            assert copies and all(path.parent.name.startswith("wave-remap-prep-") for path in copies)
        assert preparer.wait_idle(ENOUGH_S) and preparer.built == 1
    finally:
        preparer.close()


def test_sounds_gone_before_planning_are_only_logged(tmp_path, effects) -> None:
    gone = [effect.model_copy(update={"path": tmp_path / f"{effect.id}.flac"}) for effect in effects]
    preparer = RemapPreparer(InstrumentCache(tmp_path / "cache"), limit=4)
    try:
        assert preparer.plan(gone, report_for(casting(gone)), PlayOptions()) == 0
        assert preparer.wait_idle(ENOUGH_S) and preparer.built == 0
    finally:
        preparer.close()
