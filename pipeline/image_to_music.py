"""The whole pipeline: image (+ cue) -> sheet.json -> effects/ -> everything ``play`` writes."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pipeline.play import PlayOptions, play, write_report
from pipeline.progress import ProgressListener, Stage, ignore_progress, report_to
from pipeline.report import PlayReport
from pipeline.sheet import SoundSheet
from pipeline.types import Session

log = logging.getLogger(__name__)


def see_image(
    image: Path | bytes, vision, out_dir: Path, cue: str | None = None, *, progress: ProgressListener = ignore_progress
) -> SoundSheet:
    """Vision stage alone: writes ``out_dir/sheet.json``."""
    from pipeline.vision import see

    report_to(progress, Stage.SEEING)("Looking at the picture", 0.0)
    sheet = see(image, vision, cue=cue)
    sheet.save(Path(out_dir) / "sheet.json")
    return sheet


def hear_sheet(
    sheet: SoundSheet, effects_engine, out_dir: Path, *, seed: int = 0, progress: ProgressListener = ignore_progress
) -> dict[str, Path]:
    """Effects stage alone: writes ``out_dir/effects/<variant-id>.wav`` and records prompts and seeds in the sheet."""
    hearing = report_to(progress, Stage.HEARING)
    hearing("Making the sounds", 0.0)
    paths = effects_engine.generate(sheet, Path(out_dir) / "effects", seed=seed, progress=hearing)
    notice = getattr(effects_engine, "notice", None)  # e.g. the embedded engines made these sounds
    if notice and notice not in sheet.notices:
        sheet.notices.append(notice)
    sheet.save(Path(out_dir) / "sheet.json")
    return paths


def image_to_music(
    image: Path | bytes,
    song_ref: str,
    out_dir: Path,
    *,
    vision,
    effects_engine,
    cue: str | None = None,
    options: PlayOptions | None = None,
    overrides: dict[Session, str] | None = None,
    progress: ProgressListener = ignore_progress,
) -> PlayReport:
    """Run every stage and write sheet.json, effects/, instruments/, stems/, the mix, casting and report.json."""
    from pipeline.songs import check_song

    check_song(song_ref)
    out_dir = Path(out_dir)
    options = (options or PlayOptions()).model_copy()
    sheet = see_image(image, vision, out_dir, cue, progress=progress)
    paths = hear_sheet(sheet, effects_engine, out_dir, seed=options.seed, progress=progress)

    options.mood = " ".join(filter(None, [options.mood, cue or "", sheet.mood_description]))
    report = play(
        sheet.effect_inputs(paths), song_ref, out_dir, options=options, overrides=overrides, progress=progress
    )

    _record_sessions_in_sheet(sheet, out_dir)
    sheet.save(out_dir / "sheet.json")
    report.sheet = "sheet.json"
    # What the person should hear about how their picture was read and their sounds were made.
    report.notes += sheet.notices
    report.effects = {variant_id: str(path.relative_to(out_dir)) for variant_id, path in paths.items()}
    report.engines = {
        "vision": vision.name,
        "vision_model": getattr(vision, "model_id", None),
        "effects": effects_engine.name,
        "effects_model": getattr(effects_engine, "model_id", None),
        "timbre": options.timbre_engine,
    }
    write_report(report, out_dir)
    return report


def _record_sessions_in_sheet(sheet: SoundSheet, out_dir: Path) -> None:
    """Copy each variant's cast session and reason from casting.json into the sheet."""
    casting = json.loads((out_dir / "casting.json").read_text())
    choices = casting.get("choices", {})
    by_effect = {choice["effect_id"]: (session, choice.get("reason")) for session, choice in choices.items()}
    alternates = {alt["effect_id"]: alt.get("reason") for alt in casting.get("alternates", [])}
    for _, variant in sheet.variants():
        if variant.id in by_effect:
            session, reason = by_effect[variant.id]
            variant.session = Session(session)
            variant.session_reason = reason
        elif variant.id in alternates:
            variant.session = None
            variant.session_reason = f"alternate: {alternates[variant.id]}"
