"""Constrained decoding of the sound sheet with xgrammar: the sheet's JSON schema compiled to a grammar over the
model's vocabulary, applied to transformers' ``generate`` as a logits processor.

At every step only tokens that keep the reply a prefix of a schema-valid sheet are allowed, and the end-of-turn
token only once the sheet is complete, so a model (even one with random weights) can only write a sheet that
parses and validates. The grammar is compiled once per tokenizer; each ``generate`` call gets a fresh processor.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.errors import WaveEngineError
from pipeline.vision.schema import (
    DEFAULT_LIMITS,
    ITEM_SEPARATOR,
    KEY_SEPARATOR,
    SheetLimits,
    max_reply_characters,
    sheet_output_schema,
)


def xgrammar_available() -> bool:
    try:
        import xgrammar  # noqa: F401
    except ImportError:
        return False
    return True


class SheetGrammar:
    """The sheet schema compiled for one tokenizer and vocabulary size (the model's, which may be padded).

    ``schema`` replaces the one built from ``limits`` (a server compiles the schema a request sent); the token
    budget then comes from ``limits`` all the same."""

    def __init__(
        self, tokenizer: Any, vocab_size: int, limits: SheetLimits = DEFAULT_LIMITS, schema: dict | None = None
    ) -> None:
        try:
            import xgrammar as xgr
        except ImportError as exc:
            raise WaveEngineError(
                "constrained decoding needs the xgrammar package; install WAVE with its 'models' extra",
                detail=str(exc),
            ) from exc
        self.limits = limits
        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size)
        self.compiled = xgr.GrammarCompiler(info).compile_json_schema(
            json.dumps(schema or sheet_output_schema(limits)), any_whitespace=False,
            separators=(ITEM_SEPARATOR, KEY_SEPARATOR),
        )
        # Each generated token is at least one character of the reply.
        self.max_new_tokens = max_reply_characters(limits) + 1

    def logits_processor(self, prefix: str = "") -> SheetLogitsProcessor:
        """A processor for one ``generate`` call whose reply already starts with ``prefix`` (in the prompt)."""
        return SheetLogitsProcessor(self.compiled, prefix)


def _processor_base() -> type:
    from transformers import LogitsProcessor

    return LogitsProcessor


class SheetLogitsProcessor(_processor_base()):
    """Masks every token the grammar does not allow next. One per ``generate`` call (it follows that call's
    tokens); rows of a batch are followed separately."""

    def __init__(self, compiled: Any, prefix: str = "") -> None:
        self.compiled = compiled
        self.prefix = prefix
        self.matchers: list[Any] = []
        self.bitmask = None
        self.started = False

    def _start(self, batch: int) -> None:
        import xgrammar as xgr

        self.matchers = [xgr.GrammarMatcher(self.compiled) for _ in range(batch)]
        for matcher in self.matchers:
            if self.prefix and not matcher.accept_string(self.prefix):
                raise WaveEngineError("the reply prefix does not start a sound sheet", detail=self.prefix)
        self.bitmask = xgr.allocate_token_bitmask(batch, self.compiled.tokenizer_info.vocab_size)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import xgrammar as xgr

        if not self.started:
            self._start(input_ids.shape[0])
            self.started = True
        else:
            for row, matcher in enumerate(self.matchers):
                if not matcher.is_terminated() and not matcher.accept_token(int(input_ids[row, -1])):
                    raise WaveEngineError("constrained decoding lost track of the sheet grammar")
        for row, matcher in enumerate(self.matchers):
            if not matcher.is_terminated():
                matcher.fill_next_token_bitmask(self.bitmask, row)
        device = scores.device
        masked = scores if device.type == "cuda" else scores.to("cpu")
        xgr.apply_token_bitmask_inplace(masked, self.bitmask.to(masked.device))
        return masked.to(device)
