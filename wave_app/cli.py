"""The ``wave`` command: every pipeline stage on its own, the whole pipeline, and operator tools."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.effects import EFFECTS
from pipeline.errors import WaveEngineError, WaveError, os_error_message
from pipeline.progress import STAGES, ProgressListener, Stage, as_fractions
from pipeline.types import SESSIONS, Session
from pipeline.vision import VISION

console = Console(stderr=True)
out = Console()
log = logging.getLogger("wave")

EXIT_INPUT = 2
EXIT_ENGINE = 3
EXIT_UNEXPECTED = 1


# ----------------------------------------------------------------------------------------------------- helpers


@contextmanager
def progress_bar(enabled: bool = True, stages: Sequence[Stage] = STAGES) -> Iterator[ProgressListener]:
    """A rich progress bar over the pipeline ``stages`` a command runs, driven by their progress events."""
    if not enabled or not console.is_terminal:
        last = [""]

        def plain(message: str, fraction: float) -> None:
            if message != last[0]:
                console.print(f"[dim]{fraction * 100:5.1f}%[/] {escape(message)}", highlight=False)
                last[0] = message

        yield as_fractions(plain, stages)
        return
    with Progress(
        TextColumn("[bold]{task.description:<44}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(), console=console, transient=False,
    ) as bar:
        task = bar.add_task("Starting", total=1.0)

        def update(message: str, fraction: float) -> None:
            bar.update(task, description=message[:44], completed=fraction)

        yield as_fractions(update, stages)


def parse_cast(values: list[str] | None) -> dict[Session, str]:
    """``["bass=rain-1", "drums=door-2"]`` -> {Session.BASS: "rain-1", ...}."""
    overrides: dict[Session, str] = {}
    for value in values or []:
        session, sep, effect_id = value.partition("=")
        try:
            overrides[Session(session.strip().lower())] = effect_id.strip()
        except ValueError:
            names = ", ".join(SESSIONS)
            raise WaveError(f"--cast {value!r}: use SESSION=EFFECT_ID with SESSION one of {names}")
        if not sep or not effect_id.strip():
            raise WaveError(f"--cast {value!r}: use SESSION=EFFECT_ID, e.g. --cast bass=rain-1")
    return overrides


def effect_inputs_from_files(paths: list[Path]):
    from pipeline.types import EffectInput

    inputs = []
    for path in paths:
        inputs.append(EffectInput(id=path.stem, path=path, name=path.stem.replace("_", " ").replace("-", " ")))
    return inputs


def print_report_summary(report, out_dir: Path) -> None:
    table = Table(title=f"{report.song.title} ({report.song.composer})", show_lines=False)
    table.add_column("session")
    table.add_column("played by")
    table.add_column("why")
    for session, entry in report.sessions.items():
        who = entry.effect_name or "-"
        why = entry.fallback or entry.reason
        table.add_row(session.value, escape(who), escape(why))
    out.print(table)
    out.print(
        f"mix: [bold]{escape(str(out_dir / report.mix))}[/] ({report.duration_s:.1f} s, {report.loudness_lufs:.1f} "
        f"LUFS, true peak {report.true_peak_dbtp:.1f} dBTP); compressed: {escape(str(out_dir / report.mix_compressed))}",
        soft_wrap=True,
    )
    for note in report.notes:
        out.print(f"[yellow]note:[/] {escape(note)}")


# ---------------------------------------------------------------------------------------------------- commands


def cmd_songs(args: argparse.Namespace) -> int:
    from pipeline.songs import list_songs

    songs = list_songs()
    if args.json:
        out.print_json(json.dumps([s.model_dump() for s in songs]))
        return 0
    table = Table(title="WAVE song library (public domain, arranged by WAVE)")
    for column in ("id", "title", "composer", "tempo", "meter", "key", "length", "mood"):
        table.add_column(column)
    for s in songs:
        table.add_row(
            s.id, s.title, s.composer, f"{s.tempo_bpm:.0f}", s.meter, s.key, f"{s.duration_s:.0f} s", ", ".join(s.mood)
        )
    out.print(table)
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    from pipeline.instruments.character import parse_character
    from pipeline.play import play
    from wave_core.engines import play_options
    from wave_core.settings import get_settings

    options = play_options(get_settings(), seed=args.seed, mood=args.mood or "", timbre=args.timbre)
    options = options.model_copy(update={"character": parse_character(args.character)})
    with progress_bar(not args.quiet, (Stage.CASTING, Stage.BUILDING, Stage.PLAYING)) as progress:
        report = play(
            effect_inputs_from_files(args.effects), args.song, args.out, options=options,
            overrides=parse_cast(args.cast), progress=progress,
        )
    print_report_summary(report, args.out)
    return 0


def cmd_cast(args: argparse.Namespace) -> int:
    from pipeline.sessions import cast, write_casting

    effects = effect_inputs_from_files(args.effects)
    casting = cast(effects, parse_cast(args.cast))
    json_path, png_path = write_casting(casting, effects, args.out)
    for session, choice in casting.choices.items():
        out.print(f"[bold]{session.value:<9}[/] {choice.effect_id:<28} {escape(choice.reason)}")
    for session, why in casting.empty.items():
        out.print(f"[bold]{session.value:<9}[/] [dim]empty[/] {escape(why)}")
    for alt in casting.alternates:
        out.print(f"[dim]alternate #{alt.rank}: {alt.effect_id} (best as {alt.best_session.value}: {escape(alt.reason)})[/]")
    out.print(f"wrote {escape(str(json_path))} and {escape(str(png_path))}")
    return 0


def cmd_see(args: argparse.Namespace) -> int:
    from pipeline.image_to_music import see_image
    from wave_core.engines import vision_engine
    from wave_core.settings import get_settings

    settings = _settings_with(get_settings(), vision_engine=args.engine)
    with console.status("Looking at the picture"):
        sheet = see_image(args.image, vision_engine(settings), args.out, cue=args.cue)
    out.print(f"[bold]{escape(sheet.scene_description)}[/]\nmood: {escape(sheet.mood_description)}")
    for source, variant in sheet.variants():
        hint = variant.mapping_to_music_instrument.value if variant.mapping_to_music_instrument else "-"
        out.print(escape(f"  {variant.id:<28} {source.name}: {variant.play_method} [{', '.join(variant.timbre)}] -> {hint}"))
    for notice in sheet.notices:
        out.print(f"[yellow]note:[/] {escape(notice)}")
    out.print(f"wrote {escape(str(args.out / 'sheet.json'))}")
    return 0


def cmd_hear(args: argparse.Namespace) -> int:
    from pipeline.image_to_music import hear_sheet
    from pipeline.sheet import SoundSheet
    from wave_core.engines import effects_engine
    from wave_core.settings import get_settings

    settings = _settings_with(get_settings(), effects_engine=args.engine)
    sheet = SoundSheet.load(args.sheet)
    with progress_bar(not args.quiet, (Stage.HEARING,)) as progress:
        paths = hear_sheet(sheet, effects_engine(settings), args.out, seed=args.seed, progress=progress)
    for variant_id, path in paths.items():
        out.print(escape(f"  {variant_id:<28} {path}"))
    for notice in sheet.notices:
        out.print(f"[yellow]note:[/] {escape(notice)}")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from pipeline.image_to_music import image_to_music
    from pipeline.instruments.character import parse_character
    from pipeline.songs import check_song
    from wave_core.engines import effects_engine, play_options, vision_engine
    from wave_core.settings import get_settings

    settings = get_settings()
    if args.profile:
        settings = _settings_with(settings, profile=args.profile)
    check_song(args.song)  # before the engines load: a wrong song must not cost a model load
    image = args.image if args.image is not None else _demo_image(args.out)
    with console.status("Loading engines"):
        vision = vision_engine(settings)
        effects = effects_engine(settings)
    options = play_options(settings, seed=args.seed, timbre=args.timbre)
    options = options.model_copy(update={"character": parse_character(args.character)})
    with progress_bar(not args.quiet) as progress:
        report = image_to_music(
            image, args.song, args.out, vision=vision, effects_engine=effects, cue=args.cue, options=options,
            overrides=parse_cast(args.cast), progress=progress,
        )
    print_report_summary(report, args.out)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from pipeline.sheet import SoundSheet

    text = json.dumps(SoundSheet.json_schema(), indent=2)
    if args.out:
        args.out.write_text(text)
        out.print(f"wrote {escape(str(args.out))}")
    else:
        print(text)
    return 0


def out_folder(value: str) -> Path:
    """An ``--out DIR`` argument: a folder that exists or can be made, never an existing file."""
    path = Path(value)
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            raise argparse.ArgumentTypeError(f"{part} is a file; --out takes a folder (it is made when missing)")
        if part.is_dir():
            break
    return path


def _settings_with(settings, **changes):
    changes = {k: v for k, v in changes.items() if v is not None}
    return settings.model_copy(update=changes) if changes else settings


def _demo_image(out_dir: Path) -> Path:
    """The bundled demo picture: scikit-image's 'coffee' sample (public domain), saved as a PNG."""
    from PIL import Image
    from skimage import data

    path = Path(out_dir) / "input.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(data.coffee()).save(path)
    return path


