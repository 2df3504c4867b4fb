"""Fixtures of the effects tests: tiny diffusion pipelines with random weights, saved once per test process."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_audioldm2_dir(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from wave_testing.audioldm2_parts import build_audioldm2

    return build_audioldm2(tmp_path_factory.mktemp("tiny-audioldm2"))


@pytest.fixture(scope="session")
def tiny_stable_audio_dir(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from wave_testing.audioldm2_parts import build_tiny_stable_audio

    return build_tiny_stable_audio(tmp_path_factory.mktemp("tiny-stable-audio"))
