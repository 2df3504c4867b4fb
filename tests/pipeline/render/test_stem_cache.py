"""The stem cache: a remap plays and shapes only the parts whose sound changed, its mix is byte for byte the mix of
a full render of the same casting, and the cache stays within its budget."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from pipeline.mix import placement
from pipeline.play import play
from pipeline.render import Sampler, StemCache
from pipeline.render.stem_cache import instrument_digest, stem_key
from pipeline.types import EffectInput, Instrument, Note, Part, Session
from wave_testing.recorded_band import band_effects, casting, short_song, swapped


@pytest.fixture
def effects(sample) -> list[EffectInput]:
    return band_effects(sample)


@pytest.fixture
def song(tmp_path: Path) -> str:
    return short_song(tmp_path)


@pytest.fixture
def work_done(monkeypatch) -> dict[str, Counter]:
    """Which sessions the sampler played and which roles the mix shaped (the real functions still run)."""
    done: dict[str, Counter] = {"played": Counter(), "shaped": Counter()}
    render_into = Sampler.render_into
    role_tonal_eq = placement.role_tonal_eq

    def counted_render_into(self, channels, part, sample_rate, voices=None):
        done["played"][self.instrument.session.value] += 1
        return render_into(self, channels, part, sample_rate, voices)

    def counted_role_tonal_eq(stem, role, fixed, sample_rate):
        done["shaped"][role.value] += 1
        return role_tonal_eq(stem, role, fixed, sample_rate)

    monkeypatch.setattr(Sampler, "render_into", counted_render_into)
    monkeypatch.setattr(placement, "role_tonal_eq", counted_role_tonal_eq)
    return done


def test_a_remap_plays_and_shapes_only_the_parts_whose_sound_changed(tmp_path, effects, song, work_done) -> None:
    cache = StemCache()
    first = casting(effects)
    report = play(effects, song, tmp_path / "v1", overrides=first, stem_cache=cache)
    assert report.stems_reused == []
    assert set(work_done["played"]) == {"drums", "bass", "guitar", "keyboard"}
    assert sum(work_done["shaped"].values()) == 4

    work_done["played"].clear()
    work_done["shaped"].clear()
    report = play(effects, song, tmp_path / "v2", overrides=swapped(first, Session.BASS, Session.KEYBOARD),
                  stem_cache=cache)
    assert report.stems_reused == [Session.DRUMS, Session.GUITAR]
    assert set(work_done["played"]) == {"bass", "keyboard"}
    assert sum(work_done["shaped"].values()) == 2  # the bass and the keyboard's parts; drums and guitar reused

    work_done["played"].clear()
    work_done["shaped"].clear()
    report = play(effects, song, tmp_path / "v3", overrides=first, stem_cache=cache)  # and back: all four known
    assert report.stems_reused == [Session.DRUMS, Session.BASS, Session.GUITAR, Session.KEYBOARD]
    assert not work_done["played"] and not work_done["shaped"]


def test_a_remap_from_the_cache_sounds_exactly_like_a_full_render(tmp_path, effects, song) -> None:
    cache = StemCache()
    first = casting(effects)
    remap = swapped(first, Session.DRUMS, Session.GUITAR)
    play(effects, song, tmp_path / "v1", overrides=first, stem_cache=cache)
    cached = play(effects, song, tmp_path / "cached", overrides=remap, stem_cache=cache)
    fresh = play(effects, song, tmp_path / "fresh", overrides=remap)
    assert cached.stems_reused == [Session.BASS, Session.KEYBOARD]
    assert cached.stems == fresh.stems
    assert (cached.loudness_lufs, cached.true_peak_dbtp) == (fresh.loudness_lufs, fresh.true_peak_dbtp)
    assert cached.production == fresh.production
    for name in [*fresh.stems.values(), fresh.mix, fresh.mix_compressed]:
        assert (tmp_path / "cached" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name


def test_a_stem_is_played_again_when_anything_that_shapes_it_changes(tmp_path, effects, sample) -> None:
    from pipeline.instruments import build_instrument

    instrument = build_instrument(effects[1], Session.BASS, tmp_path / "bass", sample_rate=22050)
    part = Part(session=Session.BASS, notes=[Note(start=0.0, end=0.5, pitch=40, velocity=90)])
    key = stem_key(instrument_digest(instrument), [part], 22050, 30000)

    moved = Instrument.load(Path(shutil.copytree(tmp_path / "bass", tmp_path / "elsewhere")))
    assert stem_key(instrument_digest(moved), [part], 22050, 30000) == key  # where it lives does not count

    louder = part.model_copy(update={"gain_db": 3.0})
    higher = part.model_copy(update={"notes": [Note(start=0.0, end=0.5, pitch=41, velocity=90)]})
    assert stem_key(instrument_digest(instrument), [louder], 22050, 30000) != key
    assert stem_key(instrument_digest(instrument), [higher], 22050, 30000) != key
    assert stem_key(instrument_digest(instrument), [part], 44100, 30000) != key
    assert stem_key(instrument_digest(instrument), [part], 22050, 30001) != key
    zone = moved.zones[0]
    audio_file = moved.sample_path(zone)
    audio_file.write_bytes(audio_file.read_bytes()[:-2] + b"\x01\x02")  # same settings, other sound
    assert stem_key(instrument_digest(moved), [part], 22050, 30000) != key
    softer = instrument.model_copy(update={"amp_veltrack": 10.0})
    assert stem_key(instrument_digest(softer), [part], 22050, 30000) != key


def test_the_cache_stays_within_its_budget_and_drops_the_least_recently_used() -> None:
    block = np.ones((2, 1000), np.float32)  # 8000 bytes
    cache = StemCache(max_bytes=3 * block.nbytes)
    for name in "abc":
        cache.put(name * 64, block * ord(name))
    assert cache.get("a" * 64) is not None  # a is now the most recently used
    cache.put("d" * 64, block)
    assert cache.nbytes <= cache.max_bytes and len(cache) == 3
    assert "b" * 64 not in cache and "a" * 64 in cache and "d" * 64 in cache

    cache.put("e" * 64, np.ones((2, 4000), np.float32))  # larger than the whole budget: not kept
    assert "e" * 64 not in cache and len(cache) == 3
    assert cache.get("e" * 64) is None and cache.misses == 1 and cache.hits == 1


def test_cached_values_cannot_be_changed_through_the_cache() -> None:
    cache = StemCache()
    audio = np.zeros((2, 10), np.float32)
    cache.put("f" * 64, (audio, -20.0, np.zeros(3)))
    audio += 1.0  # the caller goes on using its array
    stored, loudness, levels = cache.get("f" * 64)
    assert not stored.any() and loudness == -20.0
    with pytest.raises(ValueError):
        stored += 1.0
    with pytest.raises(ValueError):
        levels[0] = 1.0


def test_a_render_without_stem_files_makes_the_same_mix(tmp_path, effects, song) -> None:
    from pipeline.play import PlayOptions

    overrides = casting(effects)
    with_files = play(effects, song, tmp_path / "files", overrides=overrides)
    without = play(effects, song, tmp_path / "none", overrides=overrides, options=PlayOptions(write_stems=False))
    assert without.stems == {} and not (tmp_path / "none" / "stems").exists()
    assert (tmp_path / "none" / "casting.png").is_file()
    assert (tmp_path / "none" / without.mix).read_bytes() == (tmp_path / "files" / with_files.mix).read_bytes()
