"""`wave doctor` against the real local Redis and PostgreSQL, a wrong Redis port, and databases behind on
migrations."""

from __future__ import annotations

import asyncio

from db.migrate import head_revision, upgrade
from wave_app import doctor
from wave_app.doctor import run_checks
from wave_core.settings import Settings
from wave_testing.cli_helpers import run_command
from wave_testing.services import REDIS_TEST_URL


def by_name(checks) -> dict:
    return {check.name: check for check in checks}


def run_cli(argv: list[str], settings: Settings, monkeypatch) -> int:
    return run_command(argv, settings, monkeypatch, doctor)


async def test_real_redis_and_migrated_postgres_pass(postgres_url, tmp_path):
    await upgrade(postgres_url)
    settings = Settings(profile="lite", redis_url=REDIS_TEST_URL, database_url=postgres_url, data_dir=tmp_path,
                        discord_token="x" * 10)
    checks = by_name(await asyncio.to_thread(run_checks, settings))
    assert checks["redis"].level == "ok" and ": redis " in checks["redis"].detail  # the server's version
    assert checks["database"].level == "ok" and head_revision() in checks["database"].detail
    assert checks["weights"].level == "ok" and "needs none" in checks["weights"].detail
    assert checks["chat: discord"].level == "ok" and checks["chat: slack"].level == "warn"
    assert checks["disk: data"].level == "ok" and "GiB free" in checks["disk: data"].detail
    assert "disk: model cache" not in checks  # nothing to download for the lite profile


async def test_unmigrated_or_old_postgres_says_run_db_upgrade(postgres_url):
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    check = await doctor.check_database(postgres_url)
    assert check.failed and "not migrated yet" in check.detail and check.fix == "run `wave db upgrade`"
    first = ScriptDirectory.from_config(alembic_config(postgres_url)).get_base()
    if first != head_revision():
        await upgrade(postgres_url, first)
        check = await doctor.check_database(postgres_url)
        assert check.failed and f"at {first}, newest is {head_revision()}" in check.detail
    await upgrade(postgres_url)
    assert (await doctor.check_database(postgres_url)).level == "ok"


def test_wrong_redis_port_fails_with_a_fix_line_and_exit_code(tmp_path, monkeypatch, capsys):
    database = f"sqlite+aiosqlite:///{tmp_path}/wave.db"
    asyncio.run(upgrade(database))
    settings = Settings(profile="lite", redis_url="redis://127.0.0.1:6399/0", database_url=database, data_dir=tmp_path)
    checks = by_name(run_checks(settings))
    redis = checks["redis"]
    assert redis.failed and "6399" in redis.detail and "WAVE_REDIS_URL" in redis.fix
    assert checks["database"].level == "ok"

    monkeypatch.setattr("rich.console.Console.width", property(lambda self: 200))
    assert run_cli(["doctor"], settings, monkeypatch) == 1
    screen = capsys.readouterr().out
    assert any(line.lstrip().startswith("✗") and "redis" in line for line in screen.splitlines())
    assert "fix: start Redis" in screen and "WAVE_REDIS_URL" in screen
    assert "problem(s) to fix" in screen


def test_missing_sqlite_file_is_reported_not_created(tmp_path):
    path = tmp_path / "absent" / "wave.db"
    check = asyncio.run(doctor.check_database(f"sqlite+aiosqlite:///{path}"))
    assert check.failed and "no database file" in check.detail and "wave db upgrade" in check.fix
    assert not path.exists() and not path.parent.exists()


def test_gpu_profile_requires_weights_gpu_and_tokens_it_is_told_about(tmp_path, monkeypatch):
    settings = Settings(profile="gpu", model_dir=tmp_path / "models", data_dir=tmp_path)
    checks = run_checks(settings, chat=["slack"], services=False)
    named = by_name(checks)
    assert "redis" not in named and "database" not in named
    assert named["weights: vision"].failed and "wave models download" in named["weights: vision"].fix
    assert named["weights: effects"].failed
    assert named["chat: slack"].failed and "WAVE_SLACK_BOT_TOKEN" in named["chat: slack"].fix
    assert named["chat: discord"].level == "warn"  # not asked for: reported, not required
    assert "disk: model cache" in named  # weights are missing, so the space to download them matters
    import torch

    if not torch.cuda.is_available():
        assert named["gpu"].failed and "WAVE_PROFILE=lite" in named["gpu"].fix
    assert run_cli(["doctor", "--profile", "gpu", "--no-services"], settings, monkeypatch) == 1


def test_package_check_reads_versions_against_specifiers():
    from packaging.requirements import Requirement

    ok = doctor.check_packages("x", [Requirement("pydantic>=2")], True, "fix")
    assert ok.level == "ok"
    bad = doctor.check_packages("x", [Requirement("pydantic<1"), Requirement("wave-no-such-package")], True, "pip it")
    assert bad.failed and "pydantic" in bad.detail and "wave-no-such-package missing" in bad.detail
    optional = doctor.check_packages("x", [Requirement("wave-no-such-package")], False, "pip it")
    assert optional.level == "warn"
