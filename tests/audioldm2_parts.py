"""Parts for running AudioLDM2 in tests and benches: tokenizers trained locally (no downloads), a small sheet."""

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
