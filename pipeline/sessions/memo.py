"""What was measured in an effect, remembered by the effect's content: re-casting the same sounds (a remap) and
drawing their casting picture again measure nothing."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pipeline.digests import file_digest
from pipeline.sessions.features import EffectFeatures, analyse_effect
from pipeline.types import EffectInput

DEFAULT_MAX_ENTRIES = 1024  # a few kilobytes each
T = TypeVar("T")


class FeatureMemo:
    """The last ``max_entries`` measurements, by (effect content hash, kind); ``hits``/``misses`` count lookups."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._known: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, effect: EffectInput, kind: str, measure: Callable[[EffectInput], T]) -> T:
        """``measure(effect)``, or a copy of what it gave for an effect with the same content before."""
        key = (file_digest(Path(effect.path)), kind)
        with self._lock:
            found = self._known.get(key)
            if found is not None:
                self._known.move_to_end(key)
                self.hits += 1
        if found is None:
            found = measure(effect)
            with self._lock:
                self.misses += 1
                self._known[key] = found
                while len(self._known) > self.max_entries:
                    self._known.popitem(last=False)
        return copy.deepcopy(found)  # callers may change what they get; what is remembered stays as measured

    def features(self, effects: list[EffectInput]) -> dict[str, EffectFeatures]:
        """Casting's features of ``effects`` by effect id."""
        return {effect.id: self.remember(effect, "casting", analyse_effect) for effect in effects}
