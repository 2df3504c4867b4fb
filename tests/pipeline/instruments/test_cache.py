"""The instrument cache: a remap rebuilds only the parts whose sound changed, a cached instrument plays exactly like
a fresh one, and a damaged or racing cache costs a rebuild, never a failed job."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest

from pipeline.instruments import build_instrument
from pipeline.instruments.cache import MANIFEST, InstrumentCache
from pipeline.play import play
from pipeline.types import EffectInput, Session
from wave_testing.jobs_helpers import short_song_midi
from wave_testing.recorded_band import band_effects, casting, short_song, swapped


@pytest.fixture
def effects(sample) -> list[EffectInput]:
    return band_effects(sample)


@pytest.fixture
def song(tmp_path: Path) -> str:
    return short_song(tmp_path)


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_remap_rebuilds_only_the_parts_whose_sound_changed(tmp_path, effects, song) -> None:
    cache = InstrumentCache(tmp_path / "cache")
    first = casting(effects)
    play(effects, song, tmp_path / "v1", overrides=first, instrument_cache=cache)
    assert (cache.hits, cache.misses) == (0, 4)  # a first render fills the cache

    play(effects, song, tmp_path / "v2", overrides=swapped(first, Session.BASS, Session.KEYBOARD),
         instrument_cache=cache)
    assert (cache.hits, cache.misses) == (2, 6)  # drums and guitar reused; bass and keyboard built anew
    for session in ("drums", "guitar"):
        assert digests(tmp_path / "v1" / "instruments" / session) != {}
        assert _without_json(digests(tmp_path / "v2" / "instruments" / session)) == \
            _without_json(digests(tmp_path / "v1" / "instruments" / session))

    play(effects, song, tmp_path / "v3", overrides=first, instrument_cache=cache)  # and back: nothing to build
    assert (cache.hits, cache.misses) == (6, 6)


def _without_json(files: dict[str, str]) -> dict[str, str]:
    return {name: digest for name, digest in files.items() if name != "instrument.json"}  # names its own folder


def test_a_cached_instrument_renders_exactly_like_a_fresh_one(tmp_path, effects, song) -> None:
    cache = InstrumentCache(tmp_path / "cache")
    overrides = casting(effects)
    play(effects, song, tmp_path / "fill", overrides=overrides, instrument_cache=cache)
    fresh = play(effects, song, tmp_path / "fresh", overrides=overrides)
    cached = play(effects, song, tmp_path / "cached", overrides=overrides, instrument_cache=cache)
    assert cache.hits == 4
    assert cached.stems == fresh.stems and cached.mix == fresh.mix
    for name in [*fresh.stems.values(), fresh.mix, "instruments/bass/instrument.sfz", "instruments/bass/instrument.sf2"]:
        assert (tmp_path / "cached" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name
    restored = json.loads((tmp_path / "cached" / "instruments" / "bass" / "instrument.json").read_text())
    assert Path(restored["directory"]) == tmp_path / "cached" / "instruments" / "bass"
    assert cached.sessions == fresh.sessions


def _build_once(cache: InstrumentCache, effect: EffectInput, out_dir: Path, builds: list[Path]):
    key = cache.key(effect, Session.BASS, engine="dsp", sample_rate=22050, seed=3, character=None)

    def build(directory: Path):
        builds.append(directory)
        return build_instrument(effect, Session.BASS, directory, sample_rate=22050, seed=3)

    return key, cache.instrument(key, out_dir, build)


@pytest.mark.parametrize("damage", ["truncated sample", "garbled json", "no manifest", "manifest names a path"])
def test_a_damaged_entry_is_rebuilt_and_repaired(tmp_path, effects, damage: str) -> None:
    cache = InstrumentCache(tmp_path / "cache")
    builds: list[Path] = []
    key, original = _build_once(cache, effects[1], tmp_path / "a", builds)
    entry = cache.entry(key)
    if damage == "truncated sample":
        wav = next(entry.rglob("*.wav"))
        wav.write_bytes(wav.read_bytes()[:100])
    elif damage == "garbled json":
        (entry / "instrument.json").write_text("{not json")
    elif damage == "no manifest":
        (entry / MANIFEST).unlink()
    else:
        manifest = json.loads((entry / MANIFEST).read_text())
        manifest["files"]["../../escape.wav"] = {"size": 1, "sha256": "0"}
        (entry / MANIFEST).write_text(json.dumps(manifest))

    _, rebuilt = _build_once(cache, effects[1], tmp_path / "b", builds)
    assert len(builds) == 2 and cache.misses == 2 and cache.hits == 0
    assert rebuilt.zones == original.zones
    assert _without_json(digests(tmp_path / "b")) == _without_json(digests(tmp_path / "a"))
    _, again = _build_once(cache, effects[1], tmp_path / "c", builds)  # the entry was stored again, whole
    assert len(builds) == 2 and cache.hits == 1 and again.zones == original.zones


def test_a_restored_sample_changed_in_place_is_never_served_again(tmp_path, effects) -> None:
    """Restored samples may share their file with the cache: a played copy overwritten in place makes the next
    request rebuild the instrument instead of handing out the changed sample."""
    cache = InstrumentCache(tmp_path / "cache")
    builds: list[Path] = []
    _build_once(cache, effects[1], tmp_path / "a", builds)
    _build_once(cache, effects[1], tmp_path / "b", builds)
    assert len(builds) == 1 and cache.hits == 1
    wav = next((tmp_path / "b").rglob("*.wav"))
    wav.write_bytes(bytes(wav.stat().st_size))  # same size, other content
    _build_once(cache, effects[1], tmp_path / "c", builds)
    assert len(builds) == 2
    assert _without_json(digests(tmp_path / "c")) == _without_json(digests(tmp_path / "a"))


def test_every_setting_that_shapes_an_instrument_is_in_the_key(tmp_path, effects) -> None:
    cache = InstrumentCache(tmp_path / "cache")
    effect = effects[0]
    base = dict(engine="dsp", sample_rate=44100, seed=0, character=None)
    keys = {cache.key(effect, Session.BASS, **base)}
    for change in ({"seed": 1}, {"sample_rate": 22050}, {"character": 0.5}, {"engine": "rave"}):
        keys.add(cache.key(effect, Session.BASS, **{**base, **change}))
    keys.add(cache.key(effect, Session.GUITAR, **base))
    keys.add(cache.key(effect.model_copy(update={"path": effects[1].path}), Session.BASS, **base))
    keys.add(cache.key(effect.model_copy(update={"name": "other"}), Session.BASS, **base))
    assert len(keys) == 8
    assert cache.key(effect, Session.BASS, **base) == cache.key(effect, Session.BASS, **base)
    with pytest.raises(ValueError):
        cache.entry("../" + "a" * 61)


def test_racing_builders_of_one_key_both_succeed_and_leave_one_entry(tmp_path, effects) -> None:
    cache = InstrumentCache(tmp_path / "cache")
    builds: list[Path] = []
    barrier = threading.Barrier(2)
    results = []

    def racer(name: str) -> None:
        barrier.wait()
        results.append(_build_once(cache, effects[2], tmp_path / name, builds)[1])

    threads = [threading.Thread(target=racer, args=(name,)) for name in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0].zones == results[1].zones
    assert len(cache.entries()) == 1
    assert not [p for p in (tmp_path / "cache").rglob(".tmp-*")]


def test_the_cache_keeps_under_its_size_by_dropping_the_least_recently_used(tmp_path, effects) -> None:
    cache = InstrumentCache(tmp_path / "cache")
    builds: list[Path] = []
    keys = []
    for i, effect in enumerate(effects[:3]):
        keys.append(_build_once(cache, effect, tmp_path / f"o{i}", builds)[0])
    sizes = {entry.name: size for entry, _, size in cache.entries()}
    _build_once(cache, effects[0], tmp_path / "reuse", builds)  # the first is now the most recently used
    cache.trim(max_bytes=sizes[keys[0]] + sizes[keys[2]])
    assert {entry.name for entry, _, _ in cache.entries()} == {keys[0], keys[2]}


def test_a_remap_casts_from_remembered_features_exactly_as_from_fresh_ones(tmp_path, effects, song) -> None:
    from pipeline.sessions.memo import FeatureMemo

    memo = FeatureMemo()
    first = play(effects, song, tmp_path / "v1", feature_memo=memo)
    assert (memo.hits, memo.misses) == (0, 8)  # casting and its picture, for each effect
    moved = swapped({Session(s): r.effect for s, r in first.sessions.items() if r.effect and not r.fallback},
                    Session.DRUMS, Session.BASS)
    remembered = play(effects, song, tmp_path / "v2", overrides=moved, feature_memo=memo)
    fresh = play(effects, song, tmp_path / "v3", overrides=moved)
    assert (memo.hits, memo.misses) == (8, 8)
    assert remembered.sessions == fresh.sessions
    for name in (remembered.casting, remembered.casting_png):
        assert (tmp_path / "v2" / name).read_bytes() == (tmp_path / "v3" / name).read_bytes(), name


async def test_a_remap_job_rebuilds_only_the_two_parts_it_swapped(runtime, jobs_settings) -> None:
    from db.models import JobStatus
    from jobs.client import JobsClient, SubmitRequest
    from jobs.runner import WavePipeline
    from wave_testing.jobs_helpers import picture_bytes, workers

    client = JobsClient(runtime)
    pipeline = WavePipeline(jobs_settings)
    cache = pipeline.instrument_cache
    async with workers(jobs_settings, pipeline=pipeline):
        job_id = await client.submit(SubmitRequest(image=picture_bytes(), midi=short_song_midi(), user_id="ana"))
        assert (await client.wait(job_id, timeout_s=240)).status == JobStatus.DONE
        first = await client.result(job_id)
        played = {s.session: s for s in first.sources if s.session}
        assert (cache.hits, cache.misses) == (0, len(played)) and len(played) >= 2
        await client.remap(job_id, played["drums"].variant_id, "bass")
        assert (await client.wait(job_id, timeout_s=240)).status == JobStatus.DONE
    after = await client.result(job_id)
    assert after.latest.version == 2
    moved = {s.session: s.variant_id for s in after.sources if s.session}
    assert moved["bass"] == played["drums"].variant_id and moved["drums"] == played["bass"].variant_id
    assert (cache.hits, cache.misses) == (len(played) - 2, len(played) + 2)
