"""Vision: a picture (and an optional text cue) -> the sound sheet.

Engines: ``lite`` (embedded, no weights), ``qwen`` (Qwen2.5-VL through transformers, loaded on demand) and
``openai`` (a vision-language model behind an OpenAI-compatible server: vLLM, SGLang, llama.cpp, Ollama).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from PIL import Image

from pipeline.engines import EngineEntry, EngineRegistry
from pipeline.sheet import SoundSheet
from pipeline.vision.intake import image_digest, load_image, normalise_cue

VISION = EngineRegistry("vision", [
    EngineEntry("lite", "pipeline.vision.lite", "LiteVision"),
    EngineEntry("qwen", "pipeline.vision.qwen", "QwenVision", needs="torch and transformers",
                model_setting="WAVE_QWEN_MODEL", model_kind="transformers"),
    EngineEntry("openai", "pipeline.vision.served", "OpenAIVision"),
])
VISION_ENGINES: tuple[str, ...] = VISION.names

__all__ = [
    "VISION",
    "VISION_ENGINES",
    "VisionEngine",
    "get_vision_engine",
    "image_digest",
    "load_image",
    "normalise_cue",
    "see",
]


@runtime_checkable
class VisionEngine(Protocol):
    name: str
    model_id: str | None

    def describe(self, image: Image.Image, cue: str | None = None) -> SoundSheet: ...


def get_vision_engine(name: str, **options: Any) -> VisionEngine:
    """Build the named engine; ``options`` go to its constructor (model id, device, ... for ``qwen``)."""
    return VISION.build(name, **options)


def see(source: Path | bytes, engine: VisionEngine, cue: str | None = None) -> SoundSheet:
    """Read an uploaded picture safely and describe its sound sources with ``engine``."""
    cue = normalise_cue(cue)
    return engine.describe(load_image(source), cue=cue)
