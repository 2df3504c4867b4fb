"""From sound effects and a song to a finished mix: casting -> instruments -> render -> mix -> report.json."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Literal

from pydantic import BaseModel, Field

from pipeline.audio import write_wav
from pipeline.errors import WaveInputError
from pipeline.report import PlayReport, SessionReport
from pipeline.types import (
    SESSIONS,
    Casting,
    EffectInput,
    Instrument,
    ProgressCallback,
    Session,
    no_progress,
    scaled_progress,
)

log = logging.getLogger(__name__)

# Which cast session's sound an empty session borrows, in order of preference.
_BORROW_ORDER: dict[Session, tuple[Session, ...]] = {
    Session.DRUMS: (Session.BASS, Session.GUITAR, Session.KEYBOARD),
    Session.BASS: (Session.KEYBOARD, Session.GUITAR, Session.DRUMS),
    Session.GUITAR: (Session.KEYBOARD, Session.BASS, Session.DRUMS),
    Session.KEYBOARD: (Session.GUITAR, Session.BASS, Session.DRUMS),
}


class PlayOptions(BaseModel):
    sample_rate: int = 44100
    timbre_engine: Literal["dsp", "rave"] = "dsp"
    rave_models: dict[Session, Path] = Field(default_factory=dict)
    compressed_format: Literal["mp3", "ogg"] = "mp3"
    seed: int = 0
    mood: str = ""
    # 0 clean instrument .. 1 raw sound, per melodic session; a session left out gets its measured default
    character: dict[Session, float] = Field(default_factory=dict)


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 4)


def play(
    effects: list[EffectInput],
    song_ref: str,
    out_dir: Path,
    *,
    options: PlayOptions | None = None,
    overrides: dict[Session, str] | None = None,
    progress: ProgressCallback = no_progress,
) -> PlayReport:
    """Cast ``effects`` into the band, build the instruments, play ``song_ref`` and master the mix into ``out_dir``.

    ``song_ref`` is a library id, ``auto`` (chosen from ``options.mood``) or a path to a MIDI file. ``overrides``
    pins effects to sessions (session -> effect id); the rest is cast automatically.
    """
    from pipeline.sessions import cast, write_casting
    from pipeline.songs import resolve_song

    options = options or PlayOptions()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not effects:
        raise WaveInputError("No sound effects given: WAVE needs at least one effect to build a band.")
    _check_unique_ids(effects)
    timer = _Timer()
    notes: list[str] = []

    progress("Reading the song", 0.0)
    song = resolve_song(song_ref, mood=options.mood, seed=options.seed)
    song_sessions = {part.session for part in song.parts if part.notes}
    missing_parts = [s for s in SESSIONS if s not in song_sessions]
    if missing_parts:
        notes.append(f"the song has no {', '.join(s.value for s in missing_parts)} part; those sessions stay silent")

    progress("Casting the sounds into the band", 0.05)
    with timer("casting"):
        casting = cast(effects, overrides)
        casting_json, casting_png = write_casting(casting, effects, out_dir)

    by_id = {effect.id: effect for effect in effects}
    plan, session_reports = _plan_sessions(casting, by_id, song_sessions, notes)

    progress("Building instruments", 0.1)
    instruments = _build_instruments(plan, by_id, out_dir, options, timer, session_reports, notes, progress)

    progress("Playing the song", 0.3)
    from pipeline.render import render_song

    with timer("render"):
        stems = render_song(song, instruments, options.sample_rate, progress=scaled_progress(progress, 0.3, 0.8))
    stem_paths: dict[Session, str] = {}
    for session, stem in stems.items():
        rel = f"stems/{session.value}.wav"
        write_wav(out_dir / rel, stem, options.sample_rate)
        stem_paths[session] = rel

    progress("Mixing and mastering", 0.85)
    from pipeline.mix import master, write_mix

    with timer("mix"):
        mastered = master(stems, options.sample_rate)
        wav_path, compressed_path = write_mix(mastered, out_dir, options.compressed_format)

    report = PlayReport(
        song=song.info,
        song_roles=song.role_notes,
        sessions=session_reports,
        casting=casting_json.name,
        casting_png=casting_png.name if casting_png else None,
        mix=wav_path.name,
        mix_compressed=compressed_path.name,
        stems=stem_paths,
        duration_s=round(len(mastered.audio) / mastered.sample_rate, 3),
        loudness_lufs=round(mastered.loudness_lufs, 2),
        true_peak_dbtp=round(mastered.true_peak_dbtp, 2),
        timings_s={k: timer.seconds.get(k, 0.0) for k in ("casting", "instruments", "render", "mix")},
        notes=notes + list(getattr(mastered, "notes", []) or []),
        seed=options.seed,
    )
    write_report(report, out_dir)
    progress("Done", 1.0)
    return report


def write_report(report: PlayReport, out_dir: Path) -> Path:
    path = Path(out_dir) / "report.json"
    path.write_text(report.to_json())
    return path


def _check_unique_ids(effects: list[EffectInput]) -> None:
    seen: set[str] = set()
    for effect in effects:
        if effect.id in seen:
            raise WaveInputError(f"Two effects share the name '{effect.id}'; give each effect file its own name.")
        seen.add(effect.id)


def _plan_sessions(
    casting: Casting, by_id: dict[str, EffectInput], song_sessions: set[Session], notes: list[str]
) -> tuple[dict[Session, str], dict[Session, SessionReport]]:
    """Which effect plays each session the song needs, borrowing a cast sound where a session is empty."""
    plan: dict[Session, str] = {}
    reports: dict[Session, SessionReport] = {}
    for session in SESSIONS:
        choice = casting.choices.get(session)
        if choice is not None:
            plan[session] = choice.effect_id
            reports[session] = SessionReport(
                effect=choice.effect_id, effect_name=by_id[choice.effect_id].name or choice.effect_id, reason=choice.reason
            )
            continue
        why_empty = casting.empty.get(session, "no effect was cast here")
        if session not in song_sessions:
            reports[session] = SessionReport(reason=why_empty, fallback="not played: the song has no part for it")
            continue
        donor = next((d for d in _BORROW_ORDER[session] if d in casting.choices), None)
        if donor is None:
            reports[session] = SessionReport(reason=why_empty, fallback="not played: no sound to borrow")
            notes.append(f"{session.value}: no sound available, the part stays silent")
            continue
        effect_id = casting.choices[donor].effect_id
        plan[session] = effect_id
        fallback = f"{why_empty}; reusing '{effect_id}' (the {donor.value} sound) as a {session.value} instrument"
        reports[session] = SessionReport(
            effect=effect_id, effect_name=by_id[effect_id].name or effect_id, reason=why_empty, fallback=fallback
        )
        notes.append(f"{session.value}: {fallback}")
    return plan, reports


def _build_instruments(
    plan: dict[Session, str],
    by_id: dict[str, EffectInput],
    out_dir: Path,
    options: PlayOptions,
    timer: _Timer,
    reports: dict[Session, SessionReport],
    notes: list[str],
    progress: ProgressCallback,
) -> dict[Session, Instrument]:
    from pipeline.instruments import build_instrument

    instruments: dict[Session, Instrument] = {}
    with timer("instruments"):
        for i, (session, effect_id) in enumerate(plan.items()):
            progress(f"Building the {session.value} from '{effect_id}'", 0.1 + 0.2 * i / max(1, len(plan)))
            engine = options.timbre_engine
            rave_model = options.rave_models.get(session)
            if engine == "rave" and rave_model is None:
                engine = "dsp"
                notes.append(f"{session.value}: no RAVE model configured for this session; used the dsp timbre")
            instrument = build_instrument(
                by_id[effect_id],
                session,
                out_dir / "instruments" / session.value,
                sample_rate=options.sample_rate,
                engine=engine,
                rave_model=rave_model,
                seed=options.seed,
                character=options.character.get(session),
            )
            instruments[session] = instrument
            report = reports[session]
            report.character = instrument.character
            report.sfz = str(instrument.sfz_path.relative_to(out_dir))
            if instrument.sf2:
                report.sf2 = str((instrument.directory / instrument.sf2).relative_to(out_dir))
            report.notes = list(instrument.notes)
            notes.extend(f"{session.value}: {note}" for note in instrument.notes)
    return instruments
