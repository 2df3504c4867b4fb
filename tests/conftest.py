"""Shared fixtures: real recorded sounds, real images, the GPU mark."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
