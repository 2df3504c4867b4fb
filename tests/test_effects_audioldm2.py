"""The audioldm2 engine on a tiny AudioLDM2 pipeline with random weights, built and saved here, loaded through
WAVE's own loading path. Tokenizers are trained locally (byte-level BPE for CLAP's RoBERTa, Unigram for T5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from pipeline.effects import get_effects_engine  # noqa: E402
from pipeline.effects.audioldm2 import AudioLDM2EffectsEngine, RankedAudioLDM2Pipeline  # noqa: E402
from pipeline.effects.prompts import NEGATIVE_PROMPT  # noqa: E402
from pipeline.errors import WaveEngineError  # noqa: E402

from audioldm2_parts import five_variant_sheet, local_tokenizers  # noqa: E402

CORPUS = [
    "The sound of a wooden spoon tapping a ceramic bowl in a quiet kitchen.",
    "Rain dripping on a metal roof, calm evening, natural non-musical sound effect.",
    "Wind blowing through tall grass, realistic field recording.",
    "music, melody, singing, speech, talking, voice, low quality, noise, static, distortion",
    "glass bottle clinking, footsteps on gravel, fire crackling, birds chirping, a fridge humming",
]
SECONDS = 0.25


def build_tiny_audioldm2(directory: Path) -> Path:
    """Save a tiny, randomly initialised AudioLDM2 pipeline (same component classes as cvssp/audioldm2)."""
    from diffusers import (
        AudioLDM2Pipeline,
        AudioLDM2ProjectionModel,
        AudioLDM2UNet2DConditionModel,
        AutoencoderKL,
        DDIMScheduler,
    )
    from transformers import (
        ClapAudioConfig,
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        ClapTextConfig,
        GPT2Config,
        GPT2LMHeadModel,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
        T5Config,
        T5EncoderModel,
    )

    directory.mkdir(parents=True, exist_ok=True)
    roberta, t5 = local_tokenizers(directory, CORPUS)
    torch.manual_seed(0)
    unet = AudioLDM2UNet2DConditionModel(
        block_out_channels=(16, 32), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        norm_num_groups=8, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=([None, 16, 32], [None, 16, 32]),
        attention_head_dim=4,
    )
    vae = AutoencoderKL(
        block_out_channels=[16, 32], in_channels=1, out_channels=1, norm_num_groups=8, latent_channels=4,
        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
    )
    text_config = ClapTextConfig(
        bos_token_id=0, eos_token_id=2, pad_token_id=1, hidden_size=16, intermediate_size=37, num_attention_heads=2,
        num_hidden_layers=2, vocab_size=len(roberta), projection_dim=16,
    )
    audio_config = ClapAudioConfig(
        spec_size=64, window_size=4, num_mel_bins=64, intermediate_size=37, depths=[2, 2], num_attention_heads=[2, 2],
        num_hidden_layers=2, hidden_size=192, projection_dim=16, patch_size=2, patch_stride=2,
        patch_embed_input_channels=4,
    )
    clap = ClapModel(ClapConfig(text_config=text_config.to_dict(), audio_config=audio_config.to_dict(), projection_dim=16))
    t5_encoder = T5EncoderModel(T5Config(vocab_size=len(t5), d_model=32, d_ff=37, d_kv=8, num_heads=2, num_layers=2))
    language_model = GPT2LMHeadModel(GPT2Config(n_embd=16, n_head=2, n_layer=2, vocab_size=64, n_positions=512, bos_token_id=0, eos_token_id=0))
    language_model.config.max_new_tokens = 4
    projection = AudioLDM2ProjectionModel(text_encoder_dim=16, text_encoder_1_dim=32, langauge_model_dim=16)
    vocoder = SpeechT5HifiGan(
        SpeechT5HifiGanConfig(
            model_in_dim=8, sampling_rate=16000, upsample_initial_channel=16, upsample_rates=[8, 8],
            upsample_kernel_sizes=[16, 16], resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
            normalize_before=False, initializer_range=0.3,  # audible output from random weights
        )
    )
    pipe = AudioLDM2Pipeline(
        unet=unet, vae=vae, text_encoder=clap, text_encoder_2=t5_encoder, tokenizer=roberta, tokenizer_2=t5,
        feature_extractor=ClapFeatureExtractor(hop_length=7900), language_model=language_model,
        projection_model=projection, vocoder=vocoder,
        scheduler=DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, clip_sample=False),
    )
    pipe.save_pretrained(directory / "pipeline")
    return directory / "pipeline"


class CountingEngine(AudioLDM2EffectsEngine):
    """The real engine, counting how often it runs the pipeline."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.batches: list[int] = []

    def render(self, requests, progress):
        self.batches.append(len(requests))
        return super().render(requests, progress)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_audioldm2(tmp_path_factory.mktemp("tiny-audioldm2"))


