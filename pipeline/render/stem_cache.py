"""Audio kept in memory between renders, so that a render which changes some parts of the band computes only those.

A remap swaps the sounds of two parts: the other parts' stems, and their shaping in the mix, come out exactly as
before. Entries are looked up by a SHA-256 key of everything that shapes them (see :func:`stem_key`), never by a
name taken from data. Values are arrays (or tuples holding arrays and numbers), stored read-only; the cache holds
at most ``max_bytes`` of them and drops the least recently used first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from pipeline.digests import fields_digest, file_digest
from pipeline.types import Instrument, Part

DEFAULT_MAX_BYTES = 384 * 1024 * 1024


def instrument_digest(instrument: Instrument) -> str:
    """A digest of what an instrument sounds like: its settings and zones and the content of its samples (where its
    folder is does not count)."""
    described = instrument.model_dump(mode="json", exclude={"directory"})
    samples = {zone.sample: file_digest(instrument.sample_path(zone)) for zone in instrument.zones}
    return fields_digest({"instrument": described, "samples": samples})


def stem_key(instrument_hash: str, parts: list[Part], sample_rate: int, length: int) -> str:
    """The key of one session's stem: its instrument (see :func:`instrument_digest`), the parts it plays, the sample
    rate and the stem's length in frames."""
    return fields_digest({
        "kind": "stem",
        "instrument": instrument_hash,
        "parts": [part.model_dump(mode="json") for part in parts],
        "sample_rate": int(sample_rate),
        "length": int(length),
    })


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, tuple):
        return sum(_nbytes(item) for item in value)
    return 64


def _frozen(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        copy = value.copy()
        copy.flags.writeable = False
        return copy
    if isinstance(value, tuple):
        return tuple(_frozen(item) for item in value)
    return value


class StemCache:
    """Read-only copies of arrays under hashed keys; ``hits`` and ``misses`` count lookups. Safe to share between
    threads. A value larger than the whole budget is not kept."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max(0, int(max_bytes))
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str) -> Any | None:
        """The value stored under ``key`` (its arrays read-only: copy before changing them), or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: str, value: Any) -> None:
        """Keep a read-only copy of ``value`` under ``key``, dropping the least recently used entries past the
        budget."""
        size = _nbytes(value)
        if size > self.max_bytes:
            return
        frozen = _frozen(value)
        with self._lock:
            if key in self._entries:
                self._bytes -= self._entries.pop(key)[1]
            self._entries[key] = (frozen, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped
