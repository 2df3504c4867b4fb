"""What every vision engine does, run over each engine in ``pipeline.vision.VISION``: a picture becomes a valid
sound sheet made by that engine, the same picture gives the same sheet, and what is not a picture is a
WaveInputError. A new engine adds one subclass here (the last test fails until it does)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.engines import EngineEntry, EngineRegistry
from pipeline.errors import WaveInputError
from pipeline.sheet import SoundSheet
from pipeline.vision import VISION, VisionEngine, get_vision_engine
from pipeline.vision.schema import SheetLimits
from wave_testing.contracts import engines_without_contract

# Short strings and six sources keep a random-weights model's constrained reply quick on a CPU.
TINY_LIMITS = SheetLimits(scene_chars=24, mood_chars=12, name_chars=8, material_chars=8, play_method_chars=12,
                          timbre_word_chars=8, timbre_words=(1, 2), sources=(6, 6), variants_per_source=(1, 1))
TINY_MAX_PIXELS = 16 * 28 * 28


class VisionEngineContract:
    """The contract; subclasses set ``engine_name`` and override the ``engine`` fixture."""

    engine_name: str

    @pytest.fixture(scope="class")
    def engine(self) -> VisionEngine:
        raise NotImplementedError

    @pytest.fixture(scope="class")
    def described(self, engine, astronaut) -> SoundSheet:
        return engine.describe(astronaut)

    def test_the_engine_is_registered_under_its_name(self, engine):
        assert engine.name == self.engine_name
        assert isinstance(engine, VISION.loader(self.engine_name)) and isinstance(engine, VisionEngine)

    def test_a_picture_becomes_a_valid_sheet_signed_by_the_engine(self, described):
        assert isinstance(described, SoundSheet) and described.engine == self.engine_name
        variants = [variant for _, variant in described.variants()]
        assert variants and len({v.id for v in variants}) == len(variants)
        assert SoundSheet.model_validate(described.model_dump()) == described  # survives the round trip

    def test_the_same_picture_gives_the_same_sheet(self, engine, astronaut, described):
        again = engine.describe(astronaut.copy())
        assert again.model_dump() == described.model_dump()

    @pytest.mark.parametrize("not_a_picture", [b"\x89PNG not really", "photo.png", None], ids=["bytes", "str", "none"])
    def test_what_is_not_a_picture_is_an_input_error(self, engine, not_a_picture):
        with pytest.raises(WaveInputError):
            engine.describe(not_a_picture)


class TestLiteVision(VisionEngineContract):
    engine_name = "lite"

    @pytest.fixture(scope="class")
    def engine(self) -> VisionEngine:
        return get_vision_engine("lite")


def tiny_qwen(directory: Path):
    from pipeline.vision.qwen import QwenVision

    return QwenVision(model_id=str(directory), device="cpu", max_pixels=TINY_MAX_PIXELS, max_new_tokens=4096,
                      sheet_limits=TINY_LIMITS).load()


class TestQwenVision(VisionEngineContract):
    engine_name = "qwen"

    @pytest.fixture(scope="class")
    def engine(self, tiny_qwen_dir) -> VisionEngine:
        pytest.importorskip("xgrammar")
        return tiny_qwen(tiny_qwen_dir)


class TestOpenAIVision(VisionEngineContract):
    """Against a local OpenAI-compatible server that runs the tiny Qwen with the same constrained decoding."""

    engine_name = "openai"

    @pytest.fixture(scope="class")
    def engine(self, tiny_qwen_dir) -> VisionEngine:
        pytest.importorskip("xgrammar")
        from wave_testing.vlm_server import VLMServer

        with VLMServer(tiny_qwen(tiny_qwen_dir)) as server:
            yield get_vision_engine("openai", base_url=server.base_url, model="tiny-qwen", api_key="test-key",
                                    sheet_limits=TINY_LIMITS, max_pixels=TINY_MAX_PIXELS, sleep=lambda _: None)


def test_every_vision_engine_has_a_contract_subclass():
    assert engines_without_contract(VISION, VisionEngineContract) == []


def test_an_engine_without_a_contract_subclass_is_named():
    registry = EngineRegistry("vision", [EngineEntry("lite", "pipeline.vision.lite", "LiteVision"),
                                         EngineEntry("brand_new", "somewhere", "Engine")])
    assert engines_without_contract(registry, VisionEngineContract) == ["brand_new"]
