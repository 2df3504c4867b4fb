"""The ``qwen`` vision engine: Qwen2.5-VL (via transformers) writes the sound sheet for a photo.

The model and processor are loaded once per engine object and kept warm. Decoding is greedy (or seeded
sampling) and the reply is started with the sheet's first key. Decoding is constrained by the sheet's JSON schema
(:mod:`pipeline.vision.grammar`), so the model can only write a complete, valid sheet; without xgrammar, a guard
stops generation that has fallen into a loop instead. A reply that still cannot be parsed or breaks the sheet's
rules gets one more try with the problem fed back to the model.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from pipeline.engines import is_local_model, resolve_device
from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.sheet import SoundSheet
from pipeline.vision import prompt
from pipeline.vision.correction import sheet_with_one_correction
from pipeline.vision.grammar import SheetGrammar, xgrammar_available
from pipeline.vision.jsonrepair import parse_sound_sheet
from pipeline.vision.schema import DEFAULT_LIMITS, SheetLimits

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "Qwen/Qwen2.5-VL-7B-Instruct"
DEFAULT_MAX_PIXELS = 1024 * 28 * 28
DEFAULT_MIN_PIXELS = 4 * 28 * 28
MODEL_SETTING = "WAVE_QWEN_MODEL"

# Qwen2-VL's published chat template, used when a model directory carries none.
QWEN_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\n"
    "You are a helpful assistant.<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class QwenVision:
    """Photo (+ optional mood cue) -> :class:`SoundSheet` with Qwen2.5-VL.

    ``model_id`` is a Hub id or a local directory. ``max_pixels`` caps the image tokens (each 28x28 block of
    the resized image is one token). Loading happens on the first :meth:`describe` or an explicit
    :meth:`load`.
    """

    name = "qwen"

    def __init__(
        self,
        model_id: str = DEFAULT_MODEL_ID,
        device: str = "auto",
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_new_tokens: int = 1024,
        cache_dir: str | Path | None = None,
        seed: int | None = None,
        temperature: float = 0.0,
        min_pixels: int = DEFAULT_MIN_PIXELS,
        static_cache: bool = False,
        constrained: bool = True,
        sheet_limits: SheetLimits = DEFAULT_LIMITS,
    ) -> None:
        if max_pixels < 28 * 28:
            raise WaveInputError(f"max_pixels must be at least {28 * 28} (one image token), not {max_pixels}")
        if max_new_tokens < 1:
            raise WaveInputError("max_new_tokens must be at least 1")
        self.model_id = str(model_id)
        self.device_setting = device
        self.max_pixels = int(max_pixels)
        self.min_pixels = min(int(min_pixels), self.max_pixels)
        self.max_new_tokens = int(max_new_tokens)
        self.cache_dir = str(cache_dir) if cache_dir is not None else None
        self.seed = seed
        self.temperature = float(temperature)
        # A static KV cache lets generate compile the decoding step on CUDA: slow first call, faster tokens
        # after.
        self.static_cache = bool(static_cache)
        self.constrained = bool(constrained)
        self.sheet_limits = sheet_limits
        self._grammar: SheetGrammar | None = None
        self.model: Any = None
        self.processor: Any = None
        self.device: str | None = None

    @classmethod
    def from_components(cls, model: Any, tokenizer: Any, image_processor: Any, **options: Any) -> QwenVision:
        """An engine around a model already in memory (benchmarks); ``options`` as for the constructor."""
        engine = cls(**options)
        engine.processor = build_processor(tokenizer, image_processor, engine.min_pixels, engine.max_pixels)
        engine.model = model.eval()
        engine.device = str(next(model.parameters()).device)
        return engine

    # --------------------------------------------------------------------------------------------- loading

    def load(self) -> QwenVision:
        """Load model and processor once; later calls return at once.

        Only files already on disk are read (a local directory or the Hugging Face cache): nothing waits on the
        Hub, and missing weights fail at once with the command that fetches them.
        """
        if self.model is not None:
            return self
        torch, transformers = _import_model_stack()
        self.device = resolve_device(self.device_setting, "qwen")
        on_cuda = self.device.startswith("cuda")
        try:
            self.processor = self._load_processor(transformers)
            model = transformers.Qwen2_5_VLForConditionalGeneration.from_pretrained(
                self.model_id,
                dtype=torch.bfloat16 if on_cuda else torch.float32,
                attn_implementation="sdpa",
                cache_dir=self.cache_dir,
                device_map=self.device if on_cuda else None,
                local_files_only=True,
                use_safetensors=True,
            )
        except OSError as exc:
            raise _missing_weights_error(self.model_id, exc) from exc
        except (ValueError, KeyError) as exc:
            raise WaveEngineError(
                f"{self.model_id} could not be loaded as a Qwen2.5-VL model; set {MODEL_SETTING} to a "
                "Qwen2.5-VL model id or directory",
                detail=str(exc),
            ) from exc
        self.model = model.eval()
        return self

    def warm_up(self) -> QwenVision:
        """Load, then run one short turn on a blank picture, so the first job does not pay for loading and for
        the device picking its kernels."""
        self.load()
        blank = Image.new("RGB", (56, 56), "gray")
        _ = self.grammar  # compiled now, not on the first job
        self.reply(blank, prompt.build_conversation(), max_new_tokens=2, loop_guard=False)
        return self

    def _load_processor(self, transformers: Any) -> Any:
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

        local = {"cache_dir": self.cache_dir, "local_files_only": True}
        tokenizer = transformers.AutoTokenizer.from_pretrained(self.model_id, **local)
        image_processor = Qwen2VLImageProcessorPil.from_pretrained(self.model_id, **local)
        return build_processor(tokenizer, image_processor, self.min_pixels, self.max_pixels)

    # ------------------------------------------------------------------------------------------- describing

    def describe(self, image: Image.Image, cue: str | None = None) -> SoundSheet:
        """The sound sheet for ``image``; :class:`WaveEngineError` when the model gives no usable sheet."""
        if not isinstance(image, Image.Image):
            raise WaveInputError("the vision stage needs a picture")
        return sheet_with_one_correction(
            lambda turns: self.reply(image, turns), lambda reply: self._parse(reply, cue), prompt.build_conversation(cue)
        )

    def _parse(self, reply: str, cue: str | None) -> SoundSheet:
        return parse_sound_sheet(reply, engine=self.name, model=self.model_id, cue=prompt.clean_cue(cue))

    @property
    def grammar(self) -> SheetGrammar | None:
        """The sheet grammar for this model's vocabulary (compiled on first use), or None when decoding is free."""
        if not self.constrained:
            return None
        if self._grammar is None:
            if not xgrammar_available():
                log.warning("xgrammar is not installed: sheets are decoded without the schema constraint")
                self.constrained = False
                return None
            self.load()
            vocab_size = self.model.get_output_embeddings().weight.shape[0]
            self._grammar = SheetGrammar(self.processor.tokenizer, vocab_size, self.sheet_limits)
        return self._grammar

    def reply(
        self,
        image: Image.Image,
        conversation: list[dict[str, Any]],
        *,
        min_new_tokens: int | None = None,
        max_new_tokens: int | None = None,
        loop_guard: bool = True,
        constrained: bool = True,
    ) -> str:
        """One model turn for ``conversation`` (one image slot): raw text starting with the reply prefix.

        Constrained (the default when the engine is), the reply can only be a sheet of the schema: the loop guard
        is not needed, and the token budget is at most what the longest such sheet takes."""
        self.load()
        import torch

        inputs = self.prepare_inputs(image, conversation).to(self.device)
        prompt_length = inputs["input_ids"].shape[1]
        grammar = self.grammar if constrained else None
        budget = max_new_tokens or self.max_new_tokens
        processors = []
        if grammar is not None:
            processors.append(grammar.logits_processor(prefix=prompt.REPLY_PREFIX))
            budget = min(budget, grammar.max_new_tokens)
            loop_guard = False
        stopping = [RepeatingTailStop(prompt_length)] if loop_guard else []
        sampling = self.temperature > 0
        if self.seed is not None:
            torch.manual_seed(self.seed)
        with torch.inference_mode(), _out_of_memory_as_engine_error(torch):
            output = self.model.generate(
                **inputs,
                max_new_tokens=budget,
                min_new_tokens=min_new_tokens,
                logits_processor=processors,
                do_sample=sampling,
                temperature=self.temperature if sampling else None,
                top_p=0.9 if sampling else None,
                top_k=None,
                repetition_penalty=1.05,
                stopping_criteria=stopping,
                cache_implementation="static" if self.static_cache else None,
                pad_token_id=self.processor.tokenizer.pad_token_id,
            )
        text = self.processor.tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True)
        return prompt.REPLY_PREFIX + text

    def prepare_inputs(self, image: Image.Image, conversation: list[dict[str, Any]]) -> Any:
        """Tokens, pixel patches, ``image_grid_thw`` and ``mm_token_type_ids`` for one turn.

        ``mm_token_type_ids`` must reach ``generate``: without it Qwen2.5-VL quietly uses 1-D positions for
        the image instead of its 3-D M-RoPE positions.
        """
        self.load()
        text = self.processor.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        return self.processor(
            images=[rgb],
            text=[text + prompt.REPLY_PREFIX],
            return_tensors="pt",
            return_mm_token_type_ids=True,
        )


