"""Deployment files: the compose file's structure (and `docker compose config` where the plugin exists), the
Dockerfiles it names, .dockerignore, and docs/CONFIG.md being up to date with the settings."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from wave_app import config_doc
from wave_core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker" / "compose.yml"
WAVE_SERVICES = {"migrate", "gpu-worker", "cpu-worker", "discord-bot", "slack-bot"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_services_build_from_existing_dockerfiles_and_run_wave_commands(compose):
    services = compose["services"]
    assert {"redis", "postgres"} | WAVE_SERVICES <= set(services)
    for name, service in services.items():
        if "build" in service:
            context = (COMPOSE.parent / service["build"]["context"]).resolve()
            assert context == ROOT, name
            assert (context / service["build"]["dockerfile"]).is_file(), name
    commands = {name: services[name]["command"] for name in WAVE_SERVICES}
    assert commands["migrate"] == ["db", "upgrade"]
    assert commands["gpu-worker"] == ["worker", "--queue", "gpu"]
    assert commands["cpu-worker"] == ["worker", "--queue", "cpu"]
    assert commands["discord-bot"] == ["bot", "discord"] and commands["slack-bot"] == ["bot", "slack"]


def test_dependencies_exist_and_wait_for_a_successful_migration(compose):
    services = compose["services"]
    for name, service in services.items():
        for target in service.get("depends_on", {}):
            assert target in services, f"{name} depends on unknown {target}"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"].get("restart") == "no"
    for name in WAVE_SERVICES - {"migrate"}:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    for name in ("redis", "postgres", "gpu-worker", "cpu-worker", "discord-bot", "slack-bot"):
        assert services[name]["healthcheck"]["test"], name


def test_gpu_is_reserved_and_volumes_are_declared(compose):
    devices = compose["services"]["gpu-worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    declared = set(compose["volumes"])
    mounts: dict[str, dict[str, str]] = {}
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            assert source in declared, f"{name} mounts undeclared volume {source}"
            mounts.setdefault(name, {})[target] = source
    for name in WAVE_SERVICES:  # workers write artifacts that bots upload: one shared data volume, one model cache
        assert mounts[name] == {"/data": "wave-data", "/models": "wave-models"}, name
    assert mounts["postgres"] == {"/var/lib/postgresql/data": "postgres-data"}
    env = compose["services"]["cpu-worker"]["environment"]
    assert env["HF_HOME"] == "/models" and env["WAVE_DATA_DIR"] == "/data"
    # every WAVE_* variable the compose file sets is a real setting
    for service in compose["services"].values():
        for key in (service.get("environment") or {}):
            if key.startswith("WAVE_"):
                assert key.removeprefix("WAVE_").lower() in Settings.model_fields, key
    assert all(entry["path"] == "../.env" for entry in compose["services"]["cpu-worker"]["env_file"])


def _compose_command() -> list[str] | None:
    """`docker compose` (the plugin), else a standalone Compose v2 binary."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    for candidate in (shutil.which("docker-compose"), str(Path(sys.executable).with_name("docker-compose"))):
        if candidate and Path(candidate).exists():
            probe = subprocess.run([candidate, "version"], capture_output=True, text=True)
            if probe.returncode == 0 and re.search(r"v2\.\d+", probe.stdout):
                return [candidate]
    return None


def test_compose_config_parses():
    command = _compose_command()
    if command is None:
        pytest.skip("no Docker Compose v2 here (neither the `docker compose` plugin nor a docker-compose v2 binary); "
                    "the structural tests above still ran")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    for profiles in ([], ["--profile", "discord", "--profile", "slack", "--profile", "lite"]):
        result = subprocess.run([*command, "-f", str(COMPOSE), *profiles, "config", "-q"], capture_output=True,
                                text=True, cwd=ROOT, env=env, timeout=60)
        assert result.returncode == 0, result.stderr


def test_dockerignore_keeps_secrets_and_environments_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for pattern in (".env", ".venv", ".git", ".wave"):
        assert pattern in ignored
    for dockerfile in ("Dockerfile", "Dockerfile.cuda"):
        text = (ROOT / "docker" / dockerfile).read_text()
        copied = re.findall(r"^COPY (?!--from)(\S+)", text, flags=re.M)
        for source in copied:
            assert (ROOT / source).exists(), f"{dockerfile} copies missing {source}"
            assert source not in ignored, f"{dockerfile} copies {source}, which .dockerignore leaves out"
        assert 'ENTRYPOINT ["tini", "--", "wave"]' in text and "USER wave" in text


