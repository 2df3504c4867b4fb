"""The JSON schema a vision model writes a sound sheet in, with every string and list bounded.

Constrained decoding (:mod:`pipeline.vision.grammar`) and OpenAI-compatible servers (``response_format``) both use
it, so a model can only write text that parses into a sheet that meets WAVE's rules: at least five sound sources
(so never fewer than five variants), one to three variants per source, a session hint from the four sessions or
null, a confidence from one half up in eighths. Strings are short plain text (letters, digits, spaces and light punctuation,
no quotes or escapes): the effects prompt is built from them, and their length in characters bounds their length
in tokens, so :func:`max_reply_characters` bounds a whole reply.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from pipeline.sheet import MIN_VARIANTS
from pipeline.types import Session

# Eighths are exact in binary, so every grammar compiler spells them the same way (xgrammar prints a float with 17
# digits: 0.9 would only be accepted as 0.90000000000000002). Not the quarters below one half: with 0.25 and 0.75
# beside each other xgrammar 0.1.29 also lets 0.225 and 0.775 through.
CONFIDENCE_VALUES = (0.5, 0.625, 0.75, 0.875, 1.0)
_FIRST_CHARACTER = "A-Za-z0-9"
_CHARACTERS = "A-Za-z0-9 ,.;:'()/&+-"
# json.dumps' separators: the shape of the prompt's examples.
ITEM_SEPARATOR, KEY_SEPARATOR = ", ", ": "


class SheetLimits(BaseModel):
    """How long each part of a written sheet may be (characters, items)."""

    scene_chars: int = Field(300, ge=8)
    mood_chars: int = Field(160, ge=4)
    name_chars: int = Field(40, ge=2)
    material_chars: int = Field(40, ge=2)
    play_method_chars: int = Field(80, ge=4)
    timbre_word_chars: int = Field(20, ge=2)
    timbre_words: tuple[int, int] = (1, 4)
    sources: tuple[int, int] = (MIN_VARIANTS, 8)
    variants_per_source: tuple[int, int] = (1, 3)


DEFAULT_LIMITS = SheetLimits()


def _text(max_chars: int) -> dict[str, Any]:
    # The length lives in the pattern: grammar compilers honour it there for sure.
    return {"type": "string", "pattern": f"^[{_FIRST_CHARACTER}][{_CHARACTERS}]{{0,{max_chars - 1}}}$"}


def sheet_output_schema(limits: SheetLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """The public sheet shape (``scene_description``, ``mood_description``, ``sound_sources`` with ``variants``)
    as a closed JSON schema with every size bounded."""
    variant = {
        "type": "object",
        "properties": {
            "play_method": _text(limits.play_method_chars),
            "timbre": {"type": "array", "items": _text(limits.timbre_word_chars),
                       "minItems": limits.timbre_words[0], "maxItems": limits.timbre_words[1]},
            "mapping_to_music_instrument": {"enum": [*(s.value for s in Session), None]},
            "confidence": {"enum": list(CONFIDENCE_VALUES)},
        },
        "required": ["play_method", "timbre", "mapping_to_music_instrument", "confidence"],
        "additionalProperties": False,
    }
    source = {
        "type": "object",
        "properties": {
            "name": _text(limits.name_chars),
            "material": _text(limits.material_chars),
            "variants": {"type": "array", "items": variant, "minItems": limits.variants_per_source[0],
                         "maxItems": limits.variants_per_source[1]},
        },
        "required": ["name", "material", "variants"],
        "additionalProperties": False,
    }
    return {
        "title": "SoundSheet",
        "type": "object",
        "properties": {
            "scene_description": _text(limits.scene_chars),
            "mood_description": _text(limits.mood_chars),
            "sound_sources": {"type": "array", "items": source, "minItems": limits.sources[0],
                              "maxItems": limits.sources[1]},
        },
        "required": ["scene_description", "mood_description", "sound_sources"],
        "additionalProperties": False,
    }


def max_reply_characters(limits: SheetLimits = DEFAULT_LIMITS) -> int:
    """The longest reply the schema allows, in characters (each token is at least one character of it)."""
    longest_confidence = max(len(json.dumps(value)) for value in CONFIDENCE_VALUES)
    longest_session = max(len(s.value) for s in Session) + 2

    def key(name: str) -> int:
        return len(json.dumps(name)) + len(KEY_SEPARATOR)

    def text(chars: int) -> int:
        return chars + 2

    def listed(count: int, item: int) -> int:
        return 2 + count * item + (count - 1) * len(ITEM_SEPARATOR)

    variant = 2 + 3 * len(ITEM_SEPARATOR) + key("play_method") + text(limits.play_method_chars) + key("timbre") + \
        listed(limits.timbre_words[1], text(limits.timbre_word_chars)) + key("mapping_to_music_instrument") + \
        longest_session + key("confidence") + longest_confidence
    source = 2 + 2 * len(ITEM_SEPARATOR) + key("name") + text(limits.name_chars) + key("material") + \
        text(limits.material_chars) + key("variants") + listed(limits.variants_per_source[1], variant)
    return 2 + 2 * len(ITEM_SEPARATOR) + key("scene_description") + text(limits.scene_chars) + \
        key("mood_description") + text(limits.mood_chars) + key("sound_sources") + listed(limits.sources[1], source)
