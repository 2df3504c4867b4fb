"""The embedded vision engine: reads colour, light, texture and structure off the pixels and fills the sound
sheet from the scene table. No weights beyond the face cascades its packages ship, no network, well under a
second a picture on one core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from PIL import Image

from pipeline.engines import EngineUnavailableError
from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.sheet import MAX_VARIANTS, MIN_VARIANTS, SoundSheet
from pipeline.types import SESSIONS
from pipeline.vision.cues import ImageCues, read_cues
from pipeline.vision.intake import image_digest, normalise_cue
from pipeline.vision.scenes import (
    CUE_PHRASES,
    CUE_SOURCES,
    SCENES,
    Scene,
    SourceTemplate,
    VariantTemplate,
    sources_named_in,
)

ENGINE_NAME = "lite"
MODEL_ID = "wave-lite-vision-1"

SECONDARY_SCENE_MARGIN = 0.6  # a runner-up this close to the best scene adds its sources too
CUE_SOURCE_THRESHOLD = 0.45
CUE_KEYWORD_BONUS = 1.5  # a scene the person names beats what the pixels suggest
NAMED_SOURCE_CONFIDENCE = 0.97
MAX_NAMED_SOURCES = 6
LOW_CONFIDENCE = 0.5
LOW_CONFIDENCE_NOTICE = (
    "WAVE is not sure what this picture shows (it read it as {scene}). Tell WAVE what is in the picture with a "
    "cue, for example \u201ca cat asleep on a rug\u201d, and it will use those sounds."
)

# Mood words a person may put in the cue -> the mood WAVE writes for them.
MOOD_CUES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), mood)
    for pattern, mood in (
        (r"melanchol|\bsad|sorrow|gloom|grief|mourn|wistful|blue\b", "melancholic, slow and wistful"),
        (r"happ|joy|cheer|glad|sunny|uplift", "bright, joyful and uplifting"),
        (r"calm|peace|relax|chill|serene|gentle|soothing|sleep", "calm, gentle and unhurried"),
        (r"energ|upbeat|fast|danc|party|exciting|wild", "energetic, driving and bold"),
        (r"eerie|spook|scary|horror|creepy|haunt|sinister|ominous", "dark, eerie and unsettling"),
        (r"dream|float|ethereal|ambient|hazy", "dreamy, floating and soft-edged"),
        (r"epic|heroic|grand|cinematic|majestic", "grand, sweeping and epic"),
        (r"romant|love|tender|warmth", "tender, warm and romantic"),
        (r"play|fun|silly|quirky|bouncy", "playful, bouncy and light"),
        (r"tense|suspense|anxious|nervous|thrill", "tense, tight and suspenseful"),
        (r"nostalg|memor|retro|old days", "nostalgic and softly faded"),
        (r"myster|curious|secret", "mysterious and searching"),
        (r"angry|aggress|furious|heavy|intense", "heavy, intense and hard-hitting"),
    )
)


@dataclass(frozen=True)
class RankedScene:
    scene: Scene
    score: float


@dataclass(frozen=True)
class _Candidate:
    source: SourceTemplate
    variant: VariantTemplate
    confidence: float
    score: float


class LiteVision:
    """The ``lite`` vision engine. Deterministic: the same picture and cue give the same sheet."""

    name = ENGINE_NAME
    model_id: str | None = MODEL_ID

    def __init__(self, **options: object) -> None:
        if options:
            raise EngineUnavailableError(f"The lite vision engine takes no options (got {', '.join(sorted(options))}).")

    def describe(self, image: Image.Image, cue: str | None = None) -> SoundSheet:
        if not isinstance(image, Image.Image):
            raise WaveInputError("the vision stage needs a picture")
        cue = normalise_cue(cue)
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        cues = read_cues(rgb)
        rng = np.random.default_rng(int(image_digest(rgb)[:16], 16))
        ranked = rank_scenes(cues, cue)
        named = sources_named_in(cue)
        chosen = choose_variants(ranked, cues, rng, named)
        confidence = reading_confidence(ranked)
        unsure = confidence < LOW_CONFIDENCE and not named and not _cue_names_a_scene(ranked[0].scene, cue)
        data = {
            "scene_description": describe_scene(ranked, cues, chosen),
            "mood_description": describe_mood(ranked[0].scene, cues, cue),
            "sound_sources": _group_by_source(chosen),
        }
        notices = [LOW_CONFIDENCE_NOTICE.format(scene=ranked[0].scene.title)] if unsure else []
        try:
            return SoundSheet.from_raw(
                data, engine=self.name, model=self.model_id, cue=cue, low_confidence=unsure, notices=notices
            )
        except ValueError as exc:  # the scene table itself breaks the sheet rules: an engine fault
            raise WaveEngineError(
                "The lite vision engine produced an unusable sheet.", detail=str(exc)
            ) from exc


# ------------------------------------------------------------------------------------------------ scenes


def rank_scenes(cues: ImageCues, cue: str | None = None) -> list[RankedScene]:
    """Every scene with its score, best first (ties keep the table's order)."""
    values = cues.model_dump()
    words = (cue or "").lower()
    ranked = []
    for scene in SCENES:
        score = scene.bias + sum(weight * values[name] for name, weight in scene.evidence.items())
        if _cue_names_a_scene(scene, words):
            score += CUE_KEYWORD_BONUS
        ranked.append(RankedScene(scene, score))
    return sorted(ranked, key=lambda r: -r.score)


def _cue_names_a_scene(scene: Scene, cue: str | None) -> bool:
    words = (cue or "").lower()
    return bool(words) and any(re.search(rf"\b{re.escape(k)}", words) for k in scene.keywords)


def reading_confidence(ranked: list[RankedScene]) -> float:
    """How sure the reading is, in [0, 1]: a best scene with strong evidence, well ahead of the runner-up."""
    best, runner_up = ranked[0].score, ranked[1].score
    strength = float(np.clip(best / 2.0, 0.0, 1.0))
    lead = float(np.clip((best - runner_up) / 0.8, 0.0, 1.0))
    return round(0.5 * strength + 0.5 * lead, 3)


def choose_variants(
    ranked: list[RankedScene], cues: ImageCues, rng: np.random.Generator, named: list[SourceTemplate] | None = None
) -> list[_Candidate]:
    """Pick 6-10 variants: the sources the cue names first, then the best scene's sources, a close runner-up's,
    and sources strong cues suggest.

    Every session gets at least one hinted sound when the pool has one, so casting has something to work with.
    """
    pool = _candidate_pool(ranked, cues, rng)
    richness = 0.5 * cues.edges + 0.5 * cues.texture
    target = int(np.clip(6 + round(4 * richness), MIN_VARIANTS, min(10, MAX_VARIANTS)))
    chosen: list[_Candidate] = []
    for source in (named or [])[:MAX_NAMED_SOURCES]:
        for variant in source.variants:
            candidate = _Candidate(source, variant, NAMED_SOURCE_CONFIDENCE, 2.0 + NAMED_SOURCE_CONFIDENCE)
            chosen.append(candidate)
    names = {c.source.name for c in chosen}
    pool = [c for c in pool if c.source.name not in names]
    for session in SESSIONS:
        hinted = [c for c in pool if c.variant.session == session and c not in chosen]
        if hinted:
            chosen.append(hinted[0])
    for candidate in pool:
        if len(chosen) >= target:
            break
        if candidate not in chosen:
            chosen.append(candidate)
    return sorted(chosen, key=lambda c: -c.score)


def _candidate_pool(ranked: list[RankedScene], cues: ImageCues, rng: np.random.Generator) -> list[_Candidate]:
    best, runner_up = ranked[0], ranked[1]
    fit = float(np.clip(best.score / 2.0, 0.0, 1.0))
    weighted: list[tuple[SourceTemplate, float]] = [(s, 0.92 + 0.08 * fit) for s in best.scene.sources]
    if runner_up.score > 0.3 and best.score - runner_up.score < SECONDARY_SCENE_MARGIN:
        weighted += [(s, 0.88) for s in runner_up.scene.sources]
    values = cues.model_dump()
    for cue_name, sources in CUE_SOURCES.items():
        strength = values[cue_name]
        if strength >= CUE_SOURCE_THRESHOLD:
            weighted += [(s, 0.8 + 0.15 * strength) for s in sources]

    pool: dict[str, _Candidate] = {}
    for source, weight in weighted:
        for variant in source.variants:
            confidence = round(min(0.99, variant.confidence * weight), 2)
            # A tiny per-picture jitter breaks ties differently for different pictures, reproducibly.
            candidate = _Candidate(source, variant, confidence, confidence + float(rng.uniform(0.0, 0.02)))
            known = pool.get(source.name)
            if known is None or candidate.score > known.score:
                pool[source.name] = candidate
    return sorted(pool.values(), key=lambda c: -c.score)


def _group_by_source(chosen: list[_Candidate]) -> list[dict]:
    sources: dict[str, dict] = {}
    for c in chosen:
        entry = sources.setdefault(
            c.source.name, {"name": c.source.name, "material": c.source.material, "variants": []}
        )
        entry["variants"].append(
            {
                "play_method": c.variant.play_method,
                "timbre": list(c.variant.timbre),
                "mapping_to_music_instrument": c.variant.session.value if c.variant.session else None,
                "confidence": c.confidence,
            }
        )
    return list(sources.values())


# -------------------------------------------------------------------------------------------------- text


def describe_scene(ranked: list[RankedScene], cues: ImageCues, chosen: list[_Candidate]) -> str:
    best = ranked[0].scene
    details = [CUE_PHRASES[name] for name in cues.strongest(tuple(CUE_PHRASES), threshold=0.45)[:3]]
    text = f"{_capitalise(best.title)}, {best.setting}"
    when = _time_of_day(cues)
    if when.split()[-1] not in f"{best.title} {best.setting}":
        text += f", {when}"
    if details:
        text += ": " + ", ".join(details)
    runner_up = ranked[1]
    if runner_up.score > 0.3 and ranked[0].score - runner_up.score < SECONDARY_SCENE_MARGIN:
        text += f"; with something of {runner_up.scene.title}"
    names = list(dict.fromkeys(c.source.name for c in chosen))
    return f"{text}. Things that can make a sound: {_join(names)}."


def describe_mood(scene: Scene, cues: ImageCues, cue: str | None = None) -> str:
    """Mood from light, colour and warmth, led by the mood a person asked for in the cue."""
    picture = f"{_light_words(cues)}; {_join(list(scene.mood[:2]))}"
    if not cue:
        return _capitalise(picture) + "."
    asked = next((mood for pattern, mood in MOOD_CUES if pattern.search(cue)), None)
    if asked:
        return f"{_capitalise(asked)}, as asked; the picture itself feels {picture}."
    return f"Shaped by the request \u201c{cue[:80]}\u201d; the picture itself feels {picture}."


def _light_words(cues: ImageCues) -> str:
    if cues.night >= 0.5:
        light = "dark and hushed"
    elif cues.brightness < 0.35:
        light = "dim and intimate"
    elif cues.brightness > 0.62:
        light = "bright and airy"
    else:
        light = "evenly lit"
    if cues.saturation < 0.03:
        colour = "black-and-white"
    elif cues.saturation < 0.15:
        colour = "muted"
    elif cues.saturation > 0.45:
        colour = "vivid"
    else:
        colour = "softly coloured"
    temperature = "warm" if cues.warmth > 0.65 else "cool" if cues.warmth < 0.4 else ""
    return ", ".join(w for w in (temperature, colour, light) if w)


def _time_of_day(cues: ImageCues) -> str:
    if cues.night >= 0.5:
        return "at night"
    if cues.dusk >= 0.4 and cues.outdoor >= 0.4:
        return "in low evening light"
    if cues.indoor >= 0.45:
        return "indoors"
    return "in daylight" if cues.daylight >= 0.5 else "in soft light"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
