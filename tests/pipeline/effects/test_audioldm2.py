"""The audioldm2 engine on a tiny AudioLDM2 pipeline with random weights, built and saved here, loaded through
WAVE's own loading path (or handed over in memory with ``from_components`` where loading is not the point).
Tokenizers are trained locally (byte-level BPE for CLAP's RoBERTa, Unigram for T5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from pipeline.effects import get_effects_engine
from pipeline.effects.audioldm2 import AudioLDM2EffectsEngine, RankedAudioLDM2Pipeline
from pipeline.effects.prompts import NEGATIVE_PROMPT
from pipeline.errors import WaveEngineError
from wave_testing.audioldm2_parts import audioldm2_components, five_variant_sheet

SECONDS = 0.25


class CountingEngine(AudioLDM2EffectsEngine):
    """The real engine, counting how often it runs the pipeline."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.batches: list[int] = []

    def render(self, requests, progress):
        self.batches.append(len(requests))
        return super().render(requests, progress)


def _engine(tiny_audioldm2_dir: Path, cache: Path, device: str = "cpu", **options) -> CountingEngine:
    return CountingEngine(
        model_id=str(tiny_audioldm2_dir), device=device, steps=3, seconds=SECONDS, waveforms_per_prompt=2,
        effects_cache_dir=cache, **options,
    )


def test_generates_one_ranked_effect_per_variant_in_one_batch(tiny_audioldm2_dir: Path, tmp_path: Path) -> None:
    engine = _engine(tiny_audioldm2_dir, tmp_path / "cache")
    sheet = five_variant_sheet()
    events: list[float] = []
    paths = engine.generate(sheet, tmp_path / "out", seed=7, progress=lambda _m, f: events.append(f))

    assert isinstance(engine.pipe, RankedAudioLDM2Pipeline)
    assert type(engine.pipe.language_model).__name__ == "GPT2LMHeadModel"
    assert type(engine.pipe.scheduler).__name__ == "DPMSolverMultistepScheduler"
    assert engine.pipe.unet.dtype == torch.float32  # fp32 on CPU
    assert engine.batches == [5]  # all variants in one pipeline call
    # CLAP ranked each prompt's own two candidates, best first.
    scores = engine.pipe.last_scores
    assert scores is not None and tuple(scores.shape) == (5, 2)
    assert bool(torch.all(scores[:, 0] >= scores[:, 1]))

    variants = [v for _, v in sheet.variants()]
    assert set(paths) == {v.id for v in variants}
    seeds = set()
    for variant in variants:
        info = sf.info(str(paths[variant.id]))
        assert paths[variant.id] == tmp_path / "out" / f"{variant.id}.wav"
        assert (info.samplerate, info.channels) == (16000, 1)
        assert 0.05 < info.duration <= SECONDS + 0.01
        audio, _ = sf.read(paths[variant.id])
        assert np.isfinite(audio).all() and 0.5 < np.max(np.abs(audio)) <= 10 ** (-1 / 20) + 1e-3
        assert variant.effect_engine == "audioldm2" and variant.effect_model == str(tiny_audioldm2_dir)
        assert variant.prompt and variant.play_method in variant.prompt and "non-musical" in variant.prompt
        assert isinstance(variant.seed, int)
        seeds.add(variant.seed)
    assert len(seeds) == 5
    assert events[-1] == 1.0 and any(0 < f < 1 for f in events)


def _in_memory(directory: Path) -> AudioLDM2EffectsEngine:
    return AudioLDM2EffectsEngine.from_components(
        audioldm2_components(directory), device="cpu", steps=3, seconds=SECONDS, waveforms_per_prompt=2,
        effects_cache_dir=None,
    )


def test_components_in_memory_make_effects_like_a_loaded_pipeline(tmp_path: Path) -> None:
    engine = _in_memory(tmp_path / "parts")
    pipe = engine.pipe
    assert isinstance(pipe, RankedAudioLDM2Pipeline) and type(pipe.scheduler).__name__ == "DPMSolverMultistepScheduler"
    sheet = five_variant_sheet()
    first = engine.generate(sheet, tmp_path / "a", seed=4)
    again = engine.generate(sheet, tmp_path / "b", seed=4)
    assert set(first) == {v.id for _, v in sheet.variants()}
    assert pipe.last_scores is not None and tuple(pipe.last_scores.shape) == (5, 2)
    for key in first:
        np.testing.assert_allclose(sf.read(first[key])[0], sf.read(again[key])[0], atol=2e-4)


def test_ranking_matches_clap_scores_of_own_candidates(tmp_path: Path) -> None:
    """The best candidate handed back for a prompt is the one CLAP scores highest among that prompt's own."""
    pipe = _in_memory(tmp_path).pipe
    prompts = ["wind blowing through tall grass", "a glass bottle clinking", "fire crackling"]
    candidates = torch.randn(6, 4000, generator=torch.Generator().manual_seed(3))
    ranked = pipe.score_waveforms(prompts, candidates, 2, torch.device("cpu"), torch.float32)
    for i in range(3):
        own = {candidates[2 * i].numpy().tobytes(), candidates[2 * i + 1].numpy().tobytes()}
        assert {ranked[2 * i].numpy().tobytes(), ranked[2 * i + 1].numpy().tobytes()} == own


