"""Seconds for the qwen vision engine to write a 400-token sheet on a GPU, at full Qwen2.5-VL-7B size.

The model is the real 7B architecture (config written below, random weights, bf16, sdpa), so the timing is the
real cost of WAVE's prompt, one capped image and 400 decoded tokens; the text itself is meaningless. The
tokenizer is trained locally on WAVE's prompt (no download). Target on one H100: <= 5 s per sheet.

``--static-cache`` gives generate a static KV cache; ``--compile`` also compiles the model's forward with
``torch.compile`` (mode reduce-overhead, so decoding steps replay as CUDA graphs). ``--tiny --device cpu`` runs
the same code path on the tiny test model, so the bench itself is exercised where there is no GPU (bench/run does
that when no CUDA device is present); its figure only says the path works.

    python bench/gpu_vision.py [--tiny] [--device cuda|cpu] [--static-cache] [--compile] [--tokens 400]

"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 5.0


def qwen2_5_vl_7b_config(tokenizer):
    """Qwen2.5-VL-7B-Instruct's published architecture; special token ids follow the local tokenizer."""
    from transformers import Qwen2_5_VLConfig

    from wave_testing.qwen_tiny import token_ids

    ids = token_ids(tokenizer)
    return Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=152064,
            hidden_size=3584,
            intermediate_size=18944,
            num_hidden_layers=28,
            num_attention_heads=28,
            num_key_value_heads=4,
            hidden_act="silu",
            max_position_embeddings=128000,
            rms_norm_eps=1e-6,
            rope_parameters={
                "rope_type": "default",
                "mrope_section": [16, 24, 24],
                "rope_theta": 1_000_000.0,
            },
            use_sliding_window=False,
            sliding_window=32768,
            max_window_layers=28,
            bos_token_id=ids["bos_token_id"],
            eos_token_id=ids["eos_token_id"],
            pad_token_id=ids["pad_token_id"],
        ),
        vision_config=dict(
            depth=32,
            hidden_size=1280,
            intermediate_size=3420,
            num_heads=16,
            out_hidden_size=3584,
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
            window_size=112,
            fullatt_block_indexes=[7, 15, 23, 31],
            tokens_per_second=2,
            hidden_act="silu",
        ),
        image_token_id=ids["image_token_id"],
        video_token_id=ids["video_token_id"],
        vision_start_token_id=ids["vision_start_token_id"],
        vision_end_token_id=ids["vision_end_token_id"],
        tie_word_embeddings=False,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tokens", type=int, default=400, help="new tokens to decode (forced with min_new_tokens)"
    )
    parser.add_argument(
        "--image-side", type=int, default=1344, help="the test photo is resized to this square side"
    )
    parser.add_argument(
        "--static-cache", action="store_true", help="static KV cache, so generate compiles decoding"
    )
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile the forward (implies --static-cache)"
    )
    parser.add_argument("--tiny", action="store_true", help="the tiny test model instead of the 7B size")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs (default 3; 1 with --tiny)")
    parser.add_argument("--json", action="store_true", help="also print the result as a JSON row (for bench/run)")
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.tiny else 3)
    tokens = args.tokens if not args.tiny or args.tokens != 400 else 64
    image_side = args.image_side if not args.tiny or args.image_side != 1344 else 448
    static_cache = args.static_cache or args.compile

    import torch

    on_cuda = args.device == "cuda"
    if on_cuda and not torch.cuda.is_available():
        print("gpu_vision: no CUDA device; run with --tiny --device cpu to check the bench here.")
        return 2
    if not on_cuda:
        torch.set_num_threads(1)

    from PIL import Image
    from skimage import data
    from transformers import Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from pipeline.vision import prompt
    from pipeline.vision.qwen import DEFAULT_MAX_PIXELS, QwenVision
    from wave_testing.qwen_tiny import build_tokenizer, tiny_config

    def sync() -> None:
        if on_cuda:
            torch.cuda.synchronize()

    tokenizer = build_tokenizer() if args.tiny else build_tokenizer(vocab_size=4000)
    config = tiny_config(tokenizer) if args.tiny else qwen2_5_vl_7b_config(tokenizer)
    dtype = torch.bfloat16 if on_cuda else torch.float32
    started = time.perf_counter()
    torch.manual_seed(0)
    with torch.device(args.device):
        model = Qwen2_5_VLForConditionalGeneration._from_config(config, dtype=dtype, attn_implementation="sdpa")
    sync()
    parameters = sum(p.numel() for p in model.parameters())
    size = "tiny" if args.tiny else "7B"
    print(f"built {size}: {parameters / 1e9:.4f} B parameters ({dtype}, sdpa) in {time.perf_counter() - started:.1f} s")
    if args.compile:
        model.forward = torch.compile(model.forward, mode="reduce-overhead" if on_cuda else "default")

    engine = QwenVision.from_components(
        model,
        tokenizer,
        Qwen2VLImageProcessorPil(),
        model_id="random-qwen2.5-vl-7b",
        max_pixels=DEFAULT_MAX_PIXELS,
        static_cache=static_cache,
        device=args.device,
    )
    photo = Image.fromarray(data.astronaut()).resize((image_side, image_side))
    conversation = prompt.build_conversation("make it melancholic")
    inputs = engine.prepare_inputs(photo, conversation)
    image_tokens = int((inputs["input_ids"] == config.image_token_id).sum())
    print(
        f"prompt: {inputs['input_ids'].shape[1]} tokens, of them {image_tokens} image tokens "
        f"(photo {image_side}x{image_side}, max_pixels {DEFAULT_MAX_PIXELS})"
    )

    def timed(new_tokens: int) -> float:
        sync()
        begin = time.perf_counter()
        engine.reply(photo, conversation, min_new_tokens=new_tokens, max_new_tokens=new_tokens, loop_guard=False,
                     constrained=False)  # a fixed token count: random weights end a constrained sheet anywhere
        sync()
        return time.perf_counter() - begin

    warm = timed(tokens)  # first call: kernels picked (and the forward compiled with --compile)
    prefill = min(timed(1) for _ in range(repeats))
    sheet = min(timed(tokens) for _ in range(repeats))
    per_token_ms = (sheet - prefill) / max(tokens - 1, 1) * 1000
    device_name = torch.cuda.get_device_name() if on_cuda else "CPU"
    peak_gib = torch.cuda.max_memory_allocated() / 2**30 if on_cuda else None
    memory = f", peak GPU memory {peak_gib:.1f} GiB" if peak_gib is not None else ""
    options = "static cache + torch.compile" if args.compile else "static cache" if static_cache else "dynamic cache"
    print(f"first call: {warm:.2f} s")
    print(f"prefill (image + prompt, 1 token): {prefill:.3f} s")
    print(f"sheet of {tokens} tokens ({options}): {sheet:.2f} s ({per_token_ms:.1f} ms/token, "
          f"{tokens / sheet:.0f} tokens/s){memory}")
    meets = None if args.tiny else sheet <= TARGET_SECONDS
    if meets is not None:
        print(f"device: {device_name}; target <= {TARGET_SECONDS:.0f} s: {'met' if meets else 'missed'}")
    if args.json:
        import json

        print(json.dumps({
            "measure": f"qwen sheet ({size}, {options}), {tokens} tokens", "wave": round(sheet, 3),
            "reference": None if args.tiny else TARGET_SECONDS,
            "ratio": None if args.tiny else round(TARGET_SECONDS / sheet, 2),
            "target": "runs (tiny model, no target)" if args.tiny else f"<= {TARGET_SECONDS:g} s (H100, 7B)",
            "unit": "s", "ok": True if args.tiny else meets,
            "note": f"{device_name}, prefill {prefill:.3f} s, {per_token_ms:.1f} ms/token"
                    + (f", peak {peak_gib:.1f} GiB" if peak_gib is not None else ""),
        }))
    return 0 if meets in (None, True) else 1


if __name__ == "__main__":
    raise SystemExit(main())
