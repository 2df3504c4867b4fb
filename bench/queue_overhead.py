"""Queue overhead with a no-op pipeline: submit-to-start latency and jobs per second through both queues.

Needs Redis on 127.0.0.1:6379. Target: p50 submit-to-start under 50 ms.
    python bench/queue_overhead.py [--jobs 100] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobs.client import JobsClient, SubmitRequest  # noqa: E402
from jobs.runtime import Runtime  # noqa: E402
from jobs.worker import run_workers  # noqa: E402
from pipeline.progress import Progress, Stage  # noqa: E402
from pipeline.report import PlayReport  # noqa: E402
from pipeline.sheet import SoundSheet  # noqa: E402
from pipeline.types import SongInfo  # noqa: E402
from wave_core.settings import Settings  # noqa: E402
from wave_testing.jobs_helpers import picture_bytes  # noqa: E402

SHEET = {
    "scene_description": "bench", "mood_description": "calm",
    "sound_sources": [{"name": f"thing {i}", "material": "wood",
                       "variants": [{"play_method": "knock", "timbre": ["dry"], "confidence": 0.9}]} for i in range(5)],
}


class NoopPipeline:
    """Does no audio work; records when each job started."""

    def __init__(self) -> None:
        self.started: list[float] = []

    def see_and_hear(self, image, cue, profile, seed, out_dir: Path, progress):
        self.started.append(time.perf_counter())
        progress(Progress(stage=Stage.SEEING, fraction=0.0, message="start"))
        sheet = SoundSheet.from_raw(SHEET, engine="noop")
        paths = {}
        for _, variant in sheet.variants():
            path = out_dir / f"{variant.id}.wav"
            path.write_bytes(variant.id.encode())
            paths[variant.id] = path
        return sheet, paths

    def play(self, effects, song, out_dir: Path, *, mood, seed, overrides, progress, **_):
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in ("mix.wav", "mix.mp3", "casting.png"):
            (out_dir / name).write_bytes(name.encode())
        info = SongInfo(id="noop", title="noop", composer="-", public_domain_basis="-", tempo_bpm=100, key="C",
                        duration_s=0)
        return PlayReport(song=info, sessions={}, mix_compressed="mix.mp3", stems={}, duration_s=0,
                          loudness_lufs=-14, true_peak_dbtp=-1, timings_s={})

    def draw_casting(self, out_dir: Path, effects) -> Path:
        (out_dir / "casting.png").write_bytes(b"casting.png")
        return out_dir / "casting.png"


async def measure(jobs: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="wave-bench-"))
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp}/bench.db", artifacts_dir=tmp / "artifacts", data_dir=tmp,
        queue_prefix=f"wavebench-{uuid.uuid4().hex[:8]}", max_queue_length=10_000, max_jobs_per_user_per_hour=10_000,
    )
    runtime = await Runtime.open(settings)
    client = JobsClient(runtime)
    pipeline = NoopPipeline()
    image = picture_bytes(size=32)
    workers = asyncio.create_task(run_workers(settings, ["gpu", "cpu"], pipeline=pipeline))
    await asyncio.sleep(1.0)  # workers up

    # Latency: one job at a time on an idle queue, from the submit call to the task starting on the worker.
    latencies = []
    for i in range(jobs):
        begin = time.perf_counter()
        job_id = await client.submit(SubmitRequest(image=image, song="auto", user_id=f"lat{i}", seed=i))
        while len(pipeline.started) <= i:
            await asyncio.sleep(0.0005)
        latencies.append((pipeline.started[i] - begin) * 1000)
        await client.wait(job_id, timeout_s=60)

    # Throughput: a burst of jobs through both queues.
    begin = time.perf_counter()
    burst = [await client.submit(SubmitRequest(image=image, song="auto", user_id=f"tp{i}", seed=10_000 + i))
             for i in range(jobs)]
    finals = await asyncio.gather(*(client.wait(job_id, timeout_s=300) for job_id in burst))
    elapsed = time.perf_counter() - begin
    workers.cancel()
    try:
        await workers
    except (asyncio.CancelledError, Exception):
        pass
    keys = [k async for k in runtime.redis.scan_iter(match=f"{settings.queue_prefix}*")]
    if keys:
        await runtime.redis.delete(*keys)
    await runtime.close()
    latencies.sort()
    done = sum(1 for f in finals if f.status.value == "done")
    return {
        "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
        "jobs_per_s": done / elapsed,
        "jobs": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="one JSON line per result row (for bench/run)")
    args = parser.parse_args()
    result = asyncio.run(measure(args.jobs))
    rows = [
        {"measure": "queue submit-to-start p50", "wave": round(result["p50_ms"], 1), "reference": 50.0,
         "ratio": round(50.0 / max(result["p50_ms"], 1e-6), 2), "target": "p50 < 50 ms", "unit": "ms",
         "note": f"p95 {result['p95_ms']:.1f} ms over {result['jobs']} no-op jobs", "ok": result["p50_ms"] < 50.0},
        {"measure": "queue throughput (no-op jobs)", "wave": round(result["jobs_per_s"], 1), "reference": None,
         "ratio": None, "target": "-", "unit": "jobs/s", "note": "both queues, one process"},
    ]
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        for row in rows:
            print(f"{row['measure']:<34} {row['wave']:>8} {row['unit']:<6} target {row['target']}  ({row['note']})")


if __name__ == "__main__":
    main()
