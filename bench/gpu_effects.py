"""Benchmark of the audioldm2 effects engine at full size on a GPU, without downloading weights.

Builds the cvssp/audioldm2 architecture from configs written here (sizes from the published checkpoint: UNet
128*(1,2,3,5) channels with GPT-2 and FLAN-T5-large cross-attention, VAE 128*(1,2,4) with 8 latent channels,
HiFi-GAN 16 kHz with 64 mels, CLAP HTSAT + RoBERTa-base, FLAN-T5-large encoder, GPT-2 base), with random weights,
saves it in fp16 and loads it through WAVE's engine (fp16, DPM-Solver multistep, CLAP ranking), then times five
5-second effects made in one batched call.

    .venv/bin/python bench/gpu_effects.py [--steps 25] [--seconds 5] [--candidates 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 2.0
CORPUS = [
    "The sound of a wooden spoon tapping a ceramic bowl in a quiet kitchen.",
    "Rain dripping on a metal roof. Natural, non-musical sound effect, realistic field recording.",
    "music, melody, singing, speech, talking, voice, low quality, noise, static, distortion",
    "wind through grass, a glass bottle clinking, footsteps on gravel, a fire crackling, a robin chirping",
]


def build_full_size(workdir: Path) -> Path:
    import torch
    from diffusers import AudioLDM2Pipeline, AudioLDM2ProjectionModel, AudioLDM2UNet2DConditionModel, AutoencoderKL, DDIMScheduler
    from transformers import (
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        GPT2Config,
        GPT2LMHeadModel,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
        T5Config,
        T5EncoderModel,
    )

    from tests.audioldm2_parts import local_tokenizers

    roberta, t5 = local_tokenizers(workdir, CORPUS, bpe_vocab=600, unigram_vocab=200, max_length=128)
    with torch.device("cuda"):  # random initialisation on the GPU is much faster than on the CPU
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
        clap = ClapModel(ClapConfig(projection_dim=512))  # RoBERTa-base text tower, HTSAT audio tower
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
    pipe = AudioLDM2Pipeline(
        unet=unet, vae=vae, text_encoder=clap, text_encoder_2=t5_encoder, tokenizer=roberta, tokenizer_2=t5,
        feature_extractor=ClapFeatureExtractor(), language_model=language_model, projection_model=projection,
        vocoder=vocoder,
        scheduler=DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.0015, beta_end=0.0195, clip_sample=False),
    ).to(dtype=torch.float16)
    params = sum(p.numel() for m in (unet, vae, clap, t5_encoder, language_model, projection, vocoder) for p in m.parameters())
    print(f"built AudioLDM2 architecture: {params / 1e9:.2f} B parameters (random weights)")
    pipe.save_pretrained(workdir / "audioldm2")
    del pipe
    torch.cuda.empty_cache()
    return workdir / "audioldm2"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--candidates", type=int, default=2, help="waveforms per prompt ranked with CLAP")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="also print the result as a JSON row (for bench/run)")
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        print("This benchmark needs torch, transformers and diffusers (the models extra).")
        return 2
    if not torch.cuda.is_available():
        print("No CUDA device: this benchmark measures the audioldm2 engine on a GPU and has nothing to do here.")
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.audioldm2_parts import five_variant_sheet
    from pipeline.effects.audioldm2 import AudioLDM2EffectsEngine

    print(f"device: {torch.cuda.get_device_name(0)}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        model_dir = build_full_size(workdir)
        print(f"build + save: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        engine = AudioLDM2EffectsEngine(
            model_id=str(model_dir), device="cuda", steps=args.steps, seconds=args.seconds,
            waveforms_per_prompt=args.candidates, effects_cache_dir=None,
        ).load()
        print(f"load through the engine: {time.perf_counter() - started:.1f} s")
        times = []
        for run in range(args.repeats + 1):  # the first run warms up kernels and is not counted
            torch.cuda.synchronize()
            started = time.perf_counter()
            engine.generate(five_variant_sheet(), workdir / f"out-{run}", seed=run)
            torch.cuda.synchronize()
            elapsed = time.perf_counter() - started
            print(f"run {run}{' (warm-up)' if run == 0 else ''}: {elapsed:.2f} s")
            if run:
                times.append(elapsed)
        best, median = min(times), sorted(times)[len(times) // 2]
        peak = torch.cuda.max_memory_allocated() / 2**30
        print(
            f"5 effects x {args.seconds:g} s, {args.candidates} candidates each, {args.steps} DPM-Solver steps, fp16, "
            f"one batched call: median {median:.2f} s, best {best:.2f} s (target <= {TARGET_S:.1f} s); "
            f"peak GPU memory {peak:.1f} GiB"
        )
        if args.json:
            import json

            print(json.dumps({
                "measure": f"audioldm2, 5 effects x {args.seconds:g} s", "wave": round(median, 3), "reference": TARGET_S,
                "ratio": round(TARGET_S / median, 2), "target": f"<= {TARGET_S:g} s", "unit": "s",
                "note": f"{torch.cuda.get_device_name(0)}, {args.steps} steps, peak {peak:.1f} GiB",
                "ok": median <= TARGET_S,
            }))
        return 0 if median <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
