"""Tokenizers for AudioLDM2's text encoders, trained locally on a small corpus (no downloads)."""

from __future__ import annotations

import json
from pathlib import Path


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