def test_config_doc_is_up_to_date():
    assert config_doc.DOC_PATH.read_text() == config_doc.render(), "run `python -m wave_app.config_doc`"
    text = config_doc.render()
    for name, field in Settings.model_fields.items():
        assert f"`WAVE_{name.upper()}`" in text
    assert "| `WAVE_METRICS_PORT` | int \\| unset | unset |" in text


def test_config_doc_check_mode_spots_drift(tmp_path):
    stale = tmp_path / "CONFIG.md"
    stale.write_text("old\n")
    assert config_doc.main(["--check", "--out", str(stale)]) == 1
    assert config_doc.main(["--out", str(stale)]) == 0
    assert config_doc.main(["--check", "--out", str(stale)]) == 0


WORKER_HOST = ROOT / "docker" / "compose.worker-host.yml"
JOINING = {"WAVE_DATABASE_URL", "WAVE_REDIS_URL", "WAVE_STORE_URL"}


class _ComposeLoader(yaml.SafeLoader):
    """Reads Compose's merge tags (!reset, !override) as plain values tagged for the test."""


def _tagged(tag: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> tuple[str, object]:
        if isinstance(node, yaml.SequenceNode):
            return tag, loader.construct_sequence(node, deep=True)
        if isinstance(node, yaml.MappingNode):
            return tag, loader.construct_mapping(node, deep=True)
        return tag, loader.construct_scalar(node)
    return construct


_ComposeLoader.add_constructor("!reset", _tagged("reset"))
_ComposeLoader.add_constructor("!override", _tagged("override"))


def test_worker_host_override_joins_shared_services_without_a_shared_disk(compose):
    override = yaml.load(WORKER_HOST.read_text(), Loader=_ComposeLoader)
    assert set(override["services"]) == {"gpu-worker", "cpu-worker"} <= set(compose["services"])
    for name, service in override["services"].items():
        assert service["depends_on"] == ("reset", {}), name  # no local Redis, PostgreSQL or migration to wait for
        env = service["environment"]
        assert set(env) == JOINING, name
        for key, value in env.items():
            assert key.removeprefix("WAVE_").lower() in Settings.model_fields
            assert value.startswith(f"${{{key}:?"), f"{name}: {key} must be required, not defaulted"
        kind, volumes = service["volumes"]
        assert kind == "override" and "wave-data" not in {v.split(":")[0] for v in volumes}, name
        assert {v.split(":")[1] for v in volumes} == {"/data", "/models"}
        assert {v.split(":")[0] for v in volumes} <= set(override["volumes"]) | set(compose["volumes"])
    assert "deploy" not in override["services"]["gpu-worker"]  # the GPU reservation of the base file stays


def test_worker_host_override_merges_with_compose(tmp_path):
    command = _compose_command()
    if command is None:
        pytest.skip("no Docker Compose v2 here; the structural test of the override still ran")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "WAVE_"))}
    files = ["-f", str(COMPOSE), "-f", str(WORKER_HOST)]
    missing = subprocess.run([*command, *files, "config", "-q"], capture_output=True, text=True, cwd=ROOT, env=env,
                             timeout=60, check=False)
    # (some Compose v2 builds exit 0 even here: the message is what counts)
    assert "required variable WAVE_" in missing.stderr and "to the shared" in missing.stderr
    shared = {"WAVE_DATABASE_URL": "postgresql+asyncpg://wave:pw@db.internal:5432/wave",
              "WAVE_REDIS_URL": "redis://:pw@redis.internal:6379/0", "WAVE_STORE_URL": "s3://wave-art/prod"}
    result = subprocess.run([*command, *files, "config", "--format", "json"], capture_output=True, text=True,
                            cwd=ROOT, env={**env, **shared}, timeout=60, check=False)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    merged = yaml.safe_load(result.stdout)["services"]
    for name in ("gpu-worker", "cpu-worker"):
        service = merged[name]
        assert not service.get("depends_on"), name
        assert {k: service["environment"][k] for k in JOINING} == shared
        assert {(v["source"], v["target"]) for v in service["volumes"]} == {("worker-cache", "/data"),
                                                                            ("wave-models", "/models")}
    assert merged["gpu-worker"]["command"] == ["worker", "--queue", "gpu"]
    assert merged["gpu-worker"]["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
