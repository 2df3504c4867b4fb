"""What the source's own words say about its sound: a footstep is a hit, a hum is held, a rumble is low.

Words only nudge the audio evidence (see :data:`pipeline.sessions.scoring.WORD_WEIGHT`); they describe the object
in the photo, and the generated effect may sound different from what its words promise.
"""

from __future__ import annotations

import re

from pipeline.types import Session

# Each cue: a sound character, the sessions it suggests, and word stems that imply it.
_CUES: list[tuple[str, tuple[Session, ...], str]] = [
    (
        "a hit",
        (Session.DRUMS,),
        r"knock|tap|hit|clap|click|clack|bang|slam|crack|snap|stomp|step|footstep|thud|thump|drum|beat|smack|"
        r"slap|clatter|rattle|shak|drip|patter|crash|tick|punch|kick|chop|hammer|clink|crunch|pop",
    ),
    ("low", (Session.BASS,), r"deep|rumbl|low|boom|growl|engine|motor|thunder|heavy|bass|sub|throb|groan"),
    (
        "plucked",
        (Session.GUITAR,),
        r"pluck|twang|string|strum|wire|cable|rubber band|zip|sitar|harp|guitar|fence|spring|strand",
    ),
    (
        "ringing",
        (Session.KEYBOARD,),
        r"bell|chime|ring|glass|crystal|whistl|hum|tone|sing|pad|organ|piano|key|glockenspiel|sustain|drone|"
        r"shimmer|resonan",
    ),
]
_PATTERNS = [(label, sessions, re.compile(rf"\b(?:{stems})\w*", re.IGNORECASE)) for label, sessions, stems in _CUES]


def word_cues(words: str) -> dict[Session, list[str]]:
    """Sessions the words point to, each with the words that did it (in the order they appear)."""
    found: dict[Session, list[str]] = {}
    if not words:
        return found
    for _label, sessions, pattern in _PATTERNS:
        matches = [m.group(0).lower() for m in pattern.finditer(words)]
        for session in sessions:
            for word in matches:
                if word not in found.setdefault(session, []):
                    found[session].append(word)
    return {s: w for s, w in found.items() if w}