def test_same_seed_same_effects_and_cache_skips_pipeline(tiny_audioldm2_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _engine(tiny_audioldm2_dir, cache)
    sheet = five_variant_sheet()
    paths = first.generate(sheet, tmp_path / "a", seed=3)
    assert first.batches == [5]

    again = _engine(tiny_audioldm2_dir, cache)
    sheet_again = five_variant_sheet()
    paths_again = again.generate(sheet_again, tmp_path / "b", seed=3)
    assert again.batches == [] and again._pipe is None  # every effect came from the cache; nothing was loaded
    for key in paths:
        assert sf.read(paths[key])[0].tolist() == sf.read(paths_again[key])[0].tolist()
    assert [v.seed for _, v in sheet.variants()] == [v.seed for _, v in sheet_again.variants()]

    # Without a cache, the same seed gives the same sounds; another seed gives others.
    fresh = _engine(tiny_audioldm2_dir, None)
    repeat = fresh.generate(five_variant_sheet(), tmp_path / "c", seed=3)
    other = fresh.generate(five_variant_sheet(), tmp_path / "d", seed=4)
    assert fresh.batches == [5, 5]
    key = next(iter(paths))
    np.testing.assert_allclose(sf.read(repeat[key])[0], sf.read(paths[key])[0], atol=2e-4)
    assert not np.allclose(sf.read(other[key])[0][:1000], sf.read(paths[key])[0][:1000], atol=1e-3)


def test_negative_prompt_is_sent_for_every_variant(tiny_audioldm2_dir: Path, tmp_path: Path) -> None:
    engine = _engine(tiny_audioldm2_dir, None)
    seen: dict = {}
    original = engine.pipe.__call__

    class Recording(type(engine.pipe)):
        def __call__(self, *args, **kwargs):
            seen.update(kwargs)
            return original(*args, **kwargs)

    engine.pipe.__class__ = Recording
    engine.generate(five_variant_sheet(), tmp_path / "out", seed=0)
    assert seen["negative_prompt"] == [NEGATIVE_PROMPT] * 5 and len(seen["prompt"]) == 5
    assert seen["num_waveforms_per_prompt"] == 2 and seen["num_inference_steps"] == 3


def test_missing_model_offline_gives_clear_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    engine = get_effects_engine(
        "audioldm2", model_id="wave-tests/no-such-audioldm2", device="cpu", cache_dir=tmp_path / "hub",
        effects_cache_dir=None,
    )
    with pytest.raises(WaveEngineError) as caught:
        engine.generate(five_variant_sheet(), tmp_path / "out")
    message = caught.value.user_message
    assert "WAVE_AUDIOLDM2_MODEL" in message and "hf download wave-tests/no-such-audioldm2" in message
    assert "Traceback" not in message

    local = get_effects_engine("audioldm2", model_id=str(tmp_path / "empty"), device="cpu", effects_cache_dir=None)
    with pytest.raises(WaveEngineError, match="local directory"):
        local.load()


@pytest.mark.gpu
def test_batched_generation_on_cuda_in_fp16(tiny_audioldm2_dir: Path, tmp_path: Path) -> None:
    engine = CountingEngine(model_id=str(tiny_audioldm2_dir), device="cuda", steps=3, seconds=SECONDS, effects_cache_dir=None)
    assert engine.waveforms_per_prompt == 2  # the CUDA default
    sheet = five_variant_sheet()
    paths = engine.generate(sheet, tmp_path / "out", seed=1)
    assert engine.pipe.unet.dtype == torch.float16 and engine.batches == [5]
    assert engine.pipe.last_scores is not None and tuple(engine.pipe.last_scores.shape) == (5, 2)
    for path in paths.values():
        info = sf.info(str(path))
        assert (info.samplerate, info.channels) == (16000, 1)


# ------------------------------------------------------------------------------------- CLAP as in the checkpoint


def test_clap_is_unfused_with_rand_trunc_and_its_features_are_made_on_the_device(tiny_audioldm2_dir: Path) -> None:
    """The checkpoint's unfused CLAP takes one mel channel cut with rand_trunc; the engine computes those features
    with torch where the pipeline runs, and they equal transformers' numpy extractor's."""
    pipe = _engine(tiny_audioldm2_dir, None).pipe
    extractor = pipe.feature_extractor
    assert (extractor.truncation, extractor.frequency_min) == ("rand_trunc", 50)
    assert pipe.text_encoder.config.audio_config.enable_fusion is False

    audio = torch.randn(3, extractor.sampling_rate * 2, generator=torch.Generator().manual_seed(1)) * 0.3
    from pipeline.effects.clap_features import log_mel_features

    expected = extractor(list(audio.numpy()), return_tensors="pt", sampling_rate=extractor.sampling_rate)
    features = log_mel_features(audio, extractor)
    assert features.shape == expected.input_features.shape and features.shape[1] == 1
    torch.testing.assert_close(features, expected.input_features.float(), atol=1e-3, rtol=1e-4)


def test_one_candidate_per_effect_skips_clap(tiny_audioldm2_dir: Path, tmp_path: Path, monkeypatch) -> None:
    engine = _engine(tiny_audioldm2_dir, None)
    engine.waveforms_per_prompt = 1
    calls = []
    monkeypatch.setattr(engine.pipe.text_encoder, "forward", lambda *a, **k: calls.append(k))
    engine.generate(five_variant_sheet(), tmp_path / "out", seed=2)
    assert engine.batches == [5] and calls == [] and engine.pipe.last_scores is None


# ------------------------------------------------------------------------------------ unusable model output


def test_a_nan_effect_is_remade_once_with_a_new_seed(tiny_audioldm2_dir: Path, tmp_path: Path) -> None:
    from pipeline.effects.prompts import retry_seed

    class FirstOutputBroken(CountingEngine):
        def render(self, requests, progress):
            audios = super().render(requests, progress)
            if len(self.batches) == 1:
                audios[2] = np.full_like(audios[2], np.nan)
            return audios

    engine = FirstOutputBroken(model_id=str(tiny_audioldm2_dir), device="cpu", steps=3, seconds=SECONDS,
                               waveforms_per_prompt=2, effects_cache_dir=tmp_path / "cache")
    sheet = five_variant_sheet()
    reference = five_variant_sheet()
    _engine(tiny_audioldm2_dir, None).generate(reference, tmp_path / "reference", seed=5)
    paths = engine.generate(sheet, tmp_path / "out", seed=5)

    assert engine.batches == [5, 1]
    variants, first_try = [v for _, v in sheet.variants()], [v for _, v in reference.variants()]
    assert variants[2].seed == retry_seed(first_try[2].seed)
    assert [v.seed for i, v in enumerate(variants) if i != 2] == [v.seed for i, v in enumerate(first_try) if i != 2]
    audio, _ = sf.read(paths[variants[2].id])
    assert np.isfinite(audio).all() and np.max(np.abs(audio)) > 0.5


def test_a_model_that_makes_nan_twice_fails_clearly(tiny_audioldm2_dir: Path, tmp_path: Path) -> None:
    engine = _engine(tiny_audioldm2_dir, None)
    with torch.no_grad():
        for parameter in engine.pipe.vocoder.parameters():
            parameter.fill_(float("nan"))

    with pytest.raises(WaveEngineError) as caught:
        engine.generate(five_variant_sheet(), tmp_path / "out", seed=0)

    assert engine.batches == [5, 5]
    message = caught.value.user_message
    assert "twice" in message and "NaN" in message and "wave models check" in message
    assert not list((tmp_path / "out").glob("*.wav"))


# ------------------------------------------------------------------------------------------------- loading


class ConnectionRecorder:
    """Stands in for socket connections: records every address asked for and refuses it."""

    def __init__(self) -> None:
        self.addresses: list = []

    def __call__(self, sock, address):
        self.addresses.append(address)
        raise OSError("network disabled in this test")


def test_missing_weights_fail_at_once_without_asking_the_hub(monkeypatch, tmp_path: Path) -> None:
    import socket

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    recorder = ConnectionRecorder()
    monkeypatch.setattr(socket.socket, "connect", recorder)
    monkeypatch.setattr(socket.socket, "connect_ex", recorder)
    engine = get_effects_engine("audioldm2", model_id="wave-tests/no-such-audioldm2", device="cpu",
                                cache_dir=tmp_path / "hub", effects_cache_dir=None)

    with pytest.raises(WaveEngineError) as caught:
        engine.load()

    assert recorder.addresses == []
    assert "wave models download --profile gpu" in caught.value.user_message


def test_weights_on_disk_load_without_the_network(tiny_audioldm2_dir: Path, monkeypatch) -> None:
    import socket

    recorder = ConnectionRecorder()
    monkeypatch.setattr(socket.socket, "connect", recorder)
    engine = _engine(tiny_audioldm2_dir, None).load()
    assert engine.pipe is not None and recorder.addresses == []


def test_warm_up_runs_the_model_once(tiny_audioldm2_dir: Path) -> None:
    engine = _engine(tiny_audioldm2_dir, None)
    calls = []
    original = RankedAudioLDM2Pipeline.__call__
    engine.load()

    class Recording(RankedAudioLDM2Pipeline):
        def __call__(self, *args, **kwargs):
            calls.append(kwargs)
            return original(self, *args, **kwargs)

    engine.pipe.__class__ = Recording
    assert engine.warm_up() is engine
    assert len(calls) == 1 and calls[0]["num_inference_steps"] == 2