# ------------------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wave",
        description="WAVE listens to a photo: it finds the things in it that could make sound, makes those sounds, "
        "turns them into a band (drums, bass, guitar, keyboard) and plays a song with it.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  wave render --song auto --out out/demo            # the bundled picture, embedded engines\n"
        "  wave render photo.jpg --song ode-to-joy --cue 'make it melancholic' --out out/photo\n"
        "  wave play --effects door.wav rain.wav hum.wav bird.wav --song auto --out out/play\n"
        "  wave songs                                          # the song library\n"
        "settings come from WAVE_* environment variables or a .env file (see README).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str, **kw) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, **kw)
        p.set_defaults(func=func)
        return p

    p = add("songs", cmd_songs, "List the song library.")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def song_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--song", required=True, metavar="ID|auto|PATH.mid",
                       help="a library song id (see `wave songs`), auto (picked by mood) or a MIDI file")
        p.add_argument("--seed", type=int, default=0, help="seed for every random choice (default 0)")
        p.add_argument("--cast", nargs="+", metavar="SESSION=ID", help="pin effects to sessions, e.g. bass=rain-1")
        p.add_argument("--timbre", choices=["dsp", "rave"], help="timbre engine (default from WAVE_TIMBRE_ENGINE)")
        p.add_argument("--character", nargs="+", metavar="[SESSION=]AMOUNT",
                       help="0 clean instrument .. 1 raw sound, for all melodic sessions (0.7) or one (bass=0.8)")
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = add("play", cmd_play, "Play a song with instruments built from your sound effects.")
    p.add_argument("--effects", nargs="+", type=Path, required=True, metavar="FILE", help="effect sound files")
    p.add_argument("--out", type=out_folder, required=True, metavar="DIR", help="output directory")
    p.add_argument("--mood", help="mood words, used by --song auto")
    song_args(p)

    p = add("cast", cmd_cast, "Decide which effect plays which session; writes casting.json and casting.png.")
    p.add_argument("effects", nargs="+", type=Path, metavar="EFFECT", help="effect sound files")
    p.add_argument("--out", type=out_folder, required=True, metavar="DIR", help="output directory")
    p.add_argument("--cast", nargs="+", metavar="SESSION=ID", help="pin effects to sessions, e.g. bass=rain-1")

    p = add("see", cmd_see, "Describe a picture's sound sources; writes sheet.json.")
    p.add_argument("image", type=Path, metavar="IMAGE")
    p.add_argument("--cue", help="a few words that steer the mood, e.g. 'make it melancholic'")
    p.add_argument("--out", type=out_folder, required=True, metavar="DIR", help="output directory")
    p.add_argument("--engine", choices=VISION.names, help="vision engine (default from the profile)")

    p = add("hear", cmd_hear, "Make one sound effect per variant of a sheet; writes effects/<variant-id>.wav.")
    p.add_argument("sheet", type=Path, metavar="SHEET.json")
    p.add_argument("--out", type=out_folder, required=True, metavar="DIR", help="output directory")
    p.add_argument("--engine", choices=EFFECTS.names, help="effects engine (default from the profile)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = add("render", cmd_render, "The whole pipeline: picture -> sheet -> effects -> band -> song -> mix.")
    p.add_argument("image", type=Path, nargs="?", metavar="IMAGE", help="the picture (default: WAVE's demo picture)")
    p.add_argument("--cue", help="a few words that steer the mood")
    p.add_argument("--profile", choices=["lite", "gpu"], help="lite: embedded engines on CPU; gpu: Qwen2.5-VL + AudioLDM2")
    p.add_argument("--out", type=out_folder, required=True, metavar="DIR", help="output directory")
    song_args(p)

    p = add("schema", cmd_schema, "Print the JSON Schema of the sound sheet.")
    p.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of stdout")

    from wave_app import doctor, models_cmd, ops

    ops.register(sub, add)
    models_cmd.register(sub, add)
    doctor.register(sub, add)
    return parser


def run(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except WaveError as exc:
        log.info("stopped: %s", exc)
        _print_error(exc.user_message)
        return EXIT_ENGINE if isinstance(exc, WaveEngineError) else EXIT_INPUT
    except OSError as exc:
        # A full disk, a folder WAVE may not write to, a file where a folder should be: the person can fix these.
        log.info("stopped: %r", exc)
        _print_error(os_error_message(exc))
        return EXIT_INPUT
    except KeyboardInterrupt:
        console.print("[yellow]stopped[/]")
        return 130
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        where = _log_unexpected(error_id)
        details = f"details in {where}" if where else "the details could not be written to the log either"
        _print_error(f"something went wrong inside WAVE (error id {error_id}); {details}.")
        return EXIT_UNEXPECTED


def _print_error(message: str) -> None:
    """One line a person can read and copy: text from data is not markup, and paths are never wrapped."""
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


class _QuietFileHandler(logging.FileHandler):
    """A log file handler that records a failed write (a full disk) instead of printing a traceback."""

    failed = False

    def handleError(self, record: logging.LogRecord) -> None:
        self.failed = True


def _log_unexpected(error_id: str) -> Path | None:
    """Write the traceback of the exception being handled to the log file, not to the user's screen.

    Returns the log file, or None when it cannot be written (bad settings, a read-only folder, a full disk).
    """
    from wave_core.settings import get_settings

    try:
        path = get_settings().data_dir / "logs" / "wave.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _QuietFileHandler(path)
    except (WaveError, OSError):
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    file_log = logging.getLogger("wave.errors")
    file_log.propagate = False
    file_log.addHandler(handler)
    try:
        file_log.exception("unexpected error %s", error_id)
    finally:
        file_log.removeHandler(handler)
        try:
            handler.close()
        except OSError:
            handler.failed = True
    return None if handler.failed else path


def app() -> None:
    sys.exit(run())


if __name__ == "__main__":
    app()
