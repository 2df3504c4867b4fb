"""The sound-source sheet: what the vision stage says can make sound in the picture.

The JSON keeps the public image-to-sound shape (``scene_description``, ``mood_description``, ``sound_sources`` with
``variants``); WAVE only adds fields (``id``, ``engine``, model ids, ``prompt``, ``seed``, ``session`` and its
``session_reason``). :meth:`SoundSheet.from_raw` applies WAVE's rules to whatever a vision engine produced.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipeline.safe_names import UnsafeNameError, check_slug, slugify
from pipeline.session_table import rows
from pipeline.types import EffectInput, Session

MIN_VARIANTS = 5
MAX_VARIANTS = 12
MIN_CONFIDENCE = 0.7
MAX_SHEET_BYTES = 1024 * 1024  # a sheet of 12 variants is a few KiB
# Validation context key: ids come from a vision engine and are made into slugs rather than refused.
_NORMALISE_IDS = "normalise_ids"

_VOCAL = re.compile(
    r"\b(speech|speak\w*|talk\w*|voice[sd]?|vocal\w*|sing\w*|sung|song|chant\w*|whisper\w*|shout\w*|yell\w*|"
    r"scream\w*|laugh\w*|giggl\w*|cry|cries|crying|sob\w*|moan\w*|groan\w*|sigh\w*|words?|conversation|"
    r"chatter\w*|hum(?:s|med|ming)? a tune|lyrics?|choir|narrat\w*)\b",
    re.IGNORECASE,
)


def normalise_session(value: Any) -> Session | None:
    """Map whatever a model wrote as an instrument hint to a session (the table's hint words), or None."""
    if value is None:
        return None
    if isinstance(value, Session):
        return value
    text = str(value).strip().lower()
    if text in {"", "null", "none", "n/a", "na", "-", "unknown", "any"}:
        return None
    return next((r.session for r in rows() if re.search(r.hint_words, text, re.IGNORECASE)), None)


def _cap(limit: int):
    def cap(value: Any) -> Any:
        if value is None:
            return ""
        text = " ".join(str(value).split())
        return text[:limit].rstrip()

    return BeforeValidator(cap)


def _confidence(value: Any) -> float:
    try:
        number = float(str(value).strip().rstrip("%")) if not isinstance(value, (int, float)) else float(value)
    except ValueError:
        return 0.5
    if isinstance(value, str) and value.strip().endswith("%") or number > 1.0:
        number /= 100.0
    return min(1.0, max(0.0, number))


def _timbre(value: Any) -> list[str]:
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, (str, int, float)):
        value = re.split(r"[,;/]", str(value))
    if not isinstance(value, (list, tuple)):
        raise ValueError("timbre must be a list of words")  # noqa: TRY004 - pydantic reports only ValueError
    words = [" ".join(str(w).split())[:40] for w in value if str(w).strip()]
    return words[:6]


ShortText = Annotated[str, _cap(80)]
MediumText = Annotated[str, _cap(160)]
LongText = Annotated[str, _cap(600)]


