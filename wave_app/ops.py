"""Operator commands of ``wave``: database, workers, submitting and inspecting jobs, garbage collection."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path

from rich.console import Console
from rich.table import Table

from wave_core.settings import get_settings

out = Console()


async def _runtime(migrate: bool = True):
    from jobs.runtime import Runtime

    return await Runtime.open(get_settings(), migrate=migrate)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from db.migrate import head_revision, upgrade

    settings = get_settings()
    asyncio.run(upgrade(settings.database_url))
    out.print(f"database at revision {head_revision()}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from jobs.worker import run_workers
    from wave_core.logging_setup import setup_logging_from
    from wave_core.metrics import with_metrics

    settings = get_settings()
    setup_logging_from(settings)
    queues = ["gpu", "cpu"] if args.queue == "all" else [args.queue]
    out.print(f"WAVE worker on {', '.join(queues)} (profile {settings.profile}); Ctrl-C stops it")
    # A container or service manager stops a process with SIGTERM: stop as on Ctrl-C, so the worker's stages let
    # go and its scratch folder is removed, rather than dying where it stands.
    signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
    try:
        asyncio.run(with_metrics(settings, run_workers(settings, queues, burst=args.burst)))
    except KeyboardInterrupt:
        pass
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    from jobs.client import JobsClient, SubmitRequest
    from pipeline.vision.intake import read_image_bytes

    request = SubmitRequest(
        image=read_image_bytes(args.image), song=args.song, cue=args.cue, profile=args.profile, seed=args.seed,
        user_id=args.user,
    )

    async def go() -> int:
        runtime = await _runtime()
        try:
            client = JobsClient(runtime)
            job_id = await client.submit(request)
            print(job_id)
            if args.wait:
                async for event in client.events(job_id, timeout_s=args.timeout):
                    out.print(f"[dim]{event.progress * 100:5.1f}%[/] {event.status.value:<9} {event.message}", highlight=False)
                final = await client.status(job_id)
                return 0 if final.status.value == "done" else 1
            return 0
        finally:
            await runtime.close()

    return asyncio.run(go())


def cmd_jobs(args: argparse.Namespace) -> int:
    async def go() -> int:
        runtime = await _runtime()
        try:
            from jobs.client import JobsClient

            client = JobsClient(runtime)
            if args.action == "list":
                table = Table()
                for column in ("id", "status", "progress", "song", "created", "message"):
                    table.add_column(column)
                for job in await client.list_jobs(args.limit):
                    table.add_row(job.id, job.status, f"{job.progress * 100:.0f}%", job.song_ref,
                                  job.created_at.strftime("%Y-%m-%d %H:%M:%S"), job.message)
                out.print(table)
            elif args.action == "show":
                if not args.job_id:
                    raise SystemExit("wave jobs show JOB_ID")
                result = await client.result(args.job_id)
                data = json.loads(result.model_dump_json())
                if args.json:
                    print(json.dumps(data, indent=2))
                else:
                    out.print_json(json.dumps(data))
            elif args.action == "reap":
                from jobs.reaper import reap

                out.print(f"queued again: {await reap(runtime)}")
            return 0
        finally:
            await runtime.close()

    return asyncio.run(go())


def cmd_gc(args: argparse.Namespace) -> int:
    from jobs.gc import collect_garbage

    async def go():
        runtime = await _runtime()
        try:
            return await collect_garbage(runtime, retention_days=args.days)
        finally:
            await runtime.close()

    report = asyncio.run(go())
    out.print(f"removed {report.jobs_removed} old jobs and {report.artifacts_removed} files "
              f"({report.bytes_freed / 2**20:.1f} MiB)")
    return 0


def cmd_bot(args: argparse.Namespace) -> int:
    from wave_core.logging_setup import setup_logging_from

    settings = get_settings()
    setup_logging_from(settings)
    if args.platform == "discord":
        from bot.discord import run_discord

        run_discord(settings)
    else:
        from bot.slack import run_slack

        run_slack(settings)
    return 0


def register(sub: argparse._SubParsersAction, add) -> None:
    p = add("db", cmd_db_upgrade, "Database maintenance: `wave db upgrade` applies the migrations.")
    p.add_argument("action", choices=["upgrade"])

    p = add("worker", cmd_worker, "Run a queue worker (gpu: vision + effects; cpu: casting, instruments, render, mix).")
    p.add_argument("--queue", choices=["gpu", "cpu", "all"], default="all", help="queue to serve (default: all, for the lite profile)")
    p.add_argument("--burst", action="store_true", help="stop when the queues are empty")

    p = add("submit", cmd_submit, "Queue a picture as a job (prints the job id).")
    p.add_argument("image", type=Path, metavar="IMAGE")
    p.add_argument("--song", required=True, metavar="ID|auto", help="a library song id or auto")
    p.add_argument("--cue", help="a few words that steer the mood")
    p.add_argument("--profile", choices=["lite", "gpu"], help="engines profile (default WAVE_PROFILE)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--user", default="local", help="who submits (quotas are per user)")
    p.add_argument("--wait", action="store_true", help="follow the job's progress until it ends")
    p.add_argument("--timeout", type=float, default=900, help="seconds to follow with --wait")

    p = add("jobs", cmd_jobs, "Inspect jobs: list, show ID [--json], reap (queue stuck jobs again).")
    p.add_argument("action", choices=["list", "show", "reap"])
    p.add_argument("job_id", nargs="?")
    p.add_argument("--json", action="store_true", help="machine-readable output (show)")
    p.add_argument("--limit", type=int, default=20)

    p = add("bot", cmd_bot, "Run a chat adapter: `wave bot discord` (WAVE_DISCORD_TOKEN) or `wave bot slack`.")
    p.add_argument("platform", choices=["discord", "slack"])

    p = add("gc", cmd_gc, "Delete old finished jobs and unreferenced artifacts (retention: WAVE_ARTIFACT_RETENTION_DAYS).")
    p.add_argument("--days", type=int, help="override the retention in days")
