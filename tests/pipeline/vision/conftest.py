"""Fixtures of the vision tests."""

from __future__ import annotations

import pytest
from PIL import Image
from skimage import data


@pytest.fixture(scope="session")
def astronaut() -> Image.Image:
    """A real photo (scikit-image's sample)."""
    return Image.fromarray(data.astronaut())
