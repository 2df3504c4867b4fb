"""Names that come from data (a sheet, a model, a file, a user, a database row) and the paths built from them.

Ids are slugs: lowercase ASCII letters and digits joined by ``-`` or ``_``, at most :data:`MAX_ID_CHARS` long.
Every file written under a folder with a name taken from data goes through :func:`safe_child`, which refuses any
name that would land outside that folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.errors import WaveInputError

MAX_ID_CHARS = 64
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?")
_MAX_NAME_BYTES = 255  # one path component on the filesystems WAVE runs on


class UnsafeNameError(WaveInputError):
    """A name from data that would escape its folder or is not a valid id."""


def is_slug(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_ID_CHARS and _SLUG.fullmatch(value) is not None


def check_slug(value: object, what: str = "id") -> str:
    """``value`` if it is a slug; raises :class:`UnsafeNameError` saying what a valid one looks like."""
    if is_slug(value):
        return value  # type: ignore[return-value]
    shown = repr(value) if not isinstance(value, str) or len(value) <= 80 else repr(value[:80] + "…")
    raise UnsafeNameError(
        f"The {what} {shown} is not allowed: use 1 to {MAX_ID_CHARS} lowercase letters (a-z), digits, '-' or '_', "
        "starting and ending with a letter or digit."
    )


def slugify(text: str, max_chars: int = 40) -> str:
    """The slug closest to ``text`` (``"Rain on a roof!"`` -> ``"rain-on-a-roof"``); empty when nothing is left."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:max_chars].strip("-")


def safe_child(folder: Path | str, name: str) -> Path:
    """``folder / name`` for a single plain file or folder name; refuses anything that would leave ``folder``.

    Refused: empty names, ``.``/``..``, separators, absolute paths, NUL and other control characters, names
    longer than a filesystem allows, and a name that already exists as a link pointing outside ``folder``.
    """
    folder = Path(folder)
    text = name if isinstance(name, str) else ""
    problem = None
    if not text or text in {".", ".."}:
        problem = "is empty or a relative folder"
    elif "/" in text or "\\" in text or Path(text).is_absolute():
        problem = "contains a path separator"
    elif any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        problem = "contains control characters"
    elif len(text.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
        problem = "is too long"
    if problem is None:
        child = folder / text
        root = folder.resolve()
        if child.resolve().parent != root:
            problem = "points outside its folder"
        else:
            return child
    shown = repr(name if len(str(name)) <= 80 else str(name)[:80] + "…")
    raise UnsafeNameError(f"Refused to write the file {shown}: the name {problem}.")
