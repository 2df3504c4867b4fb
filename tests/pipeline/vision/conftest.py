"""Fixtures of the vision tests: a tiny Qwen2.5-VL with random weights, saved once per test process, and a photo."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from skimage import data


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from wave_testing.qwen_tiny import save_tiny_qwen

    return save_tiny_qwen(tmp_path_factory.mktemp("tiny-qwen"))


@pytest.fixture(scope="session")
def astronaut() -> Image.Image:
    """A real photo (scikit-image's sample)."""
    return Image.fromarray(data.astronaut())
