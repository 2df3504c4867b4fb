"""The character control: per session, 0 (a clean instrument coloured by the effect) .. 1 (the raw sound)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from pipeline.errors import WaveInputError
from pipeline.types import MELODIC_SESSIONS, Session

USAGE = "use a number from 0 (clean instrument) to 1 (raw sound), for all sessions or as SESSION=NUMBER, e.g. bass=0.8"


def _amount(text: str, given: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise WaveInputError(f"character {given!r}: {USAGE}") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise WaveInputError(f"character {given!r}: {USAGE}")
    return value


def parse_character(values: Iterable[str] | None) -> dict[Session, float]:
    """``["0.7"]`` sets every melodic session; ``["bass=0.8", "keyboard=0.3"]`` sets those; later ones win."""
    chosen: dict[Session, float] = {}
    for given in values or []:
        name, sep, amount = str(given).partition("=")
        if not sep:
            chosen.update({session: _amount(name, given) for session in MELODIC_SESSIONS})
            continue
        try:
            session = Session(name.strip().lower())
        except ValueError:
            raise WaveInputError(f"character {given!r}: {USAGE}") from None
        if session not in MELODIC_SESSIONS:
            raise WaveInputError(f"character {given!r}: only bass, guitar and keyboard have a character")
        chosen[session] = _amount(amount, given)
    return chosen
