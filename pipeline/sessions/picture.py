"""The casting, written for people: casting.json and a picture sized for a chat preview."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import librosa
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before pyplot loads)
import numpy as np  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from pipeline.audio import load_effect  # noqa: E402
from pipeline.errors import WaveInputError  # noqa: E402
from pipeline.session_table import row  # noqa: E402
from pipeline.sessions.features import EffectFeatures, analyse_loaded  # noqa: E402
from pipeline.types import SESSIONS, Casting, EffectInput  # noqa: E402

if TYPE_CHECKING:
    from pipeline.sessions.memo import FeatureMemo

ALTERNATE_COLOUR = "#9a9a9a"
PICTURE_WIDTH_PX = 1100
PICTURE_DPI = 100
THUMB_RATE = 16000
THUMB_SECONDS = 3.0
CASTING_JSON = "casting.json"
CASTING_PNG = "casting.png"


def write_casting(casting: Casting, effects: list[EffectInput], out_dir: Path,
                  memo: FeatureMemo | None = None, *, picture: bool = True) -> tuple[Path, Path | None]:
    """Write ``casting.json`` (the casting plus each effect's features) and, with ``picture``, ``casting.png``;
    return both paths (None for a picture not drawn: :func:`draw_casting` draws it later from the JSON).
    ``memo`` remembers each effect's thumbnail and features for the next casting of the same sounds."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    by_id = _given(casting, effects)
    measured = _measured(effects, memo)
    thumbs = {effect_id: thumb for effect_id, (thumb, _) in measured.items()}
    features = {effect_id: found for effect_id, (_, found) in measured.items()}

    report = {
        **json.loads(casting.model_dump_json()),
        "effects": [
            {
                "id": e.id,
                "name": e.name or e.id,
                "path": str(e.path),
                "session": _session_of(casting, e.id),
                "features": json.loads(features[e.id].model_dump_json()),
            }
            for e in effects
        ],
    }
    json_path = out_dir / CASTING_JSON
    json_path.write_text(json.dumps(report, indent=2))
    if not picture:
        return json_path, None
    png_path = out_dir / CASTING_PNG
    _draw(casting, by_id, thumbs, png_path)
    return json_path, png_path


def draw_casting(out_dir: Path, effects: list[EffectInput], memo: FeatureMemo | None = None) -> Path:
    """Draw ``casting.png`` next to the ``casting.json`` that :func:`write_casting` wrote in ``out_dir``."""
    out_dir = Path(out_dir)
    written = json.loads((out_dir / CASTING_JSON).read_text())
    written.pop("effects", None)
    casting = Casting.model_validate(written)
    by_id = _given(casting, effects)
    named = [by_id[effect_id] for effect_id in sorted(_named(casting))]
    thumbs = {effect_id: thumb for effect_id, (thumb, _) in _measured(named, memo).items()}
    png_path = out_dir / CASTING_PNG
    _draw(casting, by_id, thumbs, png_path)
    return png_path


def _named(casting: Casting) -> set[str]:
    return {c.effect_id for c in casting.choices.values()} | {a.effect_id for a in casting.alternates}


def _given(casting: Casting, effects: list[EffectInput]) -> dict[str, EffectInput]:
    """The effects by id, once every sound the casting names is among them."""
    by_id = {e.id: e for e in effects}
    if missing := sorted(_named(casting) - set(by_id)):
        raise WaveInputError(f"The casting names sounds that were not given: {', '.join(missing)}.")
    return by_id


def _measured(effects: list[EffectInput], memo: FeatureMemo | None) -> dict[str, tuple[np.ndarray, EffectFeatures]]:
    """Each effect's thumbnail and features, from ``memo`` where it holds them."""
    return {effect.id: memo.remember(effect, "picture", _measure) if memo is not None else _measure(effect)
            for effect in effects}


def _measure(effect: EffectInput) -> tuple[np.ndarray, EffectFeatures]:
    loaded = load_effect(effect.path, sample_rate=THUMB_RATE)
    return _mel_thumbnail(loaded.audio, loaded.sample_rate, loaded.silent), analyse_loaded(loaded)


def _session_of(casting: Casting, effect_id: str) -> str | None:
    sessions = [s.value for s, c in casting.choices.items() if c.effect_id == effect_id]
    return ", ".join(sessions) if sessions else None


def _mel_thumbnail(audio: np.ndarray, sr: int, silent: bool) -> np.ndarray:
    excerpt = audio[: int(THUMB_SECONDS * sr)]
    mel = librosa.feature.melspectrogram(y=excerpt, sr=sr, n_fft=1024, hop_length=256, n_mels=64, fmax=sr / 2)
    db = librosa.power_to_db(mel, ref=np.max, top_db=70.0) if not silent else np.full_like(mel, -70.0)
    return db


def _draw(casting: Casting, by_id: dict[str, EffectInput], thumbs: dict[str, np.ndarray], path: Path) -> None:
    rows: list[tuple[str, str, str, str, bool]] = []  # (header, name, reason, colour, greyed)
    for session in SESSIONS:
        choice = casting.choices.get(session)
        if choice is None:
            rows.append((session.value.upper(), "(empty)", casting.empty.get(session, ""), row(session).colour, True))
            continue
        effect = by_id[choice.effect_id]
        rows.append(
            (session.value.upper(), effect.name or effect.id, choice.reason, row(session).colour, False)
        )
    for alternate in casting.alternates:
        effect = by_id[alternate.effect_id]
        header = f"ALT {alternate.rank}"
        reason = f"would suit {alternate.best_session.value}: {alternate.reason}"
        rows.append((header, effect.name or effect.id, reason, ALTERNATE_COLOUR, True))
    effect_of_row = [c.effect_id if (c := casting.choices.get(s)) else None for s in SESSIONS]
    effect_of_row += [a.effect_id for a in casting.alternates]

    row_h = 1.25
    width_in = PICTURE_WIDTH_PX / PICTURE_DPI
    height_in = 0.9 + row_h * len(rows)
    fig = plt.figure(figsize=(width_in, height_in), dpi=PICTURE_DPI, facecolor="white")
    fig.text(0.02, 1 - 0.45 / height_in, "Who plays what", fontsize=24, fontweight="bold", va="center")
    for index, ((header, name, reason, colour, greyed), effect_id) in enumerate(zip(rows, effect_of_row)):
        top = 1 - (0.9 + row_h * index) / height_in
        bottom = top - (row_h - 0.12) / height_in
        h = top - bottom
        badge = fig.add_axes((0.015, bottom, 0.16, h))
        badge.axis("off")
        badge.add_patch(
            FancyBboxPatch(
                (0.02, 0.05), 0.96, 0.9, boxstyle="round,pad=0.0,rounding_size=0.12", color=colour, alpha=0.45 if greyed else 1.0
            )
        )
        badge.text(0.5, 0.5, header, ha="center", va="center", fontsize=17, fontweight="bold", color="white")
        thumb_ax = fig.add_axes((0.19, bottom, 0.25, h))
        if effect_id is not None:
            thumb_ax.imshow(
                thumbs[effect_id], origin="lower", aspect="auto", cmap="gray" if greyed else "magma", vmin=-70, vmax=0, alpha=0.55 if greyed else 1.0
            )
        thumb_ax.set_xticks([])
        thumb_ax.set_yticks([])
        for spine in thumb_ax.spines.values():
            spine.set_edgecolor(colour)
            spine.set_linewidth(3)
        text_colour = "#777777" if greyed else "#111111"
        fig.text(0.46, bottom + h * 0.68, _shorten(name, 34), fontsize=19, fontweight="bold", color=text_colour, va="center")
        fig.text(0.46, bottom + h * 0.25, _shorten(reason, 62), fontsize=13, color=text_colour, va="center")
    fig.savefig(path, dpi=PICTURE_DPI, facecolor="white")
    plt.close(fig)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
