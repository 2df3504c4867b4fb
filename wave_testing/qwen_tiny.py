"""A tiny Qwen2.5-VL built on the spot: a byte-level BPE tokenizer trained here and a model with random
weights.

Used by the vision tests and the GPU vision bench. Everything is deterministic: the same corpus gives the same
vocabulary, and the model is initialised under a fixed seed.
"""

from __future__ import annotations

import json
from pathlib import Path

QWEN_SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)


def training_corpus() -> list[str]:
    """WAVE's own prompt text and example sheets, so the vocabulary fits what the engine sends."""
    from pipeline.vision import prompt

    lines = prompt.SYSTEM_PROMPT.splitlines() + prompt.examples_text().splitlines()
    return [line for line in lines if line.strip()] * 4


def build_tokenizer(vocab_size: int = 800, with_chat_template: bool = True):
    """A Qwen2Tokenizer with BPE merges learned from :func:`training_corpus` and Qwen's special tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer

    from pipeline.vision.qwen import QWEN_CHAT_TEMPLATE

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(QWEN_SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(training_corpus(), trainer)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    tokenizer = Qwen2Tokenizer(
        vocab=model["vocab"], merges=merges, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tokenizer.add_special_tokens({"additional_special_tokens": list(QWEN_SPECIAL_TOKENS[1:])})
    if with_chat_template:
        tokenizer.chat_template = QWEN_CHAT_TEMPLATE
    return tokenizer


def token_ids(tokenizer) -> dict[str, int]:
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in QWEN_SPECIAL_TOKENS}
    return {
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
        "bos_token_id": ids["<|endoftext|>"],
    }


def tiny_config(tokenizer):
    """Two text layers of width 32 and a two-block vision tower; special ids match ``tokenizer``."""
    from transformers import Qwen2_5_VLConfig

    ids = token_ids(tokenizer)
    return Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=8192,
            # head_dim 8 -> 4 rotary pairs split over time, height and width.
            rope_parameters={"rope_type": "default", "mrope_section": [2, 1, 1], "rope_theta": 1_000_000.0},
            bos_token_id=ids["bos_token_id"],
            eos_token_id=ids["eos_token_id"],
            pad_token_id=ids["pad_token_id"],
        ),
        vision_config=dict(
            depth=2,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            out_hidden_size=32,
            fullatt_block_indexes=[1],
            window_size=56,
        ),
        image_token_id=ids["image_token_id"],
        video_token_id=ids["video_token_id"],
        vision_start_token_id=ids["vision_start_token_id"],
        vision_end_token_id=ids["vision_end_token_id"],
    )


def save_tiny_qwen(directory: Path, *, seed: int = 0, with_chat_template: bool = True) -> Path:
    """Write config, random weights, tokenizer and image-processor config: a model directory."""
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    directory = Path(directory)
    tokenizer = build_tokenizer(with_chat_template=with_chat_template)
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(tiny_config(tokenizer)).eval()
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    Qwen2VLImageProcessorPil().save_pretrained(directory)
    return directory
