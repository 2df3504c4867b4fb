"""A crash loop for the job system: worker processes SIGKILLed at random (seeded) moments while jobs run.

Each worker process (``python -m wave_testing.crash_loop``) runs the lite pipeline and records in Redis when each stage's
work really starts and ends in it; a killed process's open stages end at the moment it was killed. From that record,
``crash_loop`` reports whether any stage ran twice at once and how long each killed stage took to start again.
Shared by the crash test and ``bench/crash_recovery.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from jobs.client import JobsClient, SubmitRequest
from jobs.events import JobEvent
from jobs.runtime import Runtime
from wave_core.settings import Settings
from wave_testing.jobs_helpers import WorkerProcess, picture_bytes, short_song_midi

STAGE_LOG_ENV = "WAVE_TEST_STAGE_LOG"


class RecordingPipeline:
    """The lite pipeline, recording each stage's start and end (stage named by the job's seed) in a Redis list."""

    def __init__(self, inner, redis_url: str, log_key: str) -> None:
        from redis import Redis

        self.inner = inner
        self.redis = Redis.from_url(redis_url)
        self.log_key = log_key

    def _record(self, stage: str, event: str) -> None:
        self.redis.rpush(self.log_key, json.dumps({"stage": stage, "pid": os.getpid(), "event": event, "t": time.time()}))

    def _recorded(self, stage: str, work):
        self._record(stage, "start")
        try:
            return work()
        finally:
            self._record(stage, "end")

    def warm_up(self) -> None:
        self.inner.warm_up()

    def see_and_hear(self, image, cue, profile, seed, out_dir, progress):
        return self._recorded(f"see:{seed}", lambda: self.inner.see_and_hear(image, cue, profile, seed, out_dir, progress))

    def play(self, effects, song, out_dir, *, seed, **options):
        return self._recorded(f"play:{seed}", lambda: self.inner.play(effects, song, out_dir, seed=seed, **options))

    def draw_casting(self, out_dir, effects):
        return self.inner.draw_casting(out_dir, effects)


def main() -> None:
    """A worker process for both queues with the recording pipeline; settings come from the environment."""
    from jobs.runner import WavePipeline
    from jobs.worker import run_workers
    from wave_core.logging_setup import setup_logging_from

    settings = Settings()
    setup_logging_from(settings)
    pipeline = RecordingPipeline(WavePipeline(settings), settings.redis_url, os.environ[STAGE_LOG_ENV])
    asyncio.run(run_workers(settings, ["gpu", "cpu"], pipeline=pipeline))


@dataclass
class Interval:
    stage: str
    pid: int
    start: float
    end: float | None = None


@dataclass
class Kill:
    pid: int
    at: float
    stages: list[str]


@dataclass
class CrashLoopResult:
    finals: dict[str, JobEvent]
    intervals: list[Interval]
    kills: list[Kill]
    resumes_s: list[float] = field(default_factory=list)  # per killed stage: kill to its next start

    def overlaps(self) -> list[tuple[Interval, Interval]]:
        """Pairs of runs of one stage that overlapped in time."""
        found = []
        by_stage: dict[str, list[Interval]] = {}
        for interval in self.intervals:
            by_stage.setdefault(interval.stage, []).append(interval)
        for runs in by_stage.values():
            runs.sort(key=lambda r: r.start)
            for before, after in itertools.pairwise(runs):
                if before.end is None or after.start < before.end:
                    found.append((before, after))
        return found


def read_intervals(entries: list[bytes], kills: list[Kill]) -> list[Interval]:
    open_runs: dict[tuple[str, int], Interval] = {}
    intervals = []
    for raw in entries:
        entry = json.loads(raw)
        key = (entry["stage"], entry["pid"])
        if entry["event"] == "start":
            open_runs[key] = Interval(entry["stage"], entry["pid"], entry["t"])
            intervals.append(open_runs[key])
        elif key in open_runs:
            open_runs.pop(key).end = entry["t"]
    killed_at = {k.pid: k.at for k in kills}
    for interval in open_runs.values():
        interval.end = killed_at.get(interval.pid)
    return intervals


def running_stages(intervals: list[Interval], pid: int) -> list[str]:
    return [i.stage for i in intervals if i.pid == pid and i.end is None]


async def crash_loop(settings: Settings, work_dir: Path, *, kills: int = 20, processes: int = 3, seed: int = 20,
                     in_flight: int = 6, max_gap_s: float = 2.0, timeout_s: float = 900) -> CrashLoopResult:
    """Run jobs on ``processes`` worker processes and SIGKILL one that is in the middle of a stage, after a random
    pause of up to ``max_gap_s``, ``kills`` times (a killed process is replaced at once, as a supervisor would).
    Jobs are submitted to keep ``in_flight`` of them running. Returns when every job has finished."""
    rng = random.Random(seed)
    stage_log = f"{settings.queue_prefix}:stage-log"
    runtime = await Runtime.open(settings)
    client = JobsClient(runtime)
    spawned = 0

    def spawn() -> WorkerProcess:
        nonlocal spawned
        spawned += 1
        return WorkerProcess(settings, work_dir / f"worker{spawned}.log", command=("wave_testing.crash_loop",),
                             env={STAGE_LOG_ENV: stage_log, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"})

    image_seed = iter(range(1000, 10_000))

    async def submit() -> str:
        job_seed = next(image_seed)
        return await client.submit(SubmitRequest(image=picture_bytes(job_seed), midi=short_song_midi(4.0),
                                                 user_id=f"crash{job_seed}", platform="cli", seed=job_seed))

    # One job on one worker first: it fills the compiled-kernel cache that every later process only reads.
    workers = [spawn()]
    job_ids = [await submit()]
    done = {job_ids[0]: await client.wait(job_ids[0], timeout_s=timeout_s)}
    workers += [spawn() for _ in range(processes - 1)]
    killed: list[Kill] = []
    stage_kills: dict[str, int] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while len(killed) < kills:
            assert time.monotonic() < deadline, f"only {len(killed)} kills in {timeout_s} s; logs in {work_dir}"
            for job_id in job_ids:
                if job_id not in done:
                    status = await client.status(job_id)
                    if status.finished:
                        done[job_id] = status
            while len(job_ids) - len(done) < in_flight:
                job_ids.append(await submit())
            await asyncio.sleep(rng.uniform(0.2, max_gap_s))
            intervals = read_intervals(await runtime.redis.lrange(stage_log, 0, -1), killed)
            # A stage stopped more than job_retries + 2 times is failed on purpose (a poison job): stay below that,
            # so that every job is expected to finish.
            busy = [w for w in workers if w.proc.poll() is None and running_stages(intervals, w.pid)
                    and max(stage_kills.get(s, 0) for s in running_stages(intervals, w.pid)) <= settings.job_retries]
            if not busy:
                continue
            # Spread the kills over the jobs.
            fewest = min(max((stage_kills.get(s, 0) for s in running_stages(intervals, w.pid)), default=0) for w in busy)
            candidates = [w for w in busy
                          if max(stage_kills.get(s, 0) for s in running_stages(intervals, w.pid)) == fewest]
            victim = rng.choice(candidates)
            stages = running_stages(intervals, victim.pid)
            killed.append(Kill(victim.pid, victim.kill(), stages))
            victim.stop()
            for stage in stages:
                stage_kills[stage] = stage_kills.get(stage, 0) + 1
            workers[workers.index(victim)] = spawn()
        for job_id in job_ids:
            if job_id not in done:
                done[job_id] = await client.wait(job_id, timeout_s=max(1.0, deadline - time.monotonic()))
        intervals = read_intervals(await runtime.redis.lrange(stage_log, 0, -1), killed)
    finally:
        for worker in workers:
            worker.stop()
        await runtime.close()
    result = CrashLoopResult(done, intervals, killed)
    for kill in killed:
        for stage in kill.stages:
            later = [i.start for i in intervals if i.stage == stage and i.start >= kill.at]
            if later:
                result.resumes_s.append(min(later) - kill.at)
    return result


if __name__ == "__main__":
    main()
