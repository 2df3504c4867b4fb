"""Parts for running AudioLDM2 in tests and benches without downloads: tokenizers trained locally, the CLAP feature
extractor of the published checkpoint, a pipeline built at tiny or full size with random weights, a small sheet."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.sheet import SoundSheet


def local_tokenizers(directory: Path, corpus: list[str], *, bpe_vocab: int = 400, unigram_vocab: int = 150,
                     max_length: int = 256):
    """A byte-level BPE RoBERTa tokenizer (CLAP) and a Unigram T5 tokenizer, both built from ``corpus``."""
    from tokenizers.implementations import ByteLevelBPETokenizer, SentencePieceUnigramTokenizer
    from transformers import RobertaTokenizerFast, T5TokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus, vocab_size=bpe_vocab, min_frequency=1,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    bpe.save_model(str(directory))
    vocab = json.loads((Path(directory) / "vocab.json").read_text())
    merges = [tuple(line.split()) for line in (Path(directory) / "merges.txt").read_text().splitlines()[1:] if line]
    roberta = RobertaTokenizerFast(vocab=vocab, merges=merges, model_max_length=max_length)

    unigram = SentencePieceUnigramTokenizer()
    unigram.train_from_iterator(corpus, vocab_size=unigram_vocab, special_tokens=["<pad>", "</s>", "<unk>"],
                                unk_token="<unk>")
    t5 = T5TokenizerFast(
        tokenizer_object=unigram._tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", extra_ids=0,
        model_max_length=max_length,
    )
    return roberta, t5


CORPUS = [
    "The sound of a wooden spoon tapping a ceramic bowl in a quiet kitchen.",
    "Rain dripping on a metal roof, calm evening, natural non-musical sound effect.",
    "Wind blowing through tall grass, realistic field recording.",
    "music, melody, singing, speech, talking, voice, low quality, noise, static, distortion",
    "glass bottle clinking, footsteps on gravel, fire crackling, birds chirping, a fridge humming",
]


def checkpoint_clap_feature_extractor(**overrides):
    """cvssp/audioldm2's CLAP feature extractor: the unfused CLAP takes one mel channel cut with ``rand_trunc``
    (transformers' default, ``fusion``, stacks four), from 50 Hz up."""
    from transformers import ClapFeatureExtractor

    settings = {"truncation": "rand_trunc", "padding": "repeatpad", "frequency_min": 50, "frequency_max": 14000,
                "feature_size": 64, "sampling_rate": 48000, "hop_length": 480, "max_length_s": 10,
                "fft_window_size": 1024}
    return ClapFeatureExtractor(**{**settings, **overrides})


def build_audioldm2(directory: Path, *, full_size: bool = False, device: str = "cpu", seed: int = 0) -> Path:
    """Save an AudioLDM2 pipeline with random weights (:func:`audioldm2_components`) into ``directory/pipeline``."""
    import torch
    from diffusers import AudioLDM2Pipeline

    components = audioldm2_components(directory, full_size=full_size, device=device, seed=seed)
    pipe = AudioLDM2Pipeline(**components)
    if full_size:
        pipe = pipe.to(dtype=torch.float16)
    params = sum(p.numel() for m in components.values() if isinstance(m, torch.nn.Module) for p in m.parameters())
    pipe.save_pretrained(directory / "pipeline")
    (directory / "pipeline" / "PARAMETERS").write_text(str(params))
    return directory / "pipeline"


def audioldm2_components(directory: Path, *, full_size: bool = False, device: str = "cpu", seed: int = 0) -> dict:
    """AudioLDM2's components with random weights and the classes of cvssp/audioldm2 (tokenizers saved under
    ``directory``), for ``AudioLDM2Pipeline(**components)``.

    Full size follows the published checkpoint (UNet 128*(1,2,3,5) channels with GPT-2 and FLAN-T5-large
    cross-attention, VAE 128*(1,2,4) with 8 latent channels, HiFi-GAN 16 kHz with 64 mels, unfused CLAP HTSAT +
    RoBERTa-base, FLAN-T5-large encoder, GPT-2 base; 1.1 B parameters, saved in fp16); tiny keeps every class and
    the CLAP configuration at widths of 16 to 32 (saved in fp32).
    """
    import torch
    from diffusers import (
        AudioLDM2ProjectionModel,
        AudioLDM2UNet2DConditionModel,
        AutoencoderKL,
        DDIMScheduler,
    )
    from transformers import (
        ClapAudioConfig,
        ClapConfig,
        ClapModel,
        ClapTextConfig,
        GPT2Config,
        GPT2LMHeadModel,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
        T5Config,
        T5EncoderModel,
    )

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if full_size:
        roberta, t5 = local_tokenizers(directory, CORPUS, bpe_vocab=600, unigram_vocab=200, max_length=128)
    else:
        roberta, t5 = local_tokenizers(directory, CORPUS)
    torch.manual_seed(seed)
    with torch.device(device):  # random initialisation of the full size is much faster on a GPU
        if full_size:
            unet = AudioLDM2UNet2DConditionModel(
                sample_size=256, in_channels=8, out_channels=8, layers_per_block=2,
                block_out_channels=(128, 256, 384, 640),
                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
                cross_attention_dim=([None, 768, 1024],) * 4,
            )
            vae = AutoencoderKL(
                in_channels=1, out_channels=1, latent_channels=8, layers_per_block=2, block_out_channels=(128, 256, 512),
                down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
            )
            clap = ClapModel(ClapConfig(projection_dim=512))  # RoBERTa-base text tower, unfused HTSAT audio tower
            t5_encoder = T5EncoderModel(
                T5Config(vocab_size=32128, d_model=1024, d_ff=2816, d_kv=64, num_heads=16, num_layers=24,
                         feed_forward_proj="gated-gelu")
            )
            language_model = GPT2LMHeadModel(GPT2Config(n_embd=768, n_layer=12, n_head=12, n_positions=1024))
            language_model.config.max_new_tokens = 8
            projection = AudioLDM2ProjectionModel(text_encoder_dim=512, text_encoder_1_dim=1024, langauge_model_dim=768)
            vocoder = SpeechT5HifiGan(
                SpeechT5HifiGanConfig(
                    model_in_dim=64, sampling_rate=16000, upsample_initial_channel=1024, upsample_rates=[5, 4, 2, 2, 2],
                    upsample_kernel_sizes=[16, 16, 8, 4, 4], resblock_kernel_sizes=[3, 7, 11],
                    resblock_dilation_sizes=[[1, 3, 5]] * 3, normalize_before=False,
                )
            )
            feature_extractor = checkpoint_clap_feature_extractor()
            scheduler = DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.0015, beta_end=0.0195, clip_sample=False)
        else:
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
                bos_token_id=0, eos_token_id=2, pad_token_id=1, hidden_size=16, intermediate_size=37,
                num_attention_heads=2, num_hidden_layers=2, vocab_size=len(roberta), projection_dim=16,
            )
            audio_config = ClapAudioConfig(  # unfused, one mel channel, like the checkpoint's
                spec_size=64, window_size=4, num_mel_bins=64, intermediate_size=37, depths=[2, 2],
                num_attention_heads=[2, 2], num_hidden_layers=2, hidden_size=192, projection_dim=16, patch_size=2,
                patch_stride=2, enable_fusion=False, patch_embed_input_channels=1,
            )
            clap = ClapModel(ClapConfig(text_config=text_config.to_dict(), audio_config=audio_config.to_dict(),
                                        projection_dim=16))
            t5_encoder = T5EncoderModel(T5Config(vocab_size=len(t5), d_model=32, d_ff=37, d_kv=8, num_heads=2,
                                                 num_layers=2))
            language_model = GPT2LMHeadModel(GPT2Config(n_embd=16, n_head=2, n_layer=2, vocab_size=64, n_positions=512,
                                                        bos_token_id=0, eos_token_id=0))
            language_model.config.max_new_tokens = 4
            projection = AudioLDM2ProjectionModel(text_encoder_dim=16, text_encoder_1_dim=32, langauge_model_dim=16)
            vocoder = SpeechT5HifiGan(
                SpeechT5HifiGanConfig(
                    model_in_dim=8, sampling_rate=16000, upsample_initial_channel=16, upsample_rates=[8, 8],
                    upsample_kernel_sizes=[16, 16], resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
                    normalize_before=False, initializer_range=0.3,  # audible output from random weights
                )
            )
            # A long hop keeps the spectrogram as small as the tiny audio tower (61 frames, stretched to 64).
            feature_extractor = checkpoint_clap_feature_extractor(hop_length=7900)
            scheduler = DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, clip_sample=False)
    return {"unet": unet, "vae": vae, "text_encoder": clap, "text_encoder_2": t5_encoder, "tokenizer": roberta,
            "tokenizer_2": t5, "feature_extractor": feature_extractor, "language_model": language_model,
            "projection_model": projection, "vocoder": vocoder, "scheduler": scheduler}


