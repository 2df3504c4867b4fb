"""Fixtures every test folder shares: real recorded sounds, the GPU mark, databases, Redis and the jobs runtime.

Each folder's own fixtures live in its own conftest.py; the helpers they build on live in ``wave_testing``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wave_testing.services import PG_ADMIN_URL, REDIS_TEST_URL

# numba caches compiled code beside its sources; two test processes writing the same cache entry at once can leave
# an index that points at another process's code, which crashes every later run. Each test worker gets its own.
if os.environ.get("PYTEST_XDIST_WORKER") and "NUMBA_CACHE_DIR" not in os.environ:
    import hashlib
    import tempfile

    _checkout = hashlib.sha256(str(Path(__file__).resolve().parents[1]).encode()).hexdigest()[:8]
    os.environ["NUMBA_CACHE_DIR"] = str(
        Path(tempfile.gettempdir()) / f"wave-numba-{_checkout}-{os.environ['PYTEST_XDIST_WORKER']}"
    )

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SONIC_PI_SAMPLES = Path(os.environ.get("WAVE_TEST_SAMPLES", "/usr/share/sonic-pi/samples"))


def pytest_configure(config: pytest.Config) -> None:
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """Debian's sonic-pi-samples (mostly CC0): real recorded sounds. scripts/test installs them."""
    if not SONIC_PI_SAMPLES.is_dir():
        pytest.fail(f"real test sounds missing at {SONIC_PI_SAMPLES}: install Debian's sonic-pi-samples")
    return SONIC_PI_SAMPLES


@pytest.fixture(scope="session")
def sample(samples_dir: Path):
    """sample("bd_haus") -> path of that recorded sound."""

    def find(name: str) -> Path:
        path = samples_dir / f"{name}.flac"
        if not path.exists():
            pytest.fail(f"sample {name} missing from {samples_dir}")
        return path

    return find


# ------------------------------------------------------------------------------ tiny models with random weights
# Built once per test process; tests copy them before changing anything.


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory) -> Path:
    """A tiny Qwen2.5-VL (random weights, local tokenizer) saved as a model directory."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from wave_testing.qwen_tiny import save_tiny_qwen

    return save_tiny_qwen(tmp_path_factory.mktemp("tiny-qwen"))


@pytest.fixture(scope="session")
def tiny_audioldm2_dir(tmp_path_factory) -> Path:
    """A tiny AudioLDM2 pipeline (the component classes of cvssp/audioldm2) saved as a model directory."""
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from wave_testing.audioldm2_parts import build_audioldm2

    return build_audioldm2(tmp_path_factory.mktemp("tiny-audioldm2"))


@pytest.fixture(scope="session")
def tiny_stable_audio_dir(tmp_path_factory) -> Path:
    """A tiny Stable Audio Open pipeline saved as a model directory."""
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from wave_testing.audioldm2_parts import build_tiny_stable_audio

    return build_tiny_stable_audio(tmp_path_factory.mktemp("tiny-stable-audio"))


# ------------------------------------------------------------------------------------- databases, Redis, jobs



def _pg_admin(statement: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    import uuid

    name = f"wave_t_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each persistence test runs on the embedded SQLite default and on PostgreSQL, for real."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/wave.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def jobs_settings(database_url, tmp_path):
    """Settings for one jobs test: its own database, artifact root and Redis key prefix."""
    import uuid

    from wave_core.settings import Settings

    return Settings(
        profile="lite",
        database_url=database_url,
        redis_url=REDIS_TEST_URL,
        queue_prefix=f"wavetest-{uuid.uuid4().hex[:10]}",
        data_dir=tmp_path / "data",
        artifacts_dir=tmp_path / "artifacts",
        max_concurrent_jobs_per_user=1,
        max_jobs_per_user_per_hour=50,
        max_queue_length=20,
        gpu_stage_timeout_s=60,
        cpu_stage_timeout_s=60,
        remap_prepare_instruments=0,  # no guessing ahead: build counts stay exact (tests/jobs/test_remap_prep.py)
    )


@pytest.fixture
async def runtime(jobs_settings):
    """The jobs runtime (database, Redis, artifact store) for one test; its Redis keys are removed afterwards."""
    from jobs.runtime import Runtime

    rt = await Runtime.open(jobs_settings)
    yield rt
    keys = [k async for k in rt.redis.scan_iter(match=f"{jobs_settings.queue_prefix}*")]
    if keys:
        await rt.redis.delete(*keys)
    await rt.close()
