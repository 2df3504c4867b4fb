"""How often automatic casting agrees with a musician, on real recorded sounds (Debian's sonic-pi-samples).

Each labelled sound is cast alone from its audio only (no words, no hint): its best session is compared with the
label. Prints the agreement, a confusion table and the misses with their reasons.

    .venv/bin/python bench/casting_agreement.py [--samples /usr/share/sonic-pi/samples]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pipeline.sessions import analyse_effect, best_sessions
from pipeline.types import SESSIONS, EffectInput, Session

LABELS = Path(__file__).resolve().parent.parent / "tests" / "data" / "casting_labels.json"


def predict_labelled(samples: Path) -> list[tuple[str, Session, Session, str]]:
    """(file, label, predicted, reason) for every labelled sound, judged on audio alone."""
    rows = []
    for item in json.loads(LABELS.read_text()):
        effect = EffectInput(id=item["file"], path=samples / f"{item['file']}.flac")
        best = best_sessions(effect, analyse_effect(effect))[0]
        rows.append((item["file"], Session(item["session"]), best.session, best.reason))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=Path("/usr/share/sonic-pi/samples"))
    args = parser.parse_args()
    started = time.perf_counter()
    rows = predict_labelled(args.samples)
    elapsed = time.perf_counter() - started
    agree = sum(label == predicted for _f, label, predicted, _r in rows)
    print(f"agreement: {agree}/{len(rows)} = {agree / len(rows):.1%}  ({elapsed:.1f} s, {elapsed / len(rows) * 1000:.0f} ms per sound)")
    print("\nlabel \\ predicted " + "".join(f"{s.value:>10}" for s in SESSIONS))
    for label in SESSIONS:
        counts = [sum(1 for _f, l, p, _r in rows if l == label and p == s) for s in SESSIONS]
        print(f"{label.value:<18}" + "".join(f"{c:>10}" for c in counts))
    print("\nmisses:")
    for file, label, predicted, reason in rows:
        if label != predicted:
            print(f"  {file:<20} {label.value:<9} -> {predicted.value:<9} {reason}")


if __name__ == "__main__":
    main()