class Variant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = ""
    play_method: MediumText
    timbre: Annotated[list[str], BeforeValidator(_timbre)] = Field(default_factory=list)
    mapping_to_music_instrument: Annotated[Session | None, BeforeValidator(normalise_session)] = None
    confidence: Annotated[float, BeforeValidator(_confidence)] = 0.7
    # WAVE's additions, filled by later stages.
    prompt: str | None = None
    seed: int | None = None
    effect_engine: str | None = None
    effect_model: str | None = None
    session: Session | None = None
    session_reason: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _slug_id(cls, value: Any, info: ValidationInfo) -> str:
        """A given id must be a slug: it names the variant's sound file. A vision engine's ids are made into
        slugs instead (``from_raw``); one with nothing usable left is dropped and given a fresh id."""
        if (info.context or {}).get(_NORMALISE_IDS):
            return slugify(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
        try:
            return check_slug(value, "variant id")
        except UnsafeNameError as exc:
            raise ValueError(exc.user_message) from None

    @field_validator("play_method")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("play_method must say how the object makes its sound")
        return value


class SoundSource(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: ShortText
    material: ShortText = ""
    variants: list[Variant] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value:
            raise ValueError("every sound source needs a name")
        return value


class SoundSheet(BaseModel):
    model_config = ConfigDict(extra="ignore")

    scene_description: LongText
    mood_description: Annotated[str, _cap(300)]
    sound_sources: list[SoundSource] = Field(min_length=1)
    engine: str = "unknown"
    model: str | None = None
    cue: str | None = None
    # Set by engines that can tell: the reading is a guess, and what the reply should tell the person.
    low_confidence: bool = False
    notices: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self, info: ValidationInfo) -> SoundSheet:
        if (info.context or {}).get(_NORMALISE_IDS):
            return self  # assign_ids makes repeated ids unique
        seen: set[str] = set()
        for source in self.sound_sources:
            for variant in source.variants:
                if variant.id and variant.id in seen:
                    raise ValueError(f"two variants share the id {variant.id!r}; every variant needs its own id")
                seen.add(variant.id)
        return self

    # ------------------------------------------------------------------------------------------ construction

    @classmethod
    def from_raw(
        cls,
        data: dict[str, Any],
        *,
        engine: str,
        model: str | None = None,
        cue: str | None = None,
        low_confidence: bool = False,
        notices: list[str] | None = None,
    ) -> "SoundSheet":
        """Validate a vision engine's JSON and apply WAVE's rules.

        Drops vocal sources, keeps variants with confidence >= 0.7 (topping up with the most confident others
        to reach 5), keeps at most 12, and gives every variant a stable id. Raises ``ValueError`` with a message
        a model can act on when the result cannot meet the rules.
        """
        if not isinstance(data, dict):
            raise ValueError("the sheet must be a JSON object")
        data = dict(data)
        # What WAVE says about the reading comes from the engine's code, never from what a model wrote.
        data.update(engine=engine, model=model, cue=cue, low_confidence=low_confidence, notices=list(notices or []))
        sheet = cls.model_validate(data, context={_NORMALISE_IDS: True})
        return sheet._apply_rules()

    def _apply_rules(self) -> "SoundSheet":
        sources: list[SoundSource] = []
        for source in self.sound_sources:
            if _VOCAL.search(source.name):
                continue
            variants = [v for v in source.variants if not _VOCAL.search(" ".join([v.play_method, *v.timbre]))]
            if variants:
                sources.append(source.model_copy(update={"variants": variants}))
        ranked = sorted(
            ((v.confidence, -i, -j) for i, s in enumerate(sources) for j, v in enumerate(s.variants)), reverse=True
        )
        keep_count = max(MIN_VARIANTS, sum(1 for c, _, _ in ranked if c >= MIN_CONFIDENCE))
        keep = {(-i, -j) for _, i, j in ranked[: min(keep_count, MAX_VARIANTS)]}
        total = len(ranked)
        if total < MIN_VARIANTS:
            raise ValueError(
                f"the sheet has {total} usable variants (no speech or singing); it needs at least {MIN_VARIANTS} "
                f"variants across its sound_sources"
            )
        kept_sources = []
        for i, source in enumerate(sources):
            variants = [v for j, v in enumerate(source.variants) if (i, j) in keep]
            if variants:
                kept_sources.append(source.model_copy(update={"variants": variants}))
        sheet = self.model_copy(update={"sound_sources": kept_sources})
        sheet.assign_ids()
        return sheet

    def assign_ids(self) -> None:
        used: set[str] = set()
        for source in self.sound_sources:
            base = slugify(source.name) or "source"
            for j, variant in enumerate(source.variants, start=1):
                candidate = variant.id or f"{base}-{j}"
                n = 2
                while candidate in used:
                    candidate = f"{base}-{j}-{n}"
                    n += 1
                variant.id = candidate
                used.add(candidate)

    # --------------------------------------------------------------------------------------------- access

    def variants(self) -> list[tuple[SoundSource, Variant]]:
        return [(s, v) for s in self.sound_sources for v in s.variants]

    def variant(self, variant_id: str) -> tuple[SoundSource, Variant]:
        for source, variant in self.variants():
            if variant.id == variant_id:
                return source, variant
        raise KeyError(variant_id)

    def effect_inputs(self, effect_paths: dict[str, Path]) -> list[EffectInput]:
        """The effects of this sheet as casting/instrument inputs, with the sheet's words and hints."""
        inputs = []
        for source, variant in self.variants():
            if variant.id not in effect_paths:
                continue
            words = " ".join([source.name, source.material, variant.play_method, *variant.timbre])
            inputs.append(
                EffectInput(
                    id=variant.id,
                    path=effect_paths[variant.id],
                    name=f"{source.name} ({variant.play_method})",
                    words=words,
                    hint=variant.mapping_to_music_instrument,
                )
            )
        return inputs

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())
        return path

    @classmethod
    def load(cls, path: Path) -> "SoundSheet":
        from pipeline.errors import WaveInputError

        path = Path(path)
        if path.is_dir():
            raise WaveInputError(f"{path.name} is a folder, not a WAVE sound sheet (a sheet.json file).")
        if path.is_file() and path.stat().st_size > MAX_SHEET_BYTES:
            raise WaveInputError(f"{path.name} is too large for a WAVE sound sheet (over {MAX_SHEET_BYTES // 1024} KiB).")
        try:
            return cls.model_validate_json(path.read_text())
        except (OSError, ValidationError, UnicodeDecodeError) as exc:
            raise WaveInputError(f"{Path(path).name} is not a WAVE sound sheet: {_first_error(exc)}") from exc

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return cls.model_json_schema()


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        message = str(err["ctx"]["error"]) if err["type"] == "value_error" else err["msg"]
        where = ".".join(str(p) for p in err["loc"])
        return f"{where}: {message}" if where else message
    return str(exc)


def write_schema(path: Path) -> Path:
    path.write_text(json.dumps(SoundSheet.json_schema(), indent=2))
    return path
