"""The stable_audio engine on a tiny Stable Audio Open pipeline with random weights, built and saved here, loaded
through WAVE's own loading path (local files only)."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from pipeline.effects import get_effects_engine
from pipeline.effects.prompts import NEGATIVE_PROMPT
from pipeline.effects.stable_audio import StableAudioEffectsEngine
from pipeline.errors import WaveEngineError, WaveInputError
from wave_testing.audioldm2_parts import five_variant_sheet

SECONDS = 0.25


class CountingEngine(StableAudioEffectsEngine):
    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.batches: list[int] = []
        self.calls: list[dict] = []

    def render(self, requests, progress):
        self.batches.append(len(requests))
        return super().render(requests, progress)


def _engine(tiny_stable_audio_dir: Path, cache: Path | None) -> CountingEngine:
    return CountingEngine(model_id=str(tiny_stable_audio_dir), device="cpu", steps=3, seconds=SECONDS, effects_cache_dir=cache)


def test_generates_one_effect_per_variant_in_one_batch(tiny_stable_audio_dir: Path, tmp_path: Path) -> None:
    engine = _engine(tiny_stable_audio_dir, tmp_path / "cache")
    sheet = five_variant_sheet()
    paths = engine.generate(sheet, tmp_path / "out", seed=7)

    assert engine.batches == [5] and engine.pipe.transformer.dtype == torch.float32
    assert engine.render_rate == 8000
    for _, variant in sheet.variants():
        info = sf.info(str(paths[variant.id]))
        assert (info.samplerate, info.channels) == (44100, 1)  # stereo folded to mono, resampled to WAVE's rate
        assert 0.05 < info.duration <= SECONDS + 0.01
        audio, _ = sf.read(paths[variant.id])
        assert np.isfinite(audio).all() and np.max(np.abs(audio)) > 0.5
        assert variant.effect_engine == "stable_audio" and variant.effect_model == str(tiny_stable_audio_dir)
        assert "non-musical" in variant.prompt


def test_an_effect_depends_on_its_own_seed_only(tiny_stable_audio_dir: Path, tmp_path: Path) -> None:
    whole = _engine(tiny_stable_audio_dir, None).generate(five_variant_sheet(), tmp_path / "whole", seed=3)
    sheet = five_variant_sheet()
    sheet.sound_sources = sheet.sound_sources[:3]  # a smaller batch around the same first effect
    again = _engine(tiny_stable_audio_dir, None).generate(sheet, tmp_path / "again", seed=3)
    other = _engine(tiny_stable_audio_dir, None).generate(five_variant_sheet(), tmp_path / "other", seed=4)
    key = next(iter(whole))
    np.testing.assert_allclose(sf.read(again[key])[0], sf.read(whole[key])[0], atol=2e-4)
    assert not np.allclose(sf.read(other[key])[0][:500], sf.read(whole[key])[0][:500], atol=1e-3)


def test_negative_prompt_and_length_reach_the_pipeline(tiny_stable_audio_dir: Path, tmp_path: Path) -> None:
    engine = _engine(tiny_stable_audio_dir, None)
    seen: dict = {}
    original = type(engine.pipe).__call__

    class Recording(type(engine.pipe)):
        def __call__(self, *args, **kwargs):
            seen.update(kwargs)
            return original(self, *args, **kwargs)

    engine.pipe.__class__ = Recording
    engine.generate(five_variant_sheet(), tmp_path / "out", seed=0)
    assert seen["negative_prompt"] == [NEGATIVE_PROMPT] * 5 and seen["audio_end_in_s"] == SECONDS
    assert len(seen["generator"]) == 5 and seen["num_inference_steps"] == 3


def test_too_long_and_missing_weights_fail_clearly(tiny_stable_audio_dir: Path, tmp_path: Path, monkeypatch) -> None:
    long = CountingEngine(model_id=str(tiny_stable_audio_dir), device="cpu", steps=2, seconds=1.0, effects_cache_dir=None)
    with pytest.raises(WaveInputError, match="at most 0.3 s"):
        long.generate(five_variant_sheet(), tmp_path / "out")

    addresses = []
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: addresses.append(address))
    missing = get_effects_engine("stable_audio", model_id="wave-tests/no-such-stable-audio", device="cpu",
                                 cache_dir=tmp_path / "hub", effects_cache_dir=None)
    with pytest.raises(WaveEngineError) as caught:
        missing.load()
    assert addresses == [] and "wave models download --profile gpu" in caught.value.user_message
    assert "WAVE_STABLE_AUDIO_MODEL" in caught.value.user_message
