"""From sound effects and a song to a finished mix: casting -> instruments -> render -> mix -> report.json."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from pipeline.audio import write_wav
from pipeline.errors import WaveInputError
from pipeline.progress import ProgressListener, Stage, ignore_progress, report_to
from pipeline.report import PlayReport, ProductionReport, SessionReport
from pipeline.safe_names import safe_child
from pipeline.session_table import row
from pipeline.types import (
    SESSIONS,
    Casting,
    EffectInput,
    Instrument,
    ProgressCallback,
    Session,
    Song,
    scaled_progress,
)

if TYPE_CHECKING:
    from pipeline.instruments.cache import InstrumentCache
    from pipeline.mix.master import MasterResult
    from pipeline.render.stem_cache import StemCache
    from pipeline.sessions.memo import FeatureMemo
    from pipeline.songs.mood import Production

log = logging.getLogger(__name__)


class PlayOptions(BaseModel):
    sample_rate: int = 44100
    timbre_engine: Literal["dsp", "rave"] = "dsp"
    rave_models: dict[Session, Path] = Field(default_factory=dict)
    compressed_format: Literal["mp3", "ogg"] = "mp3"
    seed: int = 0
    mood: str = ""
    # 0 clean instrument .. 1 raw sound, per melodic session; a session left out gets its measured default
    character: dict[Session, float] = Field(default_factory=dict)
    # False: only casting.json is written, and pipeline.sessions.draw_casting draws casting.png once the mix is out
    casting_picture: bool = True
    write_stems: bool = True  # each session's stem as stems/<session>.wav, besides the mix


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
    progress: ProgressListener = ignore_progress,
    instrument_cache: InstrumentCache | None = None,
    feature_memo: FeatureMemo | None = None,
    stem_cache: StemCache | None = None,
) -> PlayReport:
    """Cast ``effects`` into the band, build the instruments, play ``song_ref`` and master the mix into ``out_dir``.

    ``song_ref`` is a library id, ``auto`` (chosen from ``options.mood``) or a path to a MIDI file. ``overrides``
    pins effects to sessions (session -> effect id); the rest is cast automatically. With ``instrument_cache``,
    instruments built before from the same effect and settings are reused instead of built again; with
    ``feature_memo``, effects measured before are not measured again for casting and its picture; with
    ``stem_cache``, the stems of sessions whose instrument and parts are unchanged since an earlier render, and
    their shaping in the mix, are reused (the mix comes out the same).
    """
    from pipeline.sessions import cast, write_casting
    from pipeline.songs import resolve_song
    from pipeline.songs.mood import production_for

    options = options or PlayOptions()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not effects:
        raise WaveInputError("No sound effects given: WAVE needs at least one effect to build a band.")
    _check_unique_ids(effects)
    timer = _Timer()
    notes: list[str] = []

    casting_stage = report_to(progress, Stage.CASTING)
    casting_stage("Reading the song", 0.0)
    song = resolve_song(song_ref, mood=options.mood, seed=options.seed)
    production = production_for(options.mood)
    song_sessions = {part.session for part in song.parts if part.notes}
    missing_parts = [s for s in SESSIONS if s not in song_sessions]
    if missing_parts:
        notes.append(f"the song has no {', '.join(s.value for s in missing_parts)} part; those sessions stay silent")

    casting_stage("Casting the sounds into the band", 0.5)
    with timer("casting"):
        casting = cast(effects, overrides, features=feature_memo.features(effects) if feature_memo else None)

    # The casting's files are written while the band is built and played. Drawing the picture holds the GIL against
    # the mix (about 0.5 s of a remap), so a caller in a hurry asks for casting_picture=False and draws it later.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wave-casting") as drawer:
        drawn = drawer.submit(write_casting, casting, effects, out_dir, feature_memo,
                              picture=options.casting_picture)
        by_id = {effect.id: effect for effect in effects}
        plan, session_reports = _plan_sessions(casting, by_id, song_sessions, notes)

        building = report_to(progress, Stage.BUILDING)
        building("Building instruments", 0.0)
        instruments = _build_instruments(plan, by_id, out_dir, options, timer, session_reports, notes, building,
                                         instrument_cache)

        playing = report_to(progress, Stage.PLAYING)
        playing("Playing the song", 0.0)
        from pipeline.render import render_stems

        with timer("render"):
            rendered = render_stems(song, instruments, options.sample_rate,
                                    progress=scaled_progress(playing, 0.0, 0.7), cache=stem_cache)
        stems = rendered.stems
        stem_paths: dict[Session, str] = {}
        for session, stem in stems.items() if options.write_stems else ():
            path = safe_child(out_dir / "stems", f"{session.value}.wav")
            write_wav(path, stem, options.sample_rate)
            stem_paths[session] = str(path.relative_to(out_dir))

        playing("Mixing and mastering", 0.75)
        from pipeline.mix import MixStyle, master, stem_roles, write_mix

        style = MixStyle(brightness=production.brightness, space=production.space, width=production.width,
                         room_size=production.room_size)
        with timer("mix"):
            mastered = master(stems, options.sample_rate, stem_roles(list(stems), song.info.melody_session), style,
                              cache=stem_cache, stem_keys=rendered.keys)
            wav_path, compressed_path = write_mix(mastered, out_dir, options.compressed_format)
        casting_json, casting_png = drawn.result()

    report = PlayReport(
        song=song.info,
        song_roles=song.role_notes,
        sessions=session_reports,
        casting=casting_json.name,
        casting_png=casting_png.name if casting_png else None,
        mix=wav_path.name,
        mix_compressed=compressed_path.name,
        stems=stem_paths,
        stems_reused=rendered.reused if stem_cache is not None else None,
        duration_s=round(len(mastered.audio) / mastered.sample_rate, 3),
        loudness_lufs=round(mastered.loudness_lufs, 2),
        true_peak_dbtp=round(mastered.true_peak_dbtp, 2),
        timings_s={k: timer.seconds.get(k, 0.0) for k in ("casting", "instruments", "render", "mix")},
        notes=notes + list(getattr(mastered, "notes", []) or []),
        seed=options.seed,
        production=production_report(production, song, mastered),
    )
    write_report(report, out_dir)
    playing("Done", 1.0)
    return report


def production_report(production: Production, song: Song, mastered: MasterResult) -> ProductionReport:
    """What the roles and the mood did to the song and the mix, for report.json."""
    steered = song.info.source == "library"
    written_bpm = round(song.info.tempo_bpm / production.tempo_factor, 2) if steered else song.info.tempo_bpm
    changes: list[str] = []
    if steered and production.tempo_factor != 1.0:
        changes.append(f"tempo {written_bpm:g} -> {song.info.tempo_bpm:g} bpm "
                       f"({'slower' if production.tempo_factor < 1 else 'faster'})")
    if steered and abs(production.density) > 0.3:
        changes.append("sparser sections" if production.density < 0 else "busier sections")
    if production.brightness:
        changes.append(f"{'darker' if production.brightness < 0 else 'brighter'} by "
                       f"{abs(production.brightness):.2f} dB per octave")
    if production.space != 1.0:
        changes.append(f"{'more' if production.space > 1 else 'less'} space (reverb x{production.space:g})")
    if production.width != 1.0:
        changes.append(f"wider (x{production.width:g})")
    return ProductionReport(
        mood_words=list(production.words),
        melody_session=song.info.melody_session,
        roles={session: role.value for session, role in mastered.roles.items()},
        tempo_bpm=song.info.tempo_bpm,
        song_tempo_bpm=written_bpm,
        density=production.density if steered else 0.0,
        brightness_db_per_octave=production.brightness,
        space=production.space,
        width=production.width,
        tonal_eq_db=mastered.tonal_eq_db,
        changes=changes,
    )


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
        donor = next((d for d in row(session).borrows_from if d in casting.choices), None)
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


def instrument_settings(options: PlayOptions, session: Session) -> dict[str, Any]:
    """The build settings of ``session``'s instrument under ``options``: the RAVE engine falls back to dsp for a
    session without a RAVE model."""
    engine = options.timbre_engine
    rave_model = options.rave_models.get(session)
    if engine == "rave" and rave_model is None:
        engine = "dsp"
    return dict(sample_rate=options.sample_rate, engine=engine, rave_model=rave_model, seed=options.seed,
                character=options.character.get(session))


def _build_instruments(
    plan: dict[Session, str],
    by_id: dict[str, EffectInput],
    out_dir: Path,
    options: PlayOptions,
    timer: _Timer,
    reports: dict[Session, SessionReport],
    notes: list[str],
    progress: ProgressCallback,
    cache: InstrumentCache | None = None,
) -> dict[Session, Instrument]:
    from pipeline.instruments import build_instrument

    instruments: dict[Session, Instrument] = {}
    with timer("instruments"):
        for i, (session, effect_id) in enumerate(plan.items()):
            progress(f"Building the {session.value} from '{effect_id}'", i / max(1, len(plan)))
            settings = instrument_settings(options, session)
            if settings["engine"] != options.timbre_engine:
                notes.append(f"{session.value}: no RAVE model configured for this session; used the dsp timbre")
            build = partial(build_instrument, by_id[effect_id], session, **settings)  # build(directory)
            directory = safe_child(out_dir / "instruments", session.value)
            if cache is None:
                instrument = build(directory)
            else:
                instrument = cache.instrument(cache.key(by_id[effect_id], session, **settings), directory, build)
            instruments[session] = instrument
            report = reports[session]
            report.character = instrument.character
            report.sfz = str(instrument.sfz_path.relative_to(out_dir))
            if instrument.sf2:
                report.sf2 = str((instrument.directory / instrument.sf2).relative_to(out_dir))
            report.notes = list(instrument.notes)
            notes.extend(f"{session.value}: {note}" for note in instrument.notes)
    return instruments
