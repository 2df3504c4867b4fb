"""The effects stage around the engines: prompts, the cache, finishing, and choosing an engine."""

from __future__ import annotations

import builtins
import sys

import numpy as np
import pytest

from pipeline.effects import get_effects_engine
from pipeline.effects.cache import EffectCache, effect_key
from pipeline.effects.postprocess import finish_effect
from pipeline.effects.prompts import (
    MAX_PROMPT_WORDS,
    NEGATIVE_PROMPT,
    build_prompt,
    build_prompts,
    variant_seed,
)
from pipeline.effects.words import Material, SoundFamily, classify_family, classify_material, read_timbre
from pipeline.engines import EngineUnavailableError
from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.sheet import SoundSheet


def kitchen_sheet(scene: str = "A sunny kitchen with an open window. A kettle sits on the stove.") -> SoundSheet:
    return SoundSheet.from_raw(
        {
            "scene_description": scene,
            "mood_description": "warm and unhurried; a lazy Sunday morning",
            "sound_sources": [
                {"name": "kettle", "material": "steel", "variants": [
                    {"play_method": "water boiling inside", "timbre": ["rumbling", "steady"], "confidence": 0.9},
                    {"play_method": "lid tapped with a spoon", "timbre": ["bright", "ringing"], "confidence": 0.8},
                ]},
                {"name": "wooden spoon", "material": "wood", "variants": [
                    {"play_method": "knocking on the counter", "timbre": ["dry"], "confidence": 0.9}]},
                {"name": "window", "material": "glass", "variants": [
                    {"play_method": "rattling in the wind", "timbre": [], "confidence": 0.75}]},
                {"name": "robin", "material": "", "variants": [
                    {"play_method": "chirping outside", "timbre": ["high"], "confidence": 0.95}]},
            ],
        },
        engine="test",
    )


# ----------------------------------------------------------------------------------------------- prompts


def test_prompt_has_detail_context_and_constraint() -> None:
    sheet = kitchen_sheet()
    source, variant = sheet.variants()[1]
    prompt = build_prompt(sheet, source, variant)
    text = prompt.text
    assert text.startswith("The sound of steel kettle lid tapped with a spoon, bright, ringing.")
    assert "A sunny kitchen with an open window" in text and "A kettle sits" not in text  # scene condensed
    assert "warm and unhurried" in text and "lazy Sunday" not in text  # mood condensed
    assert text.endswith("Natural, non-musical sound effect, realistic field recording.")
    assert prompt.negative == NEGATIVE_PROMPT
    for word in ("music", "melody", "singing", "speech", "voice", "noise", "distortion"):
        assert word in prompt.negative
    assert prompt.variant_id == variant.id and prompt.material == "steel" and prompt.timbre == ("bright", "ringing")


def test_prompts_are_deterministic_and_capped() -> None:
    assert [p.text for p in build_prompts(kitchen_sheet())] == [p.text for p in build_prompts(kitchen_sheet())]
    long_scene = "An enormous " + " ".join(["very"] * 200) + " busy market square full of stalls."
    sheet = SoundSheet.from_raw(
        {
            "scene_description": long_scene,
            "mood_description": "lively",
            "sound_sources": [
                {"name": "cart " + "x" * 70, "material": "wood", "variants": [
                    {"play_method": " ".join(["rolling"] * 25), "timbre": ["a", "b", "c", "d", "e", "f"]}]}
                for _ in range(5)
            ],
        },
        engine="test",
    )
    for prompt in build_prompts(sheet):
        assert len(prompt.text.split()) <= MAX_PROMPT_WORDS
        assert prompt.text.endswith("non-musical sound effect, realistic field recording.")
        assert prompt.text.startswith("The sound of wood cart")


def test_variant_seed_depends_on_job_seed_and_prompt_only() -> None:
    first, second = build_prompts(kitchen_sheet())[:2]
    assert variant_seed(5, first) == variant_seed(5, first)
    assert variant_seed(5, first) != variant_seed(6, first)
    assert variant_seed(5, first) != variant_seed(5, second)
    assert 0 <= variant_seed(2**62, first) < 2**31


# ------------------------------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("name", "material", "action", "family"),
    [
        ("wind chimes", "metal", "swaying in the breeze", SoundFamily.BELL),
        ("oak tree", "wood", "leaves rustling in the wind", SoundFamily.RUSTLE),
        ("field", "", "wind blowing across it", SoundFamily.WIND),
        ("kettle", "steel", "water boiling inside", SoundFamily.BUBBLES),
        ("faucet", "chrome", "dripping", SoundFamily.DRIP),
        ("jug", "ceramic", "water being poured out", SoundFamily.POUR),
        ("brook", "", "flowing over pebbles", SoundFamily.STREAM),
        ("hiker", "", "footsteps on a gravel path", SoundFamily.FOOTSTEPS),
        ("robin", "", "chirping", SoundFamily.CHIRP),
        ("bee", "", "buzzing between flowers", SoundFamily.BUZZ),
        ("refrigerator", "metal", "running quietly", SoundFamily.MACHINE),
        ("transformer", "metal", "humming", SoundFamily.HUM),
        ("espresso machine", "machine", "hum and hiss of the steam wand", SoundFamily.HISS),
        ("keyboard keys", "plastic", "tap as someone types", SoundFamily.CLICK),
        ("cat", "animal", "purr while asleep", SoundFamily.CHIRP),
        ("fireplace", "brick", "logs crackling", SoundFamily.CRACKLE),
        ("sea", "", "waves breaking on the shore", SoundFamily.WAVES),
        ("chair", "wood", "dragged across the floor", SoundFamily.SCRAPE),
        ("drum", "skin", "struck with a mallet", SoundFamily.IMPACT),
        ("statue", "marble", "", SoundFamily.IMPACT),  # nothing to go on: something struck
        ("Gegenstand", "Stoff", "zzz qqq", SoundFamily.IMPACT),  # words no rule knows
    ],
)
def test_words_map_to_families(name: str, material: str, action: str, family: SoundFamily) -> None:
    assert classify_family(" ".join([name, material, action]), action=action, name=name) == family


