"""Casting agrees with a musician on real recorded sounds, judged from the audio alone."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pipeline.sessions import analyse_effect, best_sessions
from pipeline.types import SESSIONS, EffectInput, Session

LABELS = Path(__file__).parent / "data" / "casting_labels.json"
MIN_AGREEMENT = 0.74  # measured 78% (40 of 51); the margin is two sounds


def test_labelled_set_is_large_real_and_covers_every_session(samples_dir: Path) -> None:
    labels = json.loads(LABELS.read_text())
    assert len(labels) >= 40
    assert len({item["file"] for item in labels}) == len(labels)
    assert all(item["reason"].strip() for item in labels)
    assert set(Counter(Session(item["session"]) for item in labels)) == set(SESSIONS)
    assert all((samples_dir / f"{item['file']}.flac").is_file() for item in labels)


def test_agreement_with_musician_labels(samples_dir: Path) -> None:
    labels = json.loads(LABELS.read_text())
    misses = []
    for item in labels:
        # No name, no words, no hint: the file stem would give the answer away.
        effect = EffectInput(id=f"sound-{len(misses)}", path=samples_dir / f"{item['file']}.flac")
        predicted = best_sessions(effect, analyse_effect(effect))[0].session
        if predicted != Session(item["session"]):
            misses.append(f"{item['file']}: {item['session']} -> {predicted.value}")
    agreement = 1 - len(misses) / len(labels)
    assert agreement >= MIN_AGREEMENT, f"agreement {agreement:.0%}; misses: {misses}"
