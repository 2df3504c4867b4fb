"""One model reply turned into a sheet, with one more try that shows the model what was wrong: shared by every
vision engine that talks to a language model."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pipeline.errors import WaveEngineError
from pipeline.sheet import SoundSheet
from pipeline.vision import prompt
from pipeline.vision.jsonrepair import SheetParseError

log = logging.getLogger(__name__)


def sheet_with_one_correction(
    ask: Callable[[list[dict[str, Any]]], str], parse: Callable[[str], SoundSheet], conversation: list[dict[str, Any]]
) -> SoundSheet:
    """``ask`` the model for ``conversation``; when ``parse`` rejects the reply, ask once more with the reply and
    the problem added; :class:`WaveEngineError` when that reply is unusable too."""
    reply = ask(conversation)
    try:
        return parse(reply)
    except SheetParseError as first:
        log.debug("vision reply could not be used (%s): %s", first, reply)
        conversation = conversation + prompt.correction_turns(reply, str(first))
    reply = ask(conversation)
    try:
        return parse(reply)
    except SheetParseError as second:
        log.debug("vision reply on the second try could not be used (%s): %s", second, reply)
        raise WaveEngineError("the vision model did not return a usable sound sheet", detail=str(second)) from second
