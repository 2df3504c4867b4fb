"""Errors that carry a message meant for the person who asked for the work.

Every stage raises :class:`WaveInputError` for bad input (the user can fix it) and :class:`WaveEngineError` for a
failure of an engine or model (the operator can fix it). Both carry ``user_message``: short, plain, no traceback.
Callers (CLI, workers, bots) show ``user_message`` and log the details.
"""

from __future__ import annotations


class WaveError(Exception):
    """Base of WAVE's own errors. ``user_message`` is safe to show to a user as it is."""

    permanent: bool = True

    def __init__(self, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(user_message if detail is None else f"{user_message} ({detail})")
        self.user_message = user_message
        self.detail = detail


class WaveInputError(WaveError):
    """The input is unusable: a broken file, a value out of range, a limit exceeded. Retrying will not help."""


class WaveEngineError(WaveError):
    """An engine could not run: missing weights, a model that keeps returning garbage, a missing dependency."""


class WaveTransientError(WaveError):
    """A failure that may pass on retry (a busy service, a timeout)."""

    permanent = False
