"""How often automatic casting agrees with a musician, on real recorded sounds (Debian's sonic-pi-samples).

Each labelled sound is cast alone from its audio only (no words, no hint): its best session is compared with the
label. Prints the agreement, a confusion table and the misses with their reasons; with ``--json``, one row per
measure in the bench/README.md protocol instead. The reference is a naive caster measured in the same run: always
the most common label.

The labels are also split in two halves (stratified, fixed seed): the weights were set looking only at the
"tuning" half, so agreement on the "held-out" half shows how well they carry over to sounds they were not set on.

    .venv/bin/python bench/casting_agreement.py [--samples /usr/share/sonic-pi/samples] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from sklearn.model_selection import train_test_split

from pipeline.sessions import analyse_effect, best_sessions
from pipeline.types import SESSIONS, EffectInput, Session

LABELS = Path(__file__).resolve().parent.parent / "tests" / "pipeline" / "sessions" / "data" / "casting_labels.json"
SPLIT_SEED = 0
TARGET = 0.80


class Row(NamedTuple):
    file: str
    label: Session
    predicted: Session
    reason: str


def predict_labelled(samples: Path) -> list[Row]:
    """One row for every labelled sound, judged on audio alone."""
    rows = []
    for item in json.loads(LABELS.read_text()):
        effect = EffectInput(id=item["file"], path=samples / f"{item['file']}.flac")
        best = best_sessions(effect, analyse_effect(effect))[0]
        rows.append(Row(item["file"], Session(item["session"]), best.session, best.reason))
    return rows


def halves(rows: list[Row]) -> dict[str, list[Row]]:
    """The tuning half and the held-out half of the labels, stratified by session with a fixed seed."""
    tuning, held_out = train_test_split(
        rows, test_size=0.5, stratify=[r.label.value for r in rows], random_state=SPLIT_SEED
    )
    return {"tuning half": tuning, "held-out half": held_out}


def agreement(rows: list[Row]) -> float:
    return sum(r.label == r.predicted for r in rows) / len(rows)


def most_common_label_agreement(rows: list[Row]) -> float:
    _label, count = Counter(r.label for r in rows).most_common(1)[0]
    return count / len(rows)


def json_rows(rows: list[Row], elapsed: float) -> list[dict]:
    out = []
    for name, part in {"all labels": rows, **halves(rows)}.items():
        wave, reference = 100 * agreement(part), 100 * most_common_label_agreement(part)
        out.append(
            {
                "measure": f"casting agreement ({name})",
                "wave": round(wave, 1),
                "reference": round(reference, 1),
                "ratio": round(wave / reference, 2),
                "target": f"{TARGET:.0%}",
                "unit": "%",
                "note": f"{len(part)} sonic-pi sounds, audio only; reference: always the most common label"
                + (f"; {elapsed:.1f} s" if part is rows else ""),
            }
        )
        if part is rows:  # the halves are a check on overfitting, not a goal of their own
            out[-1]["ok"] = wave >= 100 * TARGET
    return out


def print_table(rows: list[Row], elapsed: float) -> None:
    agree = sum(r.label == r.predicted for r in rows)
    per_sound = elapsed / len(rows) * 1000
    print(f"agreement: {agree}/{len(rows)} = {agree / len(rows):.1%}  ({elapsed:.1f} s, {per_sound:.0f} ms per sound)")
    print(f"most common label alone: {most_common_label_agreement(rows):.1%}")
    for name, part in halves(rows).items():
        print(f"{name}: {agreement(part):.1%} of {len(part)}")
    print("\nlabel \\ predicted " + "".join(f"{s.value:>10}" for s in SESSIONS))
    for label in SESSIONS:
        counts = [sum(1 for r in rows if r.label == label and r.predicted == s) for s in SESSIONS]
        print(f"{label.value:<18}" + "".join(f"{c:>10}" for c in counts))
    print("\nmisses:")
    for r in rows:
        if r.label != r.predicted:
            print(f"  {r.file:<20} {r.label.value:<9} -> {r.predicted.value:<9} {r.reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=Path("/usr/share/sonic-pi/samples"))
    parser.add_argument("--json", action="store_true", help="one JSON row per measure (see bench/README.md)")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = predict_labelled(args.samples)
    elapsed = time.perf_counter() - started
    if args.json:
        for row in json_rows(rows, elapsed):
            print(json.dumps(row))
    else:
        print_table(rows, elapsed)


if __name__ == "__main__":
    main()
