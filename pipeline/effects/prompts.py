"""Text prompts for the effects models, one per sheet variant.

A prompt is the variant's detail first (object, material, play method, timbre), then the scene and mood condensed,
then the constraint that the result is a natural, non-musical sound effect. Text encoders read only so many
tokens, so the parts that matter most come first and the whole prompt is capped.
"""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, ConfigDict

from pipeline.sheet import SoundSheet, SoundSource, Variant

NEGATIVE_PROMPT = "music, melody, singing, speech, talking, voice, low quality, noise, static, distortion"
EFFECT_CONSTRAINT = "Natural, non-musical sound effect, realistic field recording."

# AudioLDM2's T5 reads up to 128 tokens and CLAP 77; about 45 words stay within both with room to spare.
MAX_PROMPT_WORDS = 45
MAX_CONTEXT_WORDS = 14


class EffectPrompt(BaseModel):
    """What an effects engine is asked to make for one variant."""

    model_config = ConfigDict(frozen=True)

    variant_id: str
    text: str
    negative: str = NEGATIVE_PROMPT
    # The variant's own description without scene context, for engines that work from words.
    name: str
    material: str = ""
    play_method: str
    timbre: tuple[str, ...] = ()

    @property
    def words(self) -> str:
        return " ".join(" ".join([self.name, self.material, self.play_method, *self.timbre]).split())


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"\s+", text.strip()) if w]


def _condense(text: str, limit: int) -> str:
    """The first clause of ``text``, cut to ``limit`` words, without trailing punctuation."""
    first = re.split(r"(?<=[.;!?])\s", text.strip(), maxsplit=1)[0]
    return " ".join(_words(first)[:limit]).rstrip(" .,;:!?")


def detail_phrase(source: SoundSource, variant: Variant) -> str:
    """'<material> <object> <play method>, <timbre>, <timbre>' with empty parts left out."""
    material = source.material.strip()
    name = source.name.strip()
    subject = name if not material or material.lower() in name.lower() else f"{material} {name}"
    action = " ".join(p for p in (subject, variant.play_method.strip()) if p)
    return ", ".join([action, *(t.strip() for t in variant.timbre if t.strip())])


def build_prompt(sheet: SoundSheet, source: SoundSource, variant: Variant) -> EffectPrompt:
    detail = detail_phrase(source, variant)
    context = [c for c in (_condense(sheet.scene_description, MAX_CONTEXT_WORDS), _condense(sheet.mood_description, 6)) if c]
    pieces = [f"The sound of {detail}"]
    if context:
        pieces.append(", ".join(context))
    head = _words(". ".join(pieces))
    # The constraint always stays whole; what precedes it is shortened when the prompt runs long.
    head = head[: MAX_PROMPT_WORDS - len(_words(EFFECT_CONSTRAINT))]
    text = " ".join(head).rstrip(" .,;:") + ". " + EFFECT_CONSTRAINT
    return EffectPrompt(
        variant_id=variant.id,
        text=text,
        name=source.name,
        material=source.material,
        play_method=variant.play_method,
        timbre=tuple(variant.timbre),
    )


def build_prompts(sheet: SoundSheet) -> list[EffectPrompt]:
    """One prompt per variant, in sheet order. Variants without an id get one first."""
    if any(not v.id for _, v in sheet.variants()):
        sheet.assign_ids()
    return [build_prompt(sheet, source, variant) for source, variant in sheet.variants()]


def variant_seed(seed: int, prompt: EffectPrompt) -> int:
    """The seed for one effect: fixed by the job seed and the prompt, so the same request makes the same sound
    whatever else is in the batch."""
    digest = hashlib.sha256(f"{seed}\n{prompt.text}\n{prompt.negative}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def retry_seed(seed: int) -> int:
    """A different, still deterministic seed for remaking an effect whose first try was unusable."""
    digest = hashlib.sha256(f"retry\n{seed}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
