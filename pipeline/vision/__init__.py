"""Vision: a picture (and an optional text cue) -> the sound sheet.

Engines: ``lite`` (embedded, no weights), ``qwen`` (Qwen2.5-VL through transformers, loaded on demand) and
``openai`` (a vision-language model behind an OpenAI-compatible server: vLLM, SGLang, llama.cpp, Ollama).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from PIL import Image

from pipeline.errors import WaveEngineError
from pipeline.sheet import SoundSheet
from pipeline.vision.intake import image_digest, load_image, normalise_cue

VISION_ENGINES: tuple[str, ...] = ("lite", "qwen", "openai")

__all__ = [
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
    key = (name or "").strip().lower()
    if key == "lite":
        from pipeline.vision.lite import LiteVision

        if options:
            raise WaveEngineError(
                f"The lite vision engine takes no options (got {', '.join(sorted(options))})."
            )
        return LiteVision()
    if key == "qwen":
        try:
            from pipeline.vision.qwen import QwenVision
        except ImportError as exc:
            raise WaveEngineError(
                "The qwen vision engine is not available here; install WAVE with its model extras "
                "(pip install 'wave-band[models]') or use the lite engine.",
                detail=str(exc),
            ) from exc
        return QwenVision(**options)
    if key == "openai":
        from pipeline.vision.served import OpenAIVision

        return OpenAIVision(**options)
    raise WaveEngineError(f"Unknown vision engine {name!r}; choose one of: {', '.join(VISION_ENGINES)}.")


def see(source: Path | bytes, engine: VisionEngine, cue: str | None = None) -> SoundSheet:
    """Read an uploaded picture safely and describe its sound sources with ``engine``."""
    cue = normalise_cue(cue)
    return engine.describe(load_image(source), cue=cue)
