"""What every effects engine does, run over each engine in ``pipeline.effects.EFFECTS``: one playable WAV per
variant at the engine's sample rate, the same files for the same seed, progress that reaches the end, and a
WaveInputError for a sheet or seed it cannot use. A new engine adds one subclass here (the last test fails until
it does)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipeline.effects import EFFECTS, EffectsEngine, get_effects_engine
from pipeline.errors import WaveInputError
from pipeline.sheet import SoundSheet
from wave_testing.audioldm2_parts import five_variant_sheet
from wave_testing.contracts import engines_without_contract

TINY_SECONDS = 0.25
TINY_STEPS = 3


class EffectsEngineContract:
    """The contract; subclasses set ``engine_name`` and override the ``engine`` fixture (built without a cache,
    so every call renders)."""

    engine_name: str
    seed = 7

    @pytest.fixture(scope="class")
    def engine(self) -> EffectsEngine:
        raise NotImplementedError

    @pytest.fixture(scope="class")
    def made(self, engine, tmp_path_factory) -> tuple[SoundSheet, dict[str, Path], list[tuple[str, float]]]:
        sheet, steps = five_variant_sheet(), []
        paths = engine.generate(sheet, tmp_path_factory.mktemp("made"), seed=self.seed,
                                progress=lambda message, fraction: steps.append((message, fraction)))
        return sheet, paths, steps

    def test_the_engine_is_registered_under_its_name(self, engine):
        assert engine.name == self.engine_name
        assert isinstance(engine, EFFECTS.loader(self.engine_name)) and isinstance(engine, EffectsEngine)
        assert engine.cache is None

    def test_every_variant_gets_a_playable_wav_at_the_engines_rate(self, engine, made):
        sheet, paths, _ = made
        assert set(paths) == {variant.id for _, variant in sheet.variants()}
        for _, variant in sheet.variants():
            audio, rate = sf.read(paths[variant.id], always_2d=True)
            assert rate == engine.sample_rate and audio.shape[1] == 1
            assert 0 < len(audio) <= rate * (engine.seconds + 0.01)
            assert np.isfinite(audio).all() and np.max(np.abs(audio)) > 0.01
            assert variant.effect_engine == self.engine_name

    def test_the_same_seed_gives_the_same_audio(self, engine, made, tmp_path):
        _, first, _ = made
        again = engine.generate(five_variant_sheet(), tmp_path, seed=self.seed)
        assert set(again) == set(first)
        for variant_id, path in first.items():
            assert np.array_equal(sf.read(again[variant_id])[0], sf.read(path)[0]), variant_id

    def test_progress_moves_forward_and_reaches_the_end(self, made):
        _, _, steps = made
        fractions = [fraction for _, fraction in steps]
        assert len(fractions) >= 2 and all(isinstance(message, str) and message for message, _ in steps)
        assert fractions[0] == 0.0 and fractions[-1] == 1.0
        assert all(0.0 <= f <= 1.0 for f in fractions) and fractions == sorted(fractions)

    def test_a_sheet_without_sounds_is_an_input_error(self, engine, tmp_path):
        with pytest.raises(WaveInputError):
            engine.generate(SoundSheet.model_construct(sound_sources=[]), tmp_path)
        with pytest.raises(WaveInputError):
            engine.generate("not a sheet", tmp_path)

    @pytest.mark.parametrize("seed", [-1, 2**63])
    def test_a_seed_out_of_range_is_an_input_error(self, engine, tmp_path, seed):
        with pytest.raises(WaveInputError):
            engine.generate(five_variant_sheet(), tmp_path, seed=seed)


class TestLiteEffects(EffectsEngineContract):
    engine_name = "lite"

    @pytest.fixture(scope="class")
    def engine(self) -> EffectsEngine:
        return get_effects_engine("lite", effects_cache_dir=None)


class TestAudioLDM2Effects(EffectsEngineContract):
    """A tiny AudioLDM2 pipeline with random weights."""

    engine_name = "audioldm2"

    @pytest.fixture(scope="class")
    def engine(self, tiny_audioldm2_dir) -> EffectsEngine:
        return get_effects_engine("audioldm2", model_id=str(tiny_audioldm2_dir), device="cpu", steps=TINY_STEPS,
                                  seconds=TINY_SECONDS, effects_cache_dir=None)


class TestStableAudioEffects(EffectsEngineContract):
    """A tiny Stable Audio Open pipeline with random weights."""

    engine_name = "stable_audio"

    @pytest.fixture(scope="class")
    def engine(self, tiny_stable_audio_dir) -> EffectsEngine:
        return get_effects_engine("stable_audio", model_id=str(tiny_stable_audio_dir), device="cpu",
                                  steps=TINY_STEPS, seconds=TINY_SECONDS, effects_cache_dir=None)


def test_every_effects_engine_has_a_contract_subclass():
    assert engines_without_contract(EFFECTS, EffectsEngineContract) == []
