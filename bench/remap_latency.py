"""Remap latency: from a session reaction to the new mix being ready, through the bot's debouncer, the real jobs
client and a real lite worker process; and the remap's rebuild work with the instrument cache against without it.

Each remap moves one sound to another part (a swap, so two parts change), the way a reaction does: the move goes
through ``RemapDebouncer`` with the bots' default delay, then ``JobsClient.remap_many``; the clock stops when the
client has heard the job is done and can hand out the new mix file. Stage times come from the worker's events; the
worker's CPU seconds per remap (all its threads) are read from the process, as they hold still on a busy machine where
wall times stretch. Before each reaction the bench waits ``--listen`` seconds, as a person hears the new mix before
moving another sound (the worker builds likely instruments ahead in such pauses); ``--listen 0`` reacts at once.
Needs Redis on 127.0.0.1:6379.
    python bench/remap_latency.py [--remaps 5] [--listen 5] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._rows import print_rows  # noqa: E402
from bot.common import REMAP_DEBOUNCE_S  # noqa: E402
from bot.debounce import RemapDebouncer  # noqa: E402
from db.models import JobStatus  # noqa: E402
from jobs.client import JobsClient, SubmitRequest  # noqa: E402
from jobs.runtime import Runtime  # noqa: E402
from pipeline.types import EffectInput, Session  # noqa: E402
from wave_core.settings import Settings  # noqa: E402
from wave_testing.jobs_helpers import WorkerProcess, picture_bytes  # noqa: E402

TARGET_S = 4.0


async def one_remap(client: JobsClient, job_id: str, variant_id: str, target: Session, worker: psutil.Process
                    ) -> dict:
    """One reaction; returns the moments (seconds after it) at which each step was seen."""
    marks: dict[str, float] = {}
    cpu_before = sum(worker.cpu_times()[:2])
    applied: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    begin = time.perf_counter()

    async def apply(job: str, moves: list[tuple[str, Session]]) -> None:
        marks["debounced"] = time.perf_counter() - begin
        version = await client.remap_many(job, moves)
        marks["queued"] = time.perf_counter() - begin
        applied.set_result(version)

    debouncer = RemapDebouncer(apply, delay=REMAP_DEBOUNCE_S)
    debouncer.add(job_id, variant_id, target)
    version = await applied
    async for event in client.events(job_id, timeout_s=120):
        now = time.perf_counter() - begin
        if event.message.startswith("Remapping"):
            continue
        marks.setdefault(event.status.value, now)  # first sight of each stage of the worker
    result = await client.result(job_id)
    render = next(r for r in result.renders if r.version == version)
    if render.status != "done" or render.mix_compressed is None or not render.mix_compressed.exists():
        raise SystemExit(f"remap to version {version} did not finish: {result.status} {result.error}")
    marks["ready"] = time.perf_counter() - begin
    marks["worker_cpu"] = sum(worker.cpu_times()[:2]) - cpu_before
    marks["stems_reused"] = len(render.report.get("stems_reused") or [])
    marks["work"] = sum(render.report.get("timings_s", {}).values())
    marks["instruments"] = render.report.get("timings_s", {}).get("instruments", 0.0)
    return marks


def moves_for(assignment: dict[str, str], count: int) -> list[tuple[str, Session]]:
    """``count`` moves that each swap two parts' sounds, cycling through the pairs."""
    held = [(Session(s), v) for s, v in assignment.items()]
    moves = []
    for i in range(count):
        (from_session, variant), (to_session, _) = held[i % len(held)], held[(i + 1) % len(held)]
        moves.append((variant, to_session))
        # after the swap the variant plays to_session and the other sound plays from_session
        index = {s: k for k, (s, _) in enumerate(held)}
        other = dict(held)[to_session]
        held[index[to_session]] = (to_session, variant)
        held[index[from_session]] = (from_session, other)
    return moves


def rebuild_work(effects: list[EffectInput], song: str, before: dict[str, str], after: dict[str, str],
                 settings: Settings, cached: bool) -> float:
    """Seconds of ``play`` for the remap ``before`` -> ``after``, the first render having run just before it; with
    ``cached``, the worker's instrument and stem caches are on."""
    from jobs.runner import WavePipeline

    pipeline = WavePipeline(settings.model_copy(update={"instrument_cache_mb": 512 if cached else 0,
                                                        "stem_cache_mb": 384 if cached else 0,
                                                        "remap_prepare_instruments": 0,
                                                        "data_dir": settings.data_dir / ("c" if cached else "u")}))
    with tempfile.TemporaryDirectory(prefix="wave-bench-") as tmp:
        def play(assignment: dict[str, str], name: str, casting_picture: bool) -> float:
            start = time.perf_counter()
            pipeline.play(effects, song, Path(tmp) / name, mood="", seed=0,
                          overrides={Session(s): v for s, v in assignment.items()}, progress=lambda *_: None,
                          casting_picture=casting_picture)
            return time.perf_counter() - start

        play(before, "first", casting_picture=True)
        return play(after, "remap", casting_picture=False)  # as the worker plays a new version


