"""Effect features remembered by the effect's content, so re-casting the same sounds (a remap) measures nothing."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from pipeline.instruments.cache import file_digest
from pipeline.sessions.features import EffectFeatures, analyse_effect
from pipeline.types import EffectInput

DEFAULT_MAX_EFFECTS = 512  # a few hundred bytes each


class FeatureMemo:
    """Features of the last ``max_effects`` effects measured, by content hash; ``hits``/``misses`` count lookups."""

    def __init__(self, max_effects: int = DEFAULT_MAX_EFFECTS) -> None:
        self.max_effects = max_effects
        self.hits = 0
        self.misses = 0
        self._known: OrderedDict[str, EffectFeatures] = OrderedDict()
        self._lock = threading.Lock()

    def features(self, effects: list[EffectInput]) -> dict[str, EffectFeatures]:
        """Features of ``effects`` by effect id, measuring only those not seen before."""
        found = {}
        for effect in effects:
            digest = file_digest(Path(effect.path))
            with self._lock:
                known = self._known.get(digest)
                if known is not None:
                    self._known.move_to_end(digest)
                    self.hits += 1
            if known is None:
                known = analyse_effect(effect)
                with self._lock:
                    self.misses += 1
                    self._known[digest] = known
                    while len(self._known) > self.max_effects:
                        self._known.popitem(last=False)
            found[effect.id] = known.model_copy(deep=True)  # casting may not change what is remembered
        return found