def _engine(tiny_model: Path, cache: Path, device: str = "cpu", **options) -> CountingEngine:
    return CountingEngine(
        model_id=str(tiny_model), device=device, steps=3, seconds=SECONDS, waveforms_per_prompt=2,
        effects_cache_dir=cache, **options,
    )


def test_generates_one_ranked_effect_per_variant_in_one_batch(tiny_model: Path, tmp_path: Path) -> None:
    engine = _engine(tiny_model, tmp_path / "cache")
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
        assert variant.effect_engine == "audioldm2" and variant.effect_model == str(tiny_model)
        assert variant.prompt and variant.play_method in variant.prompt and "non-musical" in variant.prompt
        assert isinstance(variant.seed, int)
        seeds.add(variant.seed)
    assert len(seeds) == 5
    assert events[-1] == 1.0 and any(0 < f < 1 for f in events)


def test_ranking_matches_clap_scores_of_own_candidates(tiny_model: Path) -> None:
    """The best candidate handed back for a prompt is the one CLAP scores highest among that prompt's own."""
    engine = _engine(tiny_model, None)
    pipe = engine.pipe
    prompts = ["wind blowing through tall grass", "a glass bottle clinking", "fire crackling"]
    candidates = torch.randn(6, 4000, generator=torch.Generator().manual_seed(3))
    ranked = pipe.score_waveforms(prompts, candidates, 2, torch.device("cpu"), torch.float32)
    for i in range(3):
        own = {candidates[2 * i].numpy().tobytes(), candidates[2 * i + 1].numpy().tobytes()}
        assert {ranked[2 * i].numpy().tobytes(), ranked[2 * i + 1].numpy().tobytes()} == own


def test_same_seed_same_effects_and_cache_skips_pipeline(tiny_model: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _engine(tiny_model, cache)
    sheet = five_variant_sheet()
    paths = first.generate(sheet, tmp_path / "a", seed=3)
    assert first.batches == [5]

    again = _engine(tiny_model, cache)
    sheet_again = five_variant_sheet()
    paths_again = again.generate(sheet_again, tmp_path / "b", seed=3)
    assert again.batches == [] and again._pipe is None  # every effect came from the cache; nothing was loaded
    for key in paths:
        assert sf.read(paths[key])[0].tolist() == sf.read(paths_again[key])[0].tolist()
    assert [v.seed for _, v in sheet.variants()] == [v.seed for _, v in sheet_again.variants()]

    # Without a cache, the same seed gives the same sounds; another seed gives others.
    fresh = _engine(tiny_model, None)
    repeat = fresh.generate(five_variant_sheet(), tmp_path / "c", seed=3)
    other = fresh.generate(five_variant_sheet(), tmp_path / "d", seed=4)
    assert fresh.batches == [5, 5]
    key = next(iter(paths))
    np.testing.assert_allclose(sf.read(repeat[key])[0], sf.read(paths[key])[0], atol=2e-4)
    assert not np.allclose(sf.read(other[key])[0][:1000], sf.read(paths[key])[0][:1000], atol=1e-3)


def test_negative_prompt_is_sent_for_every_variant(tiny_model: Path, tmp_path: Path) -> None:
    engine = _engine(tiny_model, None)
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
    assert "HF_HUB_OFFLINE=1" in message and "Traceback" not in message

    local = get_effects_engine("audioldm2", model_id=str(tmp_path / "empty"), device="cpu", effects_cache_dir=None)
    with pytest.raises(WaveEngineError, match="local directory"):
        local.load()


@pytest.mark.gpu
def test_batched_generation_on_cuda_in_fp16(tiny_model: Path, tmp_path: Path) -> None:
    engine = CountingEngine(model_id=str(tiny_model), device="cuda", steps=3, seconds=SECONDS, effects_cache_dir=None)
    assert engine.waveforms_per_prompt == 2  # the CUDA default
    sheet = five_variant_sheet()
    paths = engine.generate(sheet, tmp_path / "out", seed=1)
    assert engine.pipe.unet.dtype == torch.float16 and engine.batches == [5]
    assert engine.pipe.last_scores is not None and tuple(engine.pipe.last_scores.shape) == (5, 2)
    for path in paths.values():
        info = sf.info(str(path))
        assert (info.samplerate, info.channels) == (16000, 1)
