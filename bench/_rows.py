"""A bench's result rows on stdout: one JSON line a row for bench/run (``--json``), else one readable line a row."""

from __future__ import annotations

import json
from collections.abc import Callable


def print_rows(rows: list[dict], as_json: bool, readable: Callable[[dict], str]) -> None:
    for row in rows:
        print(json.dumps(row) if as_json else readable(row))
