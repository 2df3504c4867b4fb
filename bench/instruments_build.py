"""Building the band: four instruments (drums, bass, guitar, keyboard) from four real effects.

Target: at most 1 s in total. Prints the first build in this process (libraries warming up) and the median of the
following builds. Needs Debian's sonic-pi-samples.
    python bench/instruments_build.py [--repeats 5] [--json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._rows import print_rows
from pipeline.instruments import build_instrument
from pipeline.types import EffectInput, Session

SAMPLES = Path("/usr/share/sonic-pi/samples")
BAND = {
    Session.DRUMS: "loop_amen",
    Session.BASS: "perc_door",
    Session.GUITAR: "ambi_glass_rub",
    Session.KEYBOARD: "ambi_swoosh",
}
BUDGET_S = 1.0


def build_band(out: Path) -> float:
    """CPU seconds of this process: the machine may be shared, and waiting for a core is not building."""
    start = time.process_time()
    for session, name in BAND.items():
        effect = EffectInput(id=name, path=SAMPLES / f"{name}.flac")
        build_instrument(effect, session, out / session.value)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON line per result row (for bench/run)")
    args = parser.parse_args()
    if not SAMPLES.is_dir():
        raise SystemExit(f"needs Debian's sonic-pi-samples in {SAMPLES}")
    with tempfile.TemporaryDirectory(prefix="wave-bench-") as tmp:
        first = build_band(Path(tmp) / "first")
        warm = statistics.median(build_band(Path(tmp) / f"run{i}") for i in range(args.repeats))
    rows = [
        {"measure": "build 4 instruments (warm)", "wave": round(warm, 3), "reference": BUDGET_S,
         "ratio": round(BUDGET_S / warm, 2), "target": "<= 1 s", "unit": "s",
         "note": f"CPU seconds, median of {args.repeats}", "ok": warm <= BUDGET_S},
        {"measure": "build 4 instruments (first in process)", "wave": round(first, 3), "reference": BUDGET_S,
         "ratio": round(BUDGET_S / first, 2), "target": "-", "unit": "s", "note": "includes library warm-up"},
    ]
    print_rows(rows, args.json, lambda row: f"{row['measure']:<40} {row['wave']:>7.3f} s  (budget {BUDGET_S} s, "
                                            f"{row['note']})")


if __name__ == "__main__":
    main()