def five_variant_sheet() -> SoundSheet:
    sources = [
        ("wooden spoon", "wood", "tapping a ceramic bowl", ["dry", "short"]),
        ("metal roof", "metal", "rain dripping on it", ["bright"]),
        ("tall grass", "", "rustling in the wind", ["soft"]),
        ("glass bottle", "glass", "clinking against another", ["clear", "ringing"]),
        ("campfire", "wood", "crackling", ["warm"]),
    ]
    return SoundSheet.from_raw(
        {
            "scene_description": "A quiet kitchen by an open window on a rainy evening.",
            "mood_description": "calm and homely",
            "sound_sources": [
                {"name": n, "material": m, "variants": [{"play_method": p, "timbre": t, "confidence": 0.9}]}
                for n, m, p, t in sources
            ],
        },
        engine="test",
    )


def build_tiny_stable_audio(directory: Path, *, seed: int = 0) -> Path:
    """Save a tiny Stable Audio Open pipeline with random weights (the component classes of
    stabilityai/stable-audio-open-1.0: Oobleck VAE, T5 encoder, DiT, cosine DPM-Solver) at 8 kHz stereo, up to
    0.256 s of audio."""
    import torch
    from diffusers import (
        AutoencoderOobleck,
        CosineDPMSolverMultistepScheduler,
        StableAudioDiTModel,
        StableAudioPipeline,
        StableAudioProjectionModel,
    )
    from transformers import T5Config, T5EncoderModel

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _, t5 = local_tokenizers(directory, CORPUS)
    torch.manual_seed(seed)
    transformer = StableAudioDiTModel(
        sample_size=64, in_channels=4, num_layers=2, attention_head_dim=8, num_attention_heads=2,
        num_key_value_attention_heads=1, out_channels=4, cross_attention_dim=16, time_proj_dim=8,
        global_states_input_dim=32, cross_attention_input_dim=16,  # start and end seconds, 16 each
    )
    vae = AutoencoderOobleck(
        encoder_hidden_size=6, downsampling_ratios=[4, 8], decoder_channels=6, decoder_input_channels=4,
        audio_channels=2, channel_multiples=[1, 2], sampling_rate=8000,
    )
    text_encoder = T5EncoderModel(T5Config(vocab_size=len(t5), d_model=16, d_ff=32, d_kv=8, num_heads=2, num_layers=2))
    projection = StableAudioProjectionModel(text_encoder_dim=16, conditioning_dim=16, min_value=0, max_value=32)
    scheduler = CosineDPMSolverMultistepScheduler(solver_order=2, prediction_type="v_prediction", sigma_data=1.0,
                                                  sigma_schedule="exponential")
    pipe = StableAudioPipeline(vae=vae, text_encoder=text_encoder, projection_model=projection, tokenizer=t5,
                               transformer=transformer, scheduler=scheduler)
    pipe.save_pretrained(directory / "pipeline")
    return directory / "pipeline"