class RepeatingTailStop:
    """Stops generation once the newest tokens are one block repeated over and over (a decoding loop).

    Only the generated tokens after ``prompt_length`` count. A block of ``p`` tokens must repeat enough times
    to cover ``min_span`` tokens (and at least ``min_repeats`` times), so the short repeats normal JSON has
    (``", "``, indentation) never trip it.
    """

    def __init__(
        self, prompt_length: int = 0, max_period: int = 48, min_repeats: int = 3, min_span: int = 32
    ) -> None:
        self.prompt_length = prompt_length
        self.max_period = max_period
        self.min_repeats = min_repeats
        self.min_span = min_span

    def __call__(self, input_ids: torch.LongTensor, scores: Any = None, **kwargs: Any) -> torch.BoolTensor:
        import torch

        window = self.max_period * max(self.min_repeats, 1) + self.min_span
        start = max(self.prompt_length, input_ids.shape[1] - window)
        tails = input_ids[:, start:].tolist()
        return torch.tensor([self.is_looping(tail) for tail in tails], device=input_ids.device)

    def is_looping(self, tokens: list[int]) -> bool:
        for period in range(1, self.max_period + 1):
            repeats = max(self.min_repeats, -(-self.min_span // period))
            span = period * repeats
            if span > len(tokens):
                continue
            tail = tokens[-span:]
            if tail[period:] == tail[:-period]:
                return True
        return False


# ------------------------------------------------------------------------------------------------- helpers


def build_processor(tokenizer: Any, image_processor: Any, min_pixels: int, max_pixels: int) -> Any:
    """Qwen2.5-VL's processor from its PIL image processor and tokenizer, with the image-token cap applied.

    AutoProcessor would also build the video processor, which needs torchvision; WAVE only sends images.
    """
    import transformers

    image_processor.size = {"shortest_edge": min(min_pixels, max_pixels), "longest_edge": max_pixels}
    template = getattr(tokenizer, "chat_template", None) or QWEN_CHAT_TEMPLATE
    return _image_only_processor_class(transformers)(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=template
    )


def _import_model_stack() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise WaveEngineError(
            "the qwen vision engine needs torch and transformers; install WAVE with its 'models' extra",
            detail=str(exc),
        ) from exc
    return torch, transformers


@contextmanager
def _out_of_memory_as_engine_error(torch: Any) -> Iterator[None]:
    try:
        yield
    except torch.OutOfMemoryError as exc:
        raise WaveEngineError(
            "the vision model ran out of GPU memory; lower WAVE_QWEN_MAX_PIXELS or WAVE_QWEN_MAX_NEW_TOKENS, "
            "or use a smaller model (Qwen/Qwen2.5-VL-3B-Instruct)",
            detail=str(exc).splitlines()[0] if str(exc) else None,
        ) from exc


def _missing_weights_error(model_id: str, exc: Exception) -> WaveEngineError:
    if is_local_model(model_id):
        message = (
            f"the directory {model_id} does not hold a complete Qwen2.5-VL model; point {MODEL_SETTING} at a "
            "directory with its config, weights, tokenizer and preprocessor files"
        )
    else:
        message = (
            f"the Qwen2.5-VL weights for {model_id} are not on this machine. Download them with "
            f"`wave models download --profile gpu` (or `hf download {model_id}`), or set {MODEL_SETTING} to a local "
            "directory that holds them"
        )
    return WaveEngineError(message, detail=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


@lru_cache(maxsize=1)
def _image_only_processor_class(transformers: Any) -> Any:
    """Qwen2.5-VL's processor without its video processor (which would pull in torchvision)."""

    class ImageOnlyQwen2_5_VLProcessor(transformers.Qwen2_5_VLProcessor):
        def __init__(
            self, image_processor: Any = None, tokenizer: Any = None, chat_template: Any = None, **kwargs: Any
        ):
            super().__init__(image_processor, tokenizer, None, chat_template=chat_template, **kwargs)

    return ImageOnlyQwen2_5_VLProcessor
