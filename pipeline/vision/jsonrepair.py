"""Turn a vision model's raw reply into a validated :class:`SoundSheet`.

Models wrap JSON in code fences and prose, stop mid-string when the token budget runs out, and slip into
Python or JavaScript habits (single quotes, ``None``, trailing commas, comments). This module finds the object
that looks like a sheet, cuts a truncated reply back to its last complete element, lets the ``json_repair``
package fix the syntax, maps near-miss field names onto the sheet's own, and validates with
:meth:`SoundSheet.from_raw`.

Everything here is a pure function of the text. Errors are :class:`SheetParseError` with a message short and
concrete enough to hand back to the model for a second try.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import json_repair
from pydantic import ValidationError

from pipeline.sheet import SoundSheet

SHEET_KEYS = ("scene_description", "mood_description", "sound_sources")

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*")
_OPENERS = {"{": "}", "[": "]"}
_CLOSERS = {"}", "]"}
_STRING_CLOSER = {'"': '"', "'": "'", "\u201c": "\u201d"}
_PERCENT = re.compile(r"(:\s*)(\d+(?:\.\d+)?)\s*%")

# Near-miss names a model uses for the sheet's fields, after lower-casing and turning spaces/hyphens into "_".
_TOP_ALIASES = {
    "scene": "scene_description",
    "description": "scene_description",
    "scene_desc": "scene_description",
    "mood": "mood_description",
    "atmosphere": "mood_description",
    "sources": "sound_sources",
    "sounds": "sound_sources",
    "objects": "sound_sources",
    "sound_source": "sound_sources",
}
_SOURCE_ALIASES = {"object": "name", "source": "name", "source_name": "name", "materials": "material"}
_VARIANT_ALIASES = {
    "action": "play_method",
    "method": "play_method",
    "how": "play_method",
    "sound": "play_method",
    "timbres": "timbre",
    "timbre_words": "timbre",
    "session": "mapping_to_music_instrument",
    "instrument": "mapping_to_music_instrument",
    "mapping": "mapping_to_music_instrument",
    "music_instrument": "mapping_to_music_instrument",
    "mapping_to_instrument": "mapping_to_music_instrument",
    "score": "confidence",
}
_VARIANT_KEYS = {"play_method", "timbre", "mapping_to_music_instrument", "confidence"}
_CONFIDENCE_WORDS = {
    "very high": 0.95,
    "high": 0.9,
    "medium": 0.75,
    "moderate": 0.75,
    "low": 0.5,
    "very low": 0.3,
}


class SheetParseError(ValueError):
    """The reply could not be turned into a sheet; the message says what to fix, in words a model can use."""


# ------------------------------------------------------------------------------------------------ scanning


class _Segment(NamedTuple):
    kind: str  # "code", "string" or "comment"
    text: str
    start: int
    closed: bool = True  # False for a string or comment that the text ends inside


def _segments(text: str) -> list[_Segment]:
    """Split JSON-ish text into code, string literals (any quote style) and comments."""
    segments: list[_Segment] = []
    code_start = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _STRING_CLOSER and (ch != "'" or _opens_value(text, i)):
            end, closed = _string_end(text, i)
            kind = "string"
        elif text.startswith("//", i):
            newline = text.find("\n", i)
            end, closed, kind = (n if newline < 0 else newline), True, "comment"
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            end, closed, kind = (n, False, "comment") if close < 0 else (close + 2, True, "comment")
        else:
            i += 1
            continue
        if code_start < i:
            segments.append(_Segment("code", text[code_start:i], code_start))
        segments.append(_Segment(kind, text[i:end], i, closed))
        i = code_start = end
    if code_start < n:
        segments.append(_Segment("code", text[code_start:], code_start))
    return segments


def _opens_value(text: str, index: int) -> bool:
    """Whether a single quote sits where a JSON key or value starts (an apostrophe in prose does not)."""
    before = text[:index].rstrip()
    return not before or before[-1] in "{[,:"


def _string_end(text: str, start: int) -> tuple[int, bool]:
    closer = _STRING_CLOSER[text[start]]
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == closer or (closer == "\u201d" and ch == '"'):
            return i + 1, True
        i += 1
    return len(text), False


def _brackets(text: str) -> list[tuple[int, str]]:
    """Every bracket and comma outside strings and comments, with its offset."""
    marks = []
    for segment in _segments(text):
        if segment.kind == "code":
            marks.extend((segment.start + k, ch) for k, ch in enumerate(segment.text) if ch in "{}[],")
    return marks


def _straightened(text: str) -> str:
    """Comments removed, smart-quoted strings turned into JSON strings, ``85%`` into ``"85%"``."""
    parts = []
    for segment in _segments(text):
        if segment.kind == "comment":
            continue
        if segment.kind == "string" and segment.text.startswith("\u201c"):
            inner = segment.text[1:-1] if segment.closed else segment.text[1:]
            inner = re.sub(r'(?<!\\)"', '\\"', inner)
            parts.append('"' + inner + ('"' if segment.closed else ""))
        elif segment.kind == "code":
            parts.append(_PERCENT.sub(r'\1"\2%"', segment.text))
        else:
            parts.append(segment.text)
    return "".join(parts)


def _top_level_spans(text: str) -> list[tuple[int, int, str]]:
    """Top-level ``{...}`` and ``[...]`` spans as (start, end, opener); an unclosed one runs to the end."""
    spans = []
    depth, start, opener = 0, 0, ""
    for offset, ch in _brackets(text):
        if ch in _OPENERS:
            if depth == 0:
                start, opener = offset, ch
            depth += 1
        elif ch in _CLOSERS and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append((start, offset + 1, opener))
    if depth > 0:
        spans.append((start, len(text), opener))
    return spans


def _sheet_likeness(candidate: str) -> tuple[bool, int, int]:
    keys = sum(1 for key in (*SHEET_KEYS, "variants", "play_method") if key in candidate)
    return "sound_sources" in candidate, keys, len(candidate)


# ---------------------------------------------------------------------------------------------- public steps


def extract_json_text(raw: str) -> str:
    """The part of ``raw`` that holds the sheet: fences and prose removed, the most sheet-like object chosen.

    A bare array counts only when it holds objects with a ``play_method`` (a list of sound sources).
    """
    text = _FENCE.sub("", raw or "")
    candidates = [
        text[a:b] for a, b, opener in _top_level_spans(text) if opener == "{" or "play_method" in text[a:b]
    ]
    if not candidates:
        raise SheetParseError(
            "the reply holds no JSON object; answer with one JSON object shaped like the examples"
        )
    return max(candidates, key=_sheet_likeness).strip()


def drop_truncated_tail(text: str) -> str:
    """If ``text`` stops inside an open object or array, cut it back to the last complete element and close
    it.

    A reply that ran out of tokens ends with a half-written element (``{"play_method": "kno``); keeping it
    would turn a fragment into a sound, so the innermost list that already holds a complete element loses its
    unfinished last element, and every bracket still open is closed.
    """
    stack: list[tuple[int, str]] = []
    # For each open container (by its offset): offsets just after its complete elements.
    ends: dict[int, list[int]] = {}
    for offset, ch in _brackets(text):
        if ch in _OPENERS:
            stack.append((offset, ch))
            ends[offset] = []
        elif ch in _CLOSERS:
            if stack and _OPENERS[stack[-1][1]] == ch:
                stack.pop()
            if stack:
                ends[stack[-1][0]].append(offset + 1)
        elif ch == "," and stack:
            ends[stack[-1][0]].append(offset)
    if not stack:
        return text
    open_arrays = [offset for offset, ch in reversed(stack) if ch == "["]
    cut = next((max(ends[a]) for a in open_arrays if ends[a]), None)
    if cut is None:
        cut = max((p for offset, _ in stack for p in ends[offset]), default=None)
    if cut is None:
        return text
    trimmed = text[:cut].rstrip().rstrip(",")
    still_open = []
    for _, ch in _brackets(trimmed):
        if ch in _OPENERS:
            still_open.append(ch)
        elif ch in _CLOSERS and still_open and _OPENERS[still_open[-1]] == ch:
            still_open.pop()
    return trimmed + "".join(_OPENERS[ch] for ch in reversed(still_open))


def repair_json_text(text: str) -> Any:
    """Parse JSON-ish text, fixing quotes, commas, comments, Python literals and unquoted keys."""
    try:
        value = json_repair.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SheetParseError(f"the JSON could not be read ({exc})") from exc
    if value in ("", None):
        raise SheetParseError("the reply holds no readable JSON object")
    return value


def normalise_sheet_dict(value: Any) -> dict[str, Any]:
    """Map near-miss field names to the sheet's, fill fields that may safely be empty, and shape the lists."""
    if isinstance(value, list):
        dicts = [item for item in value if isinstance(item, dict)]
        sheet_like = [item for item in dicts if "sound_sources" in _keys(item)]
        if sheet_like:
            value = sheet_like[0]
        elif dicts:
            value = {"sound_sources": dicts}
    if not isinstance(value, dict):
        raise SheetParseError(
            "the reply must be one JSON object with scene_description, mood_description and sound_sources"
        )
    sheet = _renamed(value, _TOP_ALIASES)
    sheet.setdefault("scene_description", "")
    sheet.setdefault("mood_description", "")
    sources = sheet.get("sound_sources")
    if isinstance(sources, dict):
        sources = [sources]
    if not isinstance(sources, list) or not sources:
        raise SheetParseError(
            "sound_sources is missing or empty; list the objects in the picture that can make a sound"
        )
    sheet["sound_sources"] = [_normalise_source(source) for source in sources if isinstance(source, dict)]
    return sheet


def parse_sound_sheet(
    raw: str, *, engine: str, model: str | None = None, cue: str | None = None
) -> SoundSheet:
    """Raw model text -> a validated :class:`SoundSheet` with WAVE's rules applied, or SheetParseError."""
    text = drop_truncated_tail(_straightened(extract_json_text(raw)))
    data = normalise_sheet_dict(repair_json_text(text))
    try:
        return SoundSheet.from_raw(data, engine=engine, model=model, cue=cue)
    except ValidationError as exc:
        raise SheetParseError(describe_validation_error(exc)) from exc
    except ValueError as exc:
        raise SheetParseError(str(exc)) from exc


def describe_validation_error(exc: ValidationError, limit: int = 3) -> str:
    """A few ``path: problem`` lines from a pydantic error, phrased for a model to correct."""
    lines = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(part) for part in error["loc"]) or "sheet"
        lines.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - limit
    if more > 0:
        lines.append(f"and {more} more problem(s) of the same kind")
    return "; ".join(lines)


# ------------------------------------------------------------------------------------------------ helpers


def _key(name: Any) -> str:
    return re.sub(r"[\s-]+", "_", str(name).strip().lower())


def _keys(item: dict[str, Any]) -> set[str]:
    return {_TOP_ALIASES.get(_key(k), _key(k)) for k in item}


def _renamed(item: dict[str, Any], aliases: dict[str, str]) -> dict[str, Any]:
    renamed: dict[str, Any] = {}
    for name, value in item.items():
        key = _key(name)
        key = aliases.get(key, key)
        renamed.setdefault(key, value)
    return renamed


def _normalise_source(source: dict[str, Any]) -> dict[str, Any]:
    source = _renamed(source, _SOURCE_ALIASES)
    variants = source.get("variants")
    if variants is None and _VARIANT_KEYS & set(_renamed(source, _VARIANT_ALIASES)):
        # A flat source that describes its one sound inline.
        variants = [_renamed(source, _VARIANT_ALIASES)]
    if isinstance(variants, dict):
        variants = [variants]
    if isinstance(variants, list):
        source["variants"] = [_normalise_variant(v) for v in variants if isinstance(v, dict)]
    if source.get("material") is None:
        source["material"] = ""
    return source


def _normalise_variant(variant: dict[str, Any]) -> dict[str, Any]:
    variant = _renamed(variant, _VARIANT_ALIASES)
    if variant.get("timbre") is None:
        variant["timbre"] = []
    confidence = variant.get("confidence")
    if isinstance(confidence, str) and confidence.strip().lower() in _CONFIDENCE_WORDS:
        variant["confidence"] = _CONFIDENCE_WORDS[confidence.strip().lower()]
    elif confidence is None:
        variant.pop("confidence", None)
    return variant
