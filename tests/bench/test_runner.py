"""bench/run: collects the JSON rows of each script into one table, and says so when a script fails, times out,
lacks --json or needs a GPU that is not there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "bench" / "run"

SCRIPTS = {
    "speed.py": """
        import argparse, json, time
        parser = argparse.ArgumentParser(); parser.add_argument("--json", action="store_true")
        args = parser.parse_args()
        start = time.perf_counter(); sum(range(200_000)); ours = time.perf_counter() - start
        start = time.perf_counter(); sum(list(range(200_000))); theirs = time.perf_counter() - start
        print("warming up")  # stray lines are ignored
        print(json.dumps({"measure": "sum 200k", "wave": ours, "reference": theirs, "target": "<= 1x", "unit": "s",
                          "note": "same run"}))
        print(json.dumps({"measure": "fixed", "wave": 3.0, "reference": 2.0, "ratio": 1.5, "target": ">= 1x",
                          "unit": "x", "ok": True}))
    """,
    "broken.py": """
        raise RuntimeError("the reference renderer is not installed")
    """,
    "legacy.py": """
        import argparse
        argparse.ArgumentParser().parse_args()
        print("agreement: 90%")
    """,
    "slow.py": """
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        time.sleep(60)
    """,
    "missed.py": """
        import json
        print(json.dumps({"measure": "latency", "wave": 9.0, "reference": 5.0, "target": "<= 5 s", "unit": "s", "ok": False}))
    """,
    "gpu_model.py": """
        import json, sys
        print(json.dumps({"measure": "gpu thing", "wave": 1.0, "note": " ".join(sys.argv[1:])}))
    """,
    "_helper.py": "raise SystemExit('helpers are not benchmarks')\n",
}


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("bench")
    for name, body in SCRIPTS.items():
        (directory / name).write_text(textwrap.dedent(body))
    return directory


def run(bench_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(RUNNER), "--dir", str(bench_dir), "--timeout", "3", *args], capture_output=True,
                          text=True, timeout=120, check=False, env={"PATH": "/usr/bin:/bin", "WAVE_BENCH_PYTHON": sys.executable})


def test_rows_from_every_kind_of_script(bench_dir):
    result = run(bench_dir, "--json")
    assert result.returncode == 1  # a failed script and a missed target
    rows = {(r["bench"], r["measure"]): r for r in map(json.loads, result.stdout.splitlines())}
    speed = rows[("speed", "sum 200k")]
    assert speed["status"] == "ok" and speed["ratio"] == pytest.approx(speed["wave"] / speed["reference"])
    assert rows[("speed", "fixed")]["ratio"] == 1.5 and rows[("speed", "fixed")]["ok"] is True
    assert rows[("broken", "-")]["status"] == "failed"
    assert "the reference renderer is not installed" in rows[("broken", "-")]["note"]
    assert rows[("legacy", "-")]["status"] == "no-rows" and "--json" in rows[("legacy", "-")]["note"]
    assert rows[("slow", "-")]["status"] == "failed" and "timed out after 3 s" in rows[("slow", "-")]["note"]
    assert rows[("missed", "latency")]["ok"] is False
    gpu = [r for (bench, _), r in rows.items() if bench == "gpu_model"]
    import torch

    if not torch.cuda.is_available():  # run on its tiny model on the CPU, and labelled so
        assert gpu[0]["status"] == "ok" and gpu[0]["note"] == "no CUDA: tiny model on the CPU; --json --tiny --device cpu"
        skipped = {r["bench"]: r for r in map(json.loads, run(bench_dir, "--json", "--skip-gpu").stdout.splitlines())}
        assert skipped["gpu_model"]["status"] == "skipped" and "CUDA" in skipped["gpu_model"]["note"]
    else:
        assert gpu[0]["status"] == "ok" and gpu[0]["note"] == "--json"
    assert not any(bench == "_helper" for bench, _ in rows)


def test_one_table(bench_dir):
    result = run(bench_dir, "--only", "speed", "missed")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["bench", "measure", "WAVE", "reference", "ratio", "target", "meets", "note"]
    assert any(line.startswith("speed") and "sum 200k" in line and " s " in line for line in lines)
    assert any(line.startswith("speed") and "1.5x" in line and "yes" in line for line in lines)
    assert any(line.startswith("missed") and "NO" in line for line in lines)
    assert "running speed.py" in result.stderr and result.returncode == 1


def test_all_good_exits_zero(bench_dir):
    assert run(bench_dir, "--only", "speed").returncode == 0


@pytest.mark.parametrize("script, measure", [("gpu_effects.py", "audioldm2 (tiny)"), ("gpu_vision.py", "qwen sheet (tiny")])
def test_gpu_benches_run_their_tiny_models_on_the_cpu(script, measure):
    """The GPU benches cannot rot where there is no GPU: their tiny mode runs the same engine path."""
    pytest.importorskip("diffusers")
    root = RUNNER.parent.parent
    result = subprocess.run([sys.executable, str(root / "bench" / script), "--json", "--tiny", "--device", "cpu"],
                            capture_output=True, text=True, timeout=600, cwd=root, check=False,
                            env={**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    (row,) = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert row["measure"].startswith(measure) and row["ok"] is True
    assert isinstance(row["wave"], float) and row["wave"] > 0 and row["note"].startswith("CPU")
