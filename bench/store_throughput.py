"""Artifact store throughput (S3 API on loopback against the file store) and the measured cost of one job: bytes
and objects stored, store requests, database statements and Redis commands. The scale model in docs/DEPLOY.md is
built from these rows.

Needs redis-server on the PATH (a private one is started) and moto's S3 server (the dev extra).
    python bench/store_throughput.py [--mib 64] [--jobs 20] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client import REGISTRY
from redis import Redis
from sqlalchemy import event
from sqlalchemy.engine import Engine

from jobs.client import JobsClient, SubmitRequest
from jobs.runtime import Runtime
from jobs.s3store import S3ArtifactStore
from jobs.store import FileArtifactStore
from jobs.worker import run_workers
from wave_core.settings import Settings
from wave_testing.jobs_helpers import picture_bytes, short_song_midi
from wave_testing.s3_helpers import MotoServer, aws_env, faulty_proxy

FILE_MIB = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def store_rates(store, files: list[Path]) -> tuple[float, float]:
    """MiB/s to put the files, then to read them all back into memory (a cold read cache for the object store)."""
    total = sum(p.stat().st_size for p in files) / 2**20
    begin = time.perf_counter()
    keys = [store.put_file(p) for p in files]
    put_s = time.perf_counter() - begin
    begin = time.perf_counter()
    for key in keys:
        store.read_bytes(key)
    get_s = time.perf_counter() - begin
    return total / put_s, total / get_s


def _calls(redis: Redis) -> dict[str, int]:
    """Calls per Redis command so far (INFO commandstats), without the INFO calls of this bench."""
    return {name.removeprefix("cmdstat_"): stats["calls"] for name, stats in redis.info("commandstats").items()}


class Counters:
    """SQL statements of every engine in this process, by kind."""

    def __init__(self) -> None:
        self.writes = self.reads = 0
        event.listen(Engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, parameters, context, executemany) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE"):
            self.writes += 1
        elif verb == "SELECT":
            self.reads += 1


async def job_costs(settings: Settings, redis_url: str, proxy, jobs: int) -> dict:
    counters = Counters()
    redis = Redis.from_url(redis_url)
    runtime = await Runtime.open(settings)
    client = JobsClient(runtime)
    workers = asyncio.create_task(run_workers(settings, ["gpu", "cpu"]))
    await asyncio.sleep(3.0)  # workers up
    # Idle cost of the workers (queue polling, the reaper), taken out of the per-job figures below.
    polls0, writes0, reads0, begin = _calls(redis), counters.writes, counters.reads, time.perf_counter()
    await asyncio.sleep(5.0)
    idle_s = time.perf_counter() - begin
    polls = _calls(redis)
    idle = {"polls": sum(polls.values()) - sum(polls0.values()) - (polls.get("info", 0) - polls0.get("info", 0)),
            "writes": (counters.writes - writes0) / idle_s, "reads": (counters.reads - reads0) / idle_s}
    idle["polls"] /= idle_s

    proxy.seen.clear()
    commands0, writes0, reads0 = _calls(redis), counters.writes, counters.reads
    begin = time.perf_counter()
    finals = []
    for i in range(jobs):  # real lite jobs, one after another, so that stage times hold no queueing
        job_id = await client.submit(SubmitRequest(image=picture_bytes(100 + i), midi=short_song_midi(),
                                                   user_id=f"bench{i}", platform="discord", seed=i))
        finals.append(await client.wait(job_id, timeout_s=900))
    done = [f for f in finals if f.status.value == "done"]
    parts = {"mix": 0, "compressed": 0, "effects": 0, "music_s": 0.0}
    for final in done:  # delivery: the bot fetches the results into its own cache
        result = await client.result(final.job_id)
        parts["mix"] += result.latest.mix.stat().st_size
        parts["compressed"] += result.latest.mix_compressed.stat().st_size
        parts["effects"] += sum(s.effect.stat().st_size for s in result.sources)
        parts["music_s"] += result.latest.report["duration_s"]
    elapsed = time.perf_counter() - begin
    commands = {name: n - commands0.get(name, 0) for name, n in _calls(redis).items()}
    commands.pop("info", None)
    # A worker's poll: ZRANGEBYSCORE on its queue, and (aborts allowed) ZRANGE + ZREMRANGEBYSCORE in MULTI/EXEC;
    # a job still in its queue while it runs is looked at again on every poll (WATCH, EXISTS, ZSCORE, UNWATCH).
    polls = commands.pop("zrange", 0)
    rechecks = commands.get("unwatch", 0)
    poll_commands = polls * 5 + rechecks * 4
    commands.pop("zremrangebyscore", None)
    commands.pop("zrangebyscore", None)
    for name in ("multi", "exec"):
        commands[name] = max(0, commands.get(name, 0) - polls)
    for name in ("watch", "exists", "zscore", "unwatch"):
        commands[name] = max(0, commands.get(name, 0) - rechecks)
    writes = counters.writes - writes0 - idle["writes"] * elapsed
    reads = counters.reads - reads0 - idle["reads"] * elapsed
    requests = {}
    for method, _, _ in proxy.seen:
        requests[method] = requests.get(method, 0) + 1
    stages = {}
    for stage in ("seeing", "hearing", "casting", "building", "playing"):
        total = REGISTRY.get_sample_value("wave_stage_seconds_sum", {"stage": stage}) or 0.0
        count = REGISTRY.get_sample_value("wave_stage_seconds_count", {"stage": stage}) or 0.0
        stages[stage] = total / count if count else 0.0
    store = runtime.store
    sizes = [store.size(k) for k in dict(store.keys())]
    workers.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await workers
    await runtime.close()
    redis.close()
    return {"jobs": len(done), "seconds": elapsed, "redis_commands": sum(commands.values()) / len(done),
            "redis_top": sorted(((n / len(done), name) for name, n in commands.items()), reverse=True)[:5],
            "idle_commands_per_worker_s": idle["polls"] / 2, "busy_commands_per_worker_s": poll_commands / elapsed / 2,
            "db_writes": writes / len(done), "db_reads": reads / len(done), "bytes": sum(sizes) / len(done),
            "objects": len(sizes) / len(done), "stages": stages,
            "mix_bytes_per_s": (parts["mix"] + parts["compressed"]) / parts["music_s"],
            "effects_bytes": parts["effects"] / len(done), "music_s": parts["music_s"] / len(done), "requests": {m: n / len(done) for m, n in requests.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=64, help="MiB moved for the throughput rows")
    parser.add_argument("--jobs", type=int, default=6, help="real lite jobs for the per-job rows")
    parser.add_argument("--json", action="store_true", help="one JSON line per result row (for bench/run)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wave-store-bench-"))
    redis_port = _free_port()
    redis_server = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                     "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    moto = MotoServer()
    os.environ.update(aws_env(moto, tmp))
    rows = []

    def emit(row: dict) -> None:
        rows.append(row)
        print(json.dumps(row) if args.json else f"{row['measure']:<40} {row['wave']:>10} {row['unit']:<8} "
              f"reference {row['reference']}  ({row['note']})", flush=True)

    try:
        files = []
        for i in range(max(1, args.mib // FILE_MIB)):
            path = tmp / "src" / f"{i}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(os.urandom(FILE_MIB << 20))
            files.append(path)
        bucket = moto.make_bucket(f"wave-bench-{uuid.uuid4().hex[:8]}")
        s3_put, s3_get = store_rates(S3ArtifactStore(bucket, "bench", cache_dir=tmp / "cache",
                                                     endpoint_url=moto.endpoint, region="us-east-1"), files)
        file_put, file_get = store_rates(FileArtifactStore(tmp / "files"), files)
        note = f"{len(files)} files of {FILE_MIB} MiB on loopback; moto is a Python server, a real S3 is faster per stream"
        emit({"measure": "store put (S3 API, moto)", "wave": round(s3_put, 1), "reference": round(file_put, 1),
              "target": "-", "unit": "MiB/s", "note": f"reference: file store; {note}"})
        emit({"measure": "store get, cold cache (S3 API, moto)", "wave": round(s3_get, 1),
              "reference": round(file_get, 1), "target": "-", "unit": "MiB/s",
              "note": f"reference: file store; digest checked on every download; {note}"})

        job_bucket = moto.make_bucket(f"wave-jobs-{uuid.uuid4().hex[:8]}")
        with faulty_proxy(moto.port, lambda method, path: None) as proxy:  # counts the store requests
            settings = Settings(
                profile="lite", database_url=f"sqlite+aiosqlite:///{tmp}/bench.db", data_dir=tmp / "data",
                redis_url=f"redis://127.0.0.1:{redis_port}/0", queue_prefix="wavebench",
                store_url=f"s3://{job_bucket}/wave", store_endpoint_url=proxy.endpoint, store_region="us-east-1",
                max_queue_length=10_000, max_jobs_per_user_per_hour=10_000, max_concurrent_jobs_per_user=10_000,
            )
            costs = asyncio.run(job_costs(settings, settings.redis_url, proxy, args.jobs))
        per_job = f"{costs['jobs']} lite jobs one after another (6 s song, 2 workers in one process, SQLite)"
        stages = costs["stages"]
        emit({"measure": "gpu-queue task per job (lite, CPU)", "wave": round(stages["seeing"] + stages["hearing"], 2),
              "reference": None, "target": "-", "unit": "s",
              "note": f"seeing {stages['seeing']:.2f} s + hearing {stages['hearing']:.2f} s, mean; lite engines on this "
                      f"machine's CPU, beside the cpu queue; {per_job}"})
        emit({"measure": "cpu-queue task per job (lite)", "wave": round(sum(stages[s] for s in ("casting", "building", "playing")), 2),
              "reference": None, "target": "-", "unit": "s",
              "note": f"casting {stages['casting']:.2f} + building {stages['building']:.2f} + playing "
                      f"{stages['playing']:.2f} s, mean; {per_job}"})
        emit({"measure": "bytes stored per job", "wave": round(costs["bytes"] / 2**20, 2), "reference": None,
              "target": "-", "unit": "MiB",
              "note": f"{costs['objects']:.1f} objects per job; effects {costs['effects_bytes'] / 2**20:.2f} MiB; mix "
                      f"(WAV + compressed) {costs['mix_bytes_per_s'] / 2**20:.2f} MiB per second of music, "
                      f"{costs['music_s']:.1f} s songs; {per_job}"})
        requests = ", ".join(f"{m} {n:.1f}" for m, n in sorted(costs["requests"].items()))
        emit({"measure": "store requests per job", "wave": round(sum(costs["requests"].values()), 1),
              "reference": None, "target": "-", "unit": "requests", "note": f"{requests}; {per_job}"})
        emit({"measure": "database writes per job", "wave": round(costs["db_writes"], 1), "reference": None,
              "target": "-", "unit": "statements", "note": f"INSERT, UPDATE, DELETE; idle reaper subtracted; {per_job}"})
        emit({"measure": "database reads per job", "wave": round(costs["db_reads"], 1), "reference": None,
              "target": "-", "unit": "statements", "note": f"SELECT, bot side included; idle reaper subtracted; {per_job}"})
        top = ", ".join(f"{name} {n:.0f}" for n, name in costs["redis_top"])
        emit({"measure": "Redis commands per job", "wave": round(costs["redis_commands"], 1), "reference": None,
              "target": "-", "unit": "commands",
              "note": f"private redis-server, queue polls left out; most: {top}; {per_job}"})
        emit({"measure": "Redis commands of an idle worker", "wave": round(costs["idle_commands_per_worker_s"]),
              "reference": None, "target": "-", "unit": "cmd/s",
              "note": f"queue polls every 50 ms (arq poll_delay) plus the reaper; while jobs run: "
                      f"{costs['busy_commands_per_worker_s']:.0f} polling commands/s per worker"})
    finally:
        moto.stop()
        redis_server.terminate()
        redis_server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    if not rows:
        sys.exit(1)


if __name__ == "__main__":
    main()
