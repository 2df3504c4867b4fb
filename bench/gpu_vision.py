"""Seconds for the qwen vision engine to write a 400-token sheet on a GPU, at full Qwen2.5-VL-7B size.

The model is the real 7B architecture (config written below, random weights, bf16, sdpa), so the timing is the
real cost of WAVE's prompt, one capped image and 400 decoded tokens; the text itself is meaningless. The
tokenizer is trained locally on WAVE's prompt (no download). Target on one H100: <= 5 s per sheet.

    python bench/gpu_vision.py [--static-cache] [--tokens 400] [--image-side 1344]

"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TARGET_SECONDS = 5.0


def qwen2_5_vl_7b_config(tokenizer):
    """Qwen2.5-VL-7B-Instruct's published architecture; special token ids follow the local tokenizer."""
    from qwen_tiny import token_ids
    from transformers import Qwen2_5_VLConfig

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
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="also print the result as a JSON row (for bench/run)")
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        print("gpu_vision: no CUDA device here; this bench times the qwen engine on a GPU, nothing to do.")
        return 2

    from PIL import Image
    from qwen_tiny import build_tokenizer
    from skimage import data
    from transformers import Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from pipeline.vision import prompt
    from pipeline.vision.qwen import DEFAULT_MAX_PIXELS, QwenVision

    tokenizer = build_tokenizer(vocab_size=4000)
    config = qwen2_5_vl_7b_config(tokenizer)
    started = time.perf_counter()
    with torch.device("cuda"):
        model = Qwen2_5_VLForConditionalGeneration._from_config(
            config, dtype=torch.bfloat16, attn_implementation="sdpa"
        )
    torch.cuda.synchronize()
    parameters = sum(p.numel() for p in model.parameters())
    print(f"built {parameters / 1e9:.2f} B parameters (bf16, sdpa) in {time.perf_counter() - started:.1f} s")

    engine = QwenVision.from_components(
        model,
        tokenizer,
        Qwen2VLImageProcessorPil(),
        model_id="random-qwen2.5-vl-7b",
        max_pixels=DEFAULT_MAX_PIXELS,
        static_cache=args.static_cache,
    )
    photo = Image.fromarray(data.astronaut()).resize((args.image_side, args.image_side))
    conversation = prompt.build_conversation("make it melancholic")
    inputs = engine.prepare_inputs(photo, conversation)
    image_tokens = int((inputs["input_ids"] == config.image_token_id).sum())
    print(
        f"prompt: {inputs['input_ids'].shape[1]} tokens, of them {image_tokens} image tokens "
        f"(photo {args.image_side}x{args.image_side}, max_pixels {DEFAULT_MAX_PIXELS})"
    )

    def timed(new_tokens: int) -> float:
        torch.cuda.synchronize()
        begin = time.perf_counter()
        engine.reply(
            photo, conversation, min_new_tokens=new_tokens, max_new_tokens=new_tokens, loop_guard=False
        )
        torch.cuda.synchronize()
        return time.perf_counter() - begin

    warm = timed(args.tokens)  # first call: CUDA kernels picked (and decoding compiled with --static-cache)
    prefill = min(timed(1) for _ in range(args.repeats))
    sheet = min(timed(args.tokens) for _ in range(args.repeats))
    per_token_ms = (sheet - prefill) / max(args.tokens - 1, 1) * 1000
    peak_gib = torch.cuda.max_memory_allocated() / 2**30
    print(f"first call: {warm:.2f} s")
    print(f"prefill (image + prompt, 1 token): {prefill:.3f} s")
    print(
        f"sheet of {args.tokens} tokens: {sheet:.2f} s ({per_token_ms:.1f} ms/token, "
        f"{args.tokens / sheet:.0f} tokens/s), peak GPU memory {peak_gib:.1f} GiB"
    )
    print(
        f"device: {torch.cuda.get_device_name()}; target <= {TARGET_SECONDS:.0f} s: "
        f"{'met' if sheet <= TARGET_SECONDS else 'missed'}"
    )
    if args.json:
        import json

        print(json.dumps({
            "measure": f"qwen sheet, {args.tokens} tokens (7B, random weights)", "wave": round(sheet, 3),
            "reference": TARGET_SECONDS, "ratio": round(TARGET_SECONDS / sheet, 2), "target": f"<= {TARGET_SECONDS:g} s",
            "unit": "s", "note": f"{torch.cuda.get_device_name()}, peak {peak_gib:.1f} GiB", "ok": sheet <= TARGET_SECONDS,
        }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
