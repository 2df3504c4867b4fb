"""``wave doctor``: one screen that says whether this machine can run WAVE for a profile, and how to fix what fails.

Checks: Python packages (base, and the models extra for the gpu profile), the GPU and its memory, model weights,
Redis, the database and its migration level, the artifact store, whether the running workers have loaded their
engines, chat tokens and free disk. The exit code is 1 when a check that the chosen profile needs fails; optional
checks only warn.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
from importlib import metadata
from pathlib import Path
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from wave_core.settings import Settings, get_settings

out = Console()

Level = Literal["ok", "warn", "fail"]
DISTRIBUTION = "wave-band"
# Used when WAVE is not installed as a distribution (running from a bare checkout).
FALLBACK_REQUIREMENTS = {
    "base": ["numpy", "scipy", "soundfile", "librosa", "mido", "pedalboard", "pyloudnorm", "pillow", "scikit-image",
             "matplotlib", "pydantic", "pydantic-settings", "rich"],
    "models": ["torch", "transformers", "diffusers", "accelerate", "huggingface_hub", "xgrammar", "torchsde"],
}
# What workers and bots import besides the pipeline; checked even when the installed metadata predates them.
SERVICE_PACKAGES = ["arq", "redis", "sqlalchemy", "alembic", "aiosqlite", "asyncpg", "prometheus-client"]
CHAT_PACKAGES = {"discord": ["discord.py"], "slack": ["slack-bolt", "slack-sdk"]}
# The gpu profile keeps Qwen2.5-VL-7B (bf16, about 17 GB) and AudioLDM2 (fp16) on one GPU, plus activations.
GPU_MEMORY_NEEDED_GIB = 24
MIN_FREE_DISK_GIB = 2
# Qwen2.5-VL-7B (about 17 GB) and AudioLDM2 (safetensors only, about 5 GB), with some slack.
WEIGHTS_DOWNLOAD_GIB = 25
TIMEOUT_S = 5


class Check(BaseModel):
    name: str
    level: Level
    detail: str
    fix: str | None = None

    @property
    def failed(self) -> bool:
        return self.level == "fail"


def _requirements(extra: str) -> list[Requirement]:
    """The requirements of WAVE's installed metadata for ``base`` or an extra (plus the service packages)."""
    wanted = _declared_requirements(extra)
    if extra == "base":
        declared = {canonicalize_name(r.name) for r in wanted}
        wanted += [Requirement(n) for n in SERVICE_PACKAGES if canonicalize_name(n) not in declared]
    return wanted


def _declared_requirements(extra: str) -> list[Requirement]:
    try:
        lines = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return [Requirement(name) for name in FALLBACK_REQUIREMENTS.get(extra, [])]
    wanted = []
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        marker = requirement.marker
        in_base = marker is None or marker.evaluate({"extra": ""})
        if in_base if extra == "base" else (not in_base and marker.evaluate({"extra": extra})):
            wanted.append(requirement)
    return wanted


def check_packages(group: str, requirements: list[Requirement], required: bool, fix: str) -> Check:
    problems = []
    for requirement in requirements:
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{requirement.name} missing")
            continue
        if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name} {version} (wants {requirement.specifier})")
    if not problems:
        return Check(name=f"packages: {group}", level="ok", detail=f"{len(requirements)} packages installed")
    return Check(name=f"packages: {group}", level="fail" if required else "warn", detail="; ".join(problems), fix=fix)


def check_gpu(required: bool, device: str) -> Check:
    level: Level = "fail" if required else "warn"
    try:
        import torch
    except ImportError:
        return Check(name="gpu", level=level if required else "ok", detail="torch not installed",
                     fix="pip install -e '.[models]' (with a CUDA build of torch)" if required else None)
    if not torch.cuda.is_available():
        build = f"torch {torch.__version__}" + ("" if torch.version.cuda else ", a CPU-only build")
        return Check(name="gpu", level=level if required else "ok", detail=f"no CUDA device ({build})",
                     fix="install the NVIDIA driver and a CUDA build of torch, or use WAVE_PROFILE=lite" if required else None)
    index = torch.device(device).index if device.startswith("cuda:") else 0
    props = torch.cuda.get_device_properties(index or 0)
    free, total = torch.cuda.mem_get_info(index or 0)
    detail = f"{props.name}: {free / 2**30:.1f} of {total / 2**30:.1f} GiB free"
    if required and free / 2**30 < GPU_MEMORY_NEEDED_GIB:
        return Check(name="gpu", level="warn", detail=detail,
                     fix=f"the gpu profile wants about {GPU_MEMORY_NEEDED_GIB} GiB free; stop other GPU processes or "
                     "set WAVE_QWEN_MODEL to the smaller Qwen/Qwen2.5-VL-3B-Instruct")
    return Check(name="gpu", level="ok", detail=detail)


