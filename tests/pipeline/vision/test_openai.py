"""The openai vision engine against a local OpenAI-compatible server that runs a tiny Qwen2.5-VL (random weights)
with the same constrained decoding as the in-process engine: real model code behind the real protocol."""

from __future__ import annotations

import base64
import io
import socket

import pytest
from PIL import Image

pytest.importorskip("torch")
pytest.importorskip("xgrammar")

import torch

from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.vision import get_vision_engine
from pipeline.vision.qwen import QwenVision
from pipeline.vision.schema import SheetLimits, sheet_output_schema
from pipeline.vision.served import OpenAIVision, image_data_url
from wave_testing.vlm_server import VLMServer

LIMITS = SheetLimits(scene_chars=24, mood_chars=12, name_chars=8, material_chars=8, play_method_chars=12,
                     timbre_word_chars=8, timbre_words=(1, 2), sources=(6, 6), variants_per_source=(1, 1))
MAX_PIXELS = 16 * 28 * 28


@pytest.fixture(scope="module")
def served_model(tiny_qwen_dir) -> QwenVision:
    torch.set_num_threads(1)
    return QwenVision(model_id=str(tiny_qwen_dir), device="cpu", sheet_limits=LIMITS, max_pixels=MAX_PIXELS).load()


@pytest.fixture()
def server(served_model):
    with VLMServer(served_model) as running:
        yield running


def client(server: VLMServer, **options) -> OpenAIVision:
    sleeps: list[float] = []
    engine = get_vision_engine("openai", base_url=server.base_url, model="tiny-qwen", api_key="test-key",
                               sheet_limits=LIMITS, max_pixels=MAX_PIXELS, sleep=sleeps.append, **options)
    engine.sleeps = sleeps
    return engine


def test_a_served_model_writes_the_sheet_under_the_schema(server, astronaut):
    engine = client(server)
    sheet = engine.describe(astronaut, cue="make it melancholic")

    assert sheet.engine == "openai" and sheet.model == "tiny-qwen" and sheet.cue == "make it melancholic"
    assert 5 <= len(sheet.variants()) <= 6
    (request,) = server.requests
    body = request["body"]
    assert request["headers"]["Authorization"] == "Bearer test-key"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == sheet_output_schema(LIMITS)
    system, user = body["messages"]
    assert system["role"] == "system" and system["content"].startswith("You are WAVE's listener.")
    image_part, text_part = user["content"]
    header, encoded = image_part["image_url"]["url"].split(",", 1)
    assert header == "data:image/jpeg;base64"
    sent = Image.open(io.BytesIO(base64.b64decode(encoded)))
    assert sent.width * sent.height <= MAX_PIXELS and abs(sent.width / sent.height - 1.0) < 0.05
    assert '"make it melancholic"' in text_part["text"]


def test_busy_answers_are_retried_with_growing_backoff(server, astronaut):
    server.fail_next = [503, 429]
    engine = client(server, backoff_s=0.5)

    sheet = engine.describe(astronaut)

    assert len(sheet.variants()) >= 5
    assert len(server.requests) == 3 and engine.sleeps == [0.5, 1.0]


def test_a_wrong_key_fails_at_once_naming_the_setting(server, astronaut):
    engine = client(server)
    engine.api_key = "wrong"

    with pytest.raises(WaveEngineError) as caught:
        engine.describe(astronaut)

    assert "HTTP 401" in caught.value.user_message and "WAVE_OPENAI_API_KEY" in caught.value.user_message
    assert len(server.requests) == 1 and engine.sleeps == []


def test_a_server_that_is_down_fails_clearly_after_the_retries(astronaut):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    engine = OpenAIVision(base_url=f"http://127.0.0.1:{port}/v1", retries=2, backoff_s=1.0, sleep=sleeps.append)

    with pytest.raises(WaveEngineError) as caught:
        engine.describe(astronaut)

    assert "did not answer after 3 tries" in caught.value.user_message
    assert sleeps == [1.0, 2.0]


def test_a_silent_server_times_out_and_is_retried(astronaut):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        sleeps: list[float] = []
        engine = OpenAIVision(base_url=f"http://127.0.0.1:{port}/v1", timeout_s=0.2, retries=1, sleep=sleeps.append)
        with pytest.raises(WaveEngineError, match="did not answer after 2 tries"):
            engine.describe(astronaut)
    assert sleeps == [1.0]


def test_settings_are_checked_and_big_photos_are_downscaled(astronaut):
    with pytest.raises(WaveInputError):
        OpenAIVision(base_url="ftp://example.org")
    with pytest.raises(WaveInputError):
        OpenAIVision(timeout_s=0)
    big = astronaut.resize((4000, 3000))
    sent = Image.open(io.BytesIO(base64.b64decode(image_data_url(big, 1024 * 28 * 28).split(",", 1)[1])))
    assert sent.width * sent.height <= 1024 * 28 * 28 and sent.width / sent.height == pytest.approx(4 / 3, rel=0.01)
