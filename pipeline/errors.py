"""Errors that carry a message meant for the person who asked for the work.

Every stage raises :class:`WaveInputError` for bad input (the user can fix it) and :class:`WaveEngineError` for a
failure of an engine or model (the operator can fix it). Both carry ``user_message``: short, plain, no traceback.
Callers (CLI, workers, bots) show ``user_message`` and log the details.
"""

from __future__ import annotations

import errno


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


# Failures of the code's own logic on the data it was given: the same input fails the same way every time.
_DETERMINISTIC = (ValueError, TypeError, LookupError, ArithmeticError, AssertionError, NotImplementedError)


def is_permanent(exc: BaseException) -> bool:
    """Whether retrying the work that raised ``exc`` is pointless (the one rule every retrying caller uses).

    WAVE's own errors say so themselves. Of the rest, errors of logic on given data (a ValueError from numpy, a
    KeyError, a validation error) are permanent; anything else (lost connections, timeouts, memory, a device
    error, a full disk) may pass and is retried.
    """
    if isinstance(exc, WaveError):
        return exc.permanent
    return isinstance(exc, _DETERMINISTIC)


def os_error_message(exc: OSError) -> str:
    """A plain sentence for a failed read or write: a full disk, a folder WAVE may not write to, a file in the way."""
    where = str(exc.filename) if exc.filename is not None else "a file"
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"The disk is full: WAVE could not write {where}. Free some space and try again."
    if code == errno.EROFS:
        return f"WAVE cannot write {where}: it is on a read-only file system. Choose another folder."
    if code in (errno.EACCES, errno.EPERM):
        return f"WAVE may not write or read {where} (permission denied). Choose another folder or change its permissions."
    if code in (errno.EEXIST, errno.ENOTDIR):
        return f"{where} (or a folder above it) is a file where WAVE needs a folder. Choose another path."
    if code == errno.EISDIR:
        return f"{where} is a folder where WAVE needs a file. Choose another path."
    if code == errno.ENOENT:
        return f"{where} does not exist."
    return f"WAVE could not read or write {where}: {exc.strerror or exc}."