def test_materials_and_timbre_words() -> None:
    assert classify_material("stainless steel", "") == Material.METAL
    assert classify_material("", "a wine glass on the table") == Material.GLASS
    assert classify_material("porcelain", "") == Material.CERAMIC
    assert classify_material("", "a granite boulder") == Material.STONE
    assert classify_material("", "something unknown") == Material.WOOD
    bright, dark = read_timbre("bright sharp"), read_timbre("dark muffled soft")
    assert bright.brightness > 0 > dark.brightness and bright.attack > dark.attack
    assert read_timbre("deep heavy").pitch < 1 < read_timbre("tiny high").pitch
    assert read_timbre("ringing hollow").decay > 1 > read_timbre("short dry").decay
    assert read_timbre("").model_dump() == {"brightness": 0.0, "pitch": 1.0, "decay": 1.0, "attack": 0.0, "roughness": 0.0}


# ------------------------------------------------------------------------------------------------- cache


def test_cache_key_covers_everything_that_decides_the_sound(tmp_path) -> None:
    base = dict(engine="audioldm2", model="m", prompt="p", negative_prompt="n", seed=1, seconds=5.0, steps=25)
    keys = {effect_key(**base)}
    for field, other in (("engine", "lite"), ("model", "m2"), ("prompt", "p2"), ("negative_prompt", "n2"), ("seed", 2), ("seconds", 4.0), ("steps", 50)):
        keys.add(effect_key(**{**base, field: other}))
    assert len(keys) == 8 and effect_key(**base) == effect_key(**base)

    cache = EffectCache(tmp_path / "cache")
    key = effect_key(**base)
    assert cache.get(key) is None
    audio = np.sin(np.linspace(0, 200, 1600)).astype(np.float32) * 0.5
    stored = cache.put(key, audio, 16000)
    assert cache.get(key) == stored and stored.parent.parent == tmp_path / "cache"
    assert not list(stored.parent.glob("*.tmp*")) and len(list(stored.parent.iterdir())) == 1
    copy = cache.copy_to(key, tmp_path / "out" / "x.wav")
    assert copy.read_bytes() == stored.read_bytes()


# ------------------------------------------------------------------------------------------- postprocess


def test_finish_trims_cleans_and_levels() -> None:
    rate = 16000
    t = np.arange(rate) / rate
    tone = (0.05 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    raw = np.concatenate([np.zeros(rate // 2, np.float32), tone, np.zeros(rate // 2, np.float32)])
    raw[rate // 2 + 100] = np.nan
    out = finish_effect(raw, rate)
    assert np.isfinite(out).all()
    assert 0.95 < len(out) / rate < 1.05  # half a second of silence trimmed at each end
    assert np.max(np.abs(out)) <= 10 ** (-1 / 20) + 1e-6
    assert abs(out[0]) < 1e-3 and abs(out[-1]) < 1e-3  # faded edges
    import pyloudnorm

    assert abs(pyloudnorm.Meter(rate).integrated_loudness(out.astype(np.float64)) - (-20)) < 0.5

    resampled = finish_effect(raw, rate, 44100)
    assert 0.95 < len(resampled) / 44100 < 1.05

    stereo = np.stack([raw, raw], axis=1)
    assert finish_effect(stereo, rate).ndim == 1
    silent = finish_effect(np.zeros(rate, np.float32), rate)
    assert not silent.any()


# ------------------------------------------------------------------------------------------------ engines


def test_unknown_engine_is_an_engine_error_naming_the_choices() -> None:
    with pytest.raises(EngineUnavailableError, match="lite, audioldm2"):
        get_effects_engine("stable-audio")


def test_audioldm2_without_the_models_extra_says_what_to_install(monkeypatch) -> None:
    real_import = builtins.__import__

    def no_diffusers(name, *args, **kwargs):
        if name == "diffusers" or name.startswith("diffusers."):
            raise ImportError("No module named 'diffusers'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "pipeline.effects.audioldm2", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_diffusers)
    with pytest.raises(WaveEngineError) as caught:
        get_effects_engine("audioldm2")
    assert "install the models extra" in caught.value.user_message


def test_empty_sheet_and_bad_seed_are_input_errors(tmp_path) -> None:
    engine = get_effects_engine("lite", effects_cache_dir=None)
    with pytest.raises(WaveInputError):
        engine.generate(kitchen_sheet(), tmp_path, seed=-1)
    with pytest.raises(WaveInputError):
        engine.generate({"not": "a sheet"}, tmp_path)  # type: ignore[arg-type]
