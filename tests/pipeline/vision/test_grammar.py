"""Constrained decoding of the sound sheet: the sheet's JSON schema compiled with xgrammar and applied to a tiny
Qwen2.5-VL with random weights. Random weights write whatever the grammar lets through, so every sheet being valid
is strong evidence the grammar holds."""

from __future__ import annotations

import itertools
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
xgr = pytest.importorskip("xgrammar")
jsonschema = pytest.importorskip("jsonschema")

import torch

from pipeline.sheet import SoundSheet
from pipeline.vision import prompt
from pipeline.vision.qwen import QwenVision
from pipeline.vision.schema import CONFIDENCE_VALUES, SheetLimits, max_reply_characters, sheet_output_schema

# Short strings and exactly six sources keep 100 random sheets quick to decode on a CPU; the grammar is the same
# construction as with the default limits.
LIMITS = SheetLimits(scene_chars=24, mood_chars=12, name_chars=8, material_chars=8, play_method_chars=12,
                     timbre_word_chars=8, timbre_words=(1, 2), sources=(6, 6), variants_per_source=(1, 1))
RUNS = 100


@pytest.fixture(scope="module")
def engine(tiny_qwen_dir) -> QwenVision:
    torch.set_num_threads(1)
    return QwenVision(model_id=str(tiny_qwen_dir), device="cpu", max_pixels=16 * 28 * 28, max_new_tokens=4096,
                      temperature=1.0, seed=0, sheet_limits=LIMITS).load()


def test_random_weights_write_a_valid_sheet_in_every_one_of_100_samples(engine, astronaut):
    """100 sheets sampled at temperature 1 in one batched generate call, each row held to the grammar by its own
    matcher: every one is schema-valid JSON that WAVE's sheet rules accept."""
    tokenizer = engine.processor.tokenizer
    inputs = engine.prepare_inputs(astronaut, prompt.build_conversation())
    prompt_length = inputs["input_ids"].shape[1]
    torch.manual_seed(0)
    with torch.inference_mode():
        output = engine.model.generate(
            **inputs, do_sample=True, temperature=1.0, top_k=None, top_p=None, num_return_sequences=RUNS,
            max_new_tokens=engine.grammar.max_new_tokens, pad_token_id=tokenizer.pad_token_id,
            logits_processor=[engine.grammar.logits_processor(prefix=prompt.REPLY_PREFIX)],
        )
    schema = sheet_output_schema(LIMITS)
    replies = [prompt.REPLY_PREFIX + tokenizer.decode(row[prompt_length:], skip_special_tokens=True) for row in output]
    assert len(set(replies)) == RUNS  # 100 different samples, not one repeated
    for reply in replies:
        sheet = json.loads(reply)
        jsonschema.validate(sheet, schema)
        assert len(SoundSheet.from_raw(sheet, engine="qwen").variants()) >= 5
    ended = (output[:, prompt_length:] == tokenizer.eos_token_id).any(dim=1)
    assert bool(ended.all())  # every sheet was closed by the model, none cut by the token budget


def test_describe_writes_a_valid_sheet_at_the_first_try(engine, astronaut, monkeypatch):
    calls = []
    real_generate = engine.model.generate

    def counting_generate(**kwargs):
        calls.append(kwargs)
        return real_generate(**kwargs)

    monkeypatch.setattr(engine.model, "generate", counting_generate)
    sheet = engine.describe(astronaut, cue="make it melancholic")

    assert len(calls) == 1 and calls[0]["max_new_tokens"] == max_reply_characters(LIMITS) + 1
    assert sheet.engine == "qwen" and 5 <= len(sheet.variants()) <= 6 and sheet.cue == "make it melancholic"


def test_grammar_accepts_exactly_the_schemas_confidence_values(engine):
    """Guards against grammar compilers that merge numeric alternatives (0.25 with 0.75 let 0.225 through)."""
    grammar = xgr.GrammarCompiler(xgr.TokenizerInfo.from_huggingface(engine.processor.tokenizer)).compile_json_schema(
        json.dumps({"enum": list(CONFIDENCE_VALUES)}), any_whitespace=False)
    candidates = ["0", "1", "1.0"] + ["0." + "".join(d) for n in range(1, 4)
                                       for d in itertools.product("0123456789", repeat=n)]
    accepted = set()
    for text in candidates:
        matcher = xgr.GrammarMatcher(grammar)
        if matcher.accept_string(text) and matcher.accept_token(engine.processor.tokenizer.eos_token_id):
            accepted.add(float(text))
    assert accepted == set(CONFIDENCE_VALUES)


def test_default_limits_bound_every_string_and_list():
    schema = sheet_output_schema()
    text = json.dumps(schema)
    assert '"type": "string"}' not in text  # no unbounded string
    source = schema["properties"]["sound_sources"]
    variant = source["items"]["properties"]["variants"]
    assert source["minItems"] >= 5 and source["maxItems"] <= 12 and variant["maxItems"] <= 3
    assert all("pattern" in schema["properties"][key] for key in ("scene_description", "mood_description"))
    assert 1000 < max_reply_characters() < 12000


def test_without_the_grammar_the_same_model_writes_no_sheet(engine, astronaut):
    reply = engine.reply(astronaut, prompt.build_conversation(), max_new_tokens=60, constrained=False)
    with pytest.raises(ValueError):
        json.loads(reply)


def test_the_prompts_examples_are_sheets_of_the_schema():
    from pipeline.vision.prompt import FEW_SHOT_EXAMPLES

    for _title, example in FEW_SHOT_EXAMPLES:
        jsonschema.validate(example, sheet_output_schema())