async def measure(remaps: int, listen_s: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="wave-bench-remap-"))
    settings = Settings(profile="lite", database_url=f"sqlite+aiosqlite:///{work}/wave.db",
                        queue_prefix=f"wavebench-{uuid.uuid4().hex[:8]}", data_dir=work / "data",
                        artifacts_dir=work / "artifacts", max_jobs_per_user_per_hour=100)
    runtime = await Runtime.open(settings)
    client = JobsClient(runtime)
    worker = WorkerProcess(settings, work / "worker.log")
    try:
        job_id = await client.submit(SubmitRequest(image=picture_bytes(), song="auto", user_id="bench"))
        final = await client.wait(job_id, timeout_s=600)
        if final.status != JobStatus.DONE:
            raise SystemExit(f"the first render did not finish: {final.status} {final.error}")
        first = await client.result(job_id)
        assignment = {s.session: s.variant_id for s in first.sources if s.session}
        song = first.latest.report["song"]["id"]
        # the first remap warms the worker's remap path; the rest are measured
        process = psutil.Process(worker.pid)
        samples = []
        for variant, target in moves_for(assignment, remaps + 1):
            await asyncio.sleep(listen_s)
            samples.append(await one_remap(client, job_id, variant, target, process))
        measured = samples[1:]
        effects = [EffectInput(id=s.variant_id, path=s.effect, name=s.name) for s in first.sources if s.effect]
        swapped = dict(assignment)
        (a, va), (b, vb) = list(assignment.items())[:2]
        swapped[a], swapped[b] = vb, va
    finally:
        worker.stop()
        keys = [k async for k in runtime.redis.scan_iter(match=f"{settings.queue_prefix}*")]
        if keys:
            await runtime.redis.delete(*keys)
        await runtime.close()
    uncached = rebuild_work(effects, song, assignment, swapped, settings, cached=False)
    cached = rebuild_work(effects, song, assignment, swapped, settings, cached=True)
    ready = sorted(m["ready"] for m in measured)

    def median(name: str) -> float:
        return statistics.median(m.get(name, float("nan")) for m in measured)

    return {"median_s": statistics.median(ready), "max_s": ready[-1], "remaps": len(ready),
            "debounce_s": median("debounced"), "queued_s": median("queued"), "picked_up_s": median("casting"),
            "done_s": median("done"), "work_s": median("work"), "instruments_s": median("instruments"),
            "worker_cpu_s": median("worker_cpu"), "stems_reused": median("stems_reused"),
            "uncached_s": uncached, "cached_s": cached}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--remaps", type=int, default=5)
    parser.add_argument("--listen", type=float, default=5.0,
                        help="seconds a person listens to the mix before the next reaction (default 5)")
    parser.add_argument("--json", action="store_true", help="one JSON line per result row (for bench/run)")
    args = parser.parse_args()
    r = asyncio.run(measure(args.remaps, max(0.0, args.listen)))
    load = os.getloadavg()[0]  # the machine may be shared: busy cores stretch every stage
    stages = (f"debounce {r['debounce_s']:.2f} s, queued {r['queued_s']:.2f}, picked up {r['picked_up_s']:.2f}, "
              f"done {r['done_s']:.2f}, ready {r['median_s']:.2f} (worker's play {r['work_s']:.2f} s, "
              f"instruments {r['instruments_s']:.2f} s; worker CPU {r['worker_cpu_s']:.2f} s; "
              f"stems reused {r['stems_reused']:g} of 4); medians")
    rows = [
        {"measure": "remap: reaction -> new mix ready (median)", "wave": round(r["median_s"], 2),
         "reference": TARGET_S, "ratio": round(r["median_s"] / TARGET_S, 2), "target": "<= 4 s", "unit": "s",
         "note": f"lite, 1 worker process, {r['remaps']} remaps {args.listen:g} s after the last mix, max {r['max_s']:.2f} s, load {load:.1f} on "
                 f"{os.cpu_count()} cores; {stages}",
         "ok": r["median_s"] <= TARGET_S},
        {"measure": "remap rebuild work, instrument+stem caches", "wave": round(r["cached_s"], 3),
         "reference": round(r["uncached_s"], 3), "ratio": round(r["uncached_s"] / r["cached_s"], 2),
         "target": "-", "unit": "s",
         "note": "play() of a two-part swap after the first render, its picture left for later as the worker does; reference: no caches; ratio: speed-up"},
    ]
    print_rows(rows, args.json, lambda row: f"{row['measure']:<44} {row['wave']:>7} {row['unit']}  "
                                            f"ref {row['reference']}  ({row['note']})")


if __name__ == "__main__":
    main()