def check_weights(settings: Settings, profile: str) -> list[Check]:
    from wave_app.models_cmd import check_models

    try:
        states = check_models(settings, profile)
    except ImportError:
        return [Check(name="weights", level="fail", detail="huggingface_hub not installed",
                      fix="pip install -e '.[models]'")]
    if not states:
        return [Check(name="weights", level="ok", detail=f"the {profile} profile needs none")]
    return [
        Check(name=f"weights: {state.spec.role}", level="ok" if state.present else "fail",
              detail=f"{state.spec.ref}: {state.where if state.present else state.detail}", fix=state.fix)
        for state in states
    ]


async def check_redis(url: str) -> Check:
    from redis.asyncio import Redis

    redis = Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
    try:
        await asyncio.wait_for(redis.ping(), TIMEOUT_S)
        info = await redis.info("server")
        return Check(name="redis", level="ok", detail=f"{_hide_password(url)}: redis {info.get('redis_version', '?')}")
    except Exception as exc:
        return Check(name="redis", level="fail", detail=f"{_hide_password(url)}: {_short(exc)}",
                     fix="start Redis (e.g. `redis-server` or `docker compose up -d redis`) or set WAVE_REDIS_URL to where it runs")
    finally:
        await redis.aclose()


async def check_workers(url: str, prefix: str) -> Check:
    """What the running workers reported about their engines (loaded and warm, or the error that stopped them)."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from jobs.readiness import read_readiness

    redis = Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
    try:
        reports = await asyncio.wait_for(read_readiness(redis, prefix), TIMEOUT_S)
    except (RedisError, OSError, TimeoutError) as exc:
        return Check(name="workers", level="warn", detail=f"could not read worker reports: {_short(exc)}")
    finally:
        await redis.aclose()
    if not reports:
        return Check(name="workers", level="warn", detail="no worker has reported in the last minute",
                     fix="start one with `wave worker` (its engines are loaded and warmed before it takes jobs)")
    lines, failed = [], []
    for report in reports:
        where = f"{report.queue} worker {report.host}:{report.pid} ({report.profile})"
        if report.ready:
            engines = ", ".join(f"{stage} {name}" for stage, name in report.engines.items()) or "no model engines"
            warm = f", warmed in {report.warm_up_s:g} s" if report.warm_up_s is not None else ""
            lines.append(f"{where}: ready, {engines}{warm}")
        elif report.error:
            failed.append(f"{where}: {report.error}")
        else:
            lines.append(f"{where}: loading its engines")
    if failed:
        return Check(name="workers", level="fail", detail="; ".join(failed + lines),
                     fix="fix what the worker says (often `wave models download --profile gpu`) and restart it")
    return Check(name="workers", level="ok", detail="; ".join(lines))


async def check_database(url: str) -> Check:
    from db.migrate import current_revision, head_revision
    from db.session import make_engine

    safe_url = _hide_password(url)
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and not sqlite_file.exists():
        return Check(name="database", level="fail", detail=f"{safe_url}: no database file yet",
                     fix="run `wave db upgrade` to create it")
    engine = make_engine(url)
    try:
        current = await asyncio.wait_for(current_revision(engine), TIMEOUT_S * 2)
    except Exception as exc:
        return Check(name="database", level="fail", detail=f"{safe_url}: {_short(exc)}",
                     fix="start the database or set WAVE_DATABASE_URL (postgresql+asyncpg://user:pass@host/db or sqlite+aiosqlite:///path)")
    finally:
        await engine.dispose()
    head = head_revision()
    if current == head:
        return Check(name="database", level="ok", detail=f"{safe_url}: at the newest migration ({head})")
    where = "not migrated yet" if current is None else f"at {current}, newest is {head}"
    return Check(name="database", level="fail", detail=f"{safe_url}: {where}", fix="run `wave db upgrade`")


def check_store(settings: Settings) -> Check:
    """The artifact store answers, and a probe object can be written, read back and deleted."""
    from jobs.store import open_store

    name = "artifact store"
    try:
        detail = open_store(settings).check()
    except ValueError as exc:
        return Check(name=name, level="fail", detail=str(exc), fix="set WAVE_STORE_URL=s3://bucket/prefix")
    except ImportError as exc:
        return Check(name=name, level="fail", detail=_short(exc), fix="pip install -e '.[service]' (boto3)")
    except Exception as exc:
        s3 = bool(settings.store_url)
        return Check(name=name, level="fail", detail=getattr(exc, "detail", None) or _short(exc),
                     fix="check WAVE_STORE_URL, WAVE_STORE_ENDPOINT_URL and the store credentials (AWS_* or "
                     "WAVE_STORE_PROFILE)" if s3 else "point WAVE_ARTIFACTS_DIR at a writable folder")
    return Check(name=name, level="ok", detail=detail)


def check_chat(settings: Settings, platforms: list[str]) -> list[Check]:
    """A platform listed in ``platforms`` must have its tokens and packages; the others are only reported."""
    tokens = {
        "discord": {"WAVE_DISCORD_TOKEN": settings.discord_token},
        "slack": {"WAVE_SLACK_BOT_TOKEN": settings.slack_bot_token,
                  **({"WAVE_SLACK_APP_TOKEN": settings.slack_app_token} if settings.slack_mode == "socket"
                     else {"WAVE_SLACK_SIGNING_SECRET": settings.slack_signing_secret})},
    }
    checks = []
    for platform, needed in tokens.items():
        required = platform in platforms
        missing = [name for name, value in needed.items() if not value]
        if missing:
            checks.append(Check(name=f"chat: {platform}", level="fail" if required else "warn",
                                detail=f"{', '.join(missing)} not set",
                                fix=f"set {', '.join(missing)} in .env (needed by `wave bot {platform}`)"))
        else:
            checks.append(Check(name=f"chat: {platform}", level="ok", detail="tokens set"))
        if required:
            checks.append(check_packages(f"{platform} bot", [Requirement(n) for n in CHAT_PACKAGES[platform]], True,
                                         f"pip install {' '.join(CHAT_PACKAGES[platform])}"))
    return checks


def check_disk(settings: Settings, weights_missing: bool) -> list[Check]:
    checks = []
    places = [("disk: data", settings.data_dir, MIN_FREE_DISK_GIB)]
    if weights_missing:
        from wave_app.models_cmd import cache_location

        places.append(("disk: model cache", cache_location(settings), WEIGHTS_DOWNLOAD_GIB))
    for name, path, needed in places:
        existing = _nearest_existing(Path(path))
        free = shutil.disk_usage(existing).free / 2**30
        detail = f"{free:.1f} GiB free at {existing}"
        if free < needed:
            checks.append(Check(name=name, level="fail", detail=detail,
                                fix=f"free at least {needed} GiB there or point {'WAVE_DATA_DIR' if name == 'disk: data' else 'WAVE_MODEL_DIR'} elsewhere"))
        else:
            checks.append(Check(name=name, level="ok", detail=detail))
    return checks


def run_checks(settings: Settings, profile: str | None = None, chat: list[str] | None = None,
               services: bool = True) -> list[Check]:
    profile = profile or settings.profile
    gpu = profile == "gpu"
    checks = [
        check_packages("base", _requirements("base"), True, "pip install -e . (or scripts/bootstrap base)"),
        check_packages("models extra", _requirements("models"), gpu, "pip install -e '.[models]'"),
        check_gpu(gpu, settings.device),
    ]
    weights = check_weights(settings, profile)
    checks += weights
    if services:
        async def both() -> list[Check]:
            return list(await asyncio.gather(check_redis(settings.redis_url), check_database(settings.database_url),
                                             asyncio.to_thread(check_store, settings),
                                             check_workers(settings.redis_url, settings.queue_prefix)))

        checks += asyncio.run(both())
    checks += check_chat(settings, chat or [])
    checks += check_disk(settings, any(c.failed for c in weights))
    return checks


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _nearest_existing(path: Path) -> Path:
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


MARKS = {"ok": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]"}


def print_checks(checks: list[Check], console: Console = out) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(width=1)
    table.add_column(style="bold")
    table.add_column()
    for check in checks:
        text = escape(check.detail)
        if check.fix and check.level != "ok":
            text += f"\n[dim]fix:[/] {escape(check.fix)}"
        table.add_row(MARKS[check.level], check.name, text)
    console.print(table)


def cmd_doctor(args: argparse.Namespace) -> int:
    settings = get_settings()
    profile = args.profile or settings.profile
    checks = run_checks(settings, profile, chat=args.chat or [], services=not args.no_services)
    out.print(f"[bold]WAVE doctor[/] (profile {profile})")
    print_checks(checks)
    failed = [c for c in checks if c.failed]
    if failed:
        out.print(f"[red]{len(failed)} problem(s) to fix[/] before running the {profile} profile.")
        return 1
    out.print("[green]ready[/]")
    return 0


def register(sub: argparse._SubParsersAction, add) -> None:
    p = add("doctor", cmd_doctor, "Check packages, GPU, weights, Redis, the database, the artifact store, chat tokens and disk; say how to fix.")
    p.add_argument("--profile", choices=["lite", "gpu"], help="the profile to check for (default WAVE_PROFILE)")
    p.add_argument("--chat", nargs="+", choices=["discord", "slack"], default=[],
                   help="chat apps this machine runs: their tokens become required")
    p.add_argument("--no-services", action="store_true", help="skip Redis, the database and the artifact store")
