"""The stored song library: ``data/library.json`` plus one MIDI file per song, tracks named after sessions."""

from __future__ import annotations

import json
import tempfile
from functools import lru_cache
from pathlib import Path

from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.songs.arrange import Steer, arrange
from pipeline.songs.midi_read import ChannelTrack, MidiContent, read_midi
from pipeline.types import Part, Session, Song, SongInfo

DATA_DIR = Path(__file__).parent / "data"
LIBRARY_FILE = "library.json"


@lru_cache(maxsize=1)
def _index() -> tuple[SongInfo, ...]:
    path = DATA_DIR / LIBRARY_FILE
    try:
        return tuple(SongInfo.model_validate(item) for item in json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise WaveEngineError("The song library is missing or damaged; run `python -m pipeline.songs.build`.",
                              detail=str(exc)) from exc


def list_songs() -> list[SongInfo]:
    """Every library song, in catalog order."""
    return [info.model_copy(deep=True) for info in _index()]


def song_info(song_id: str) -> SongInfo:
    wanted = song_id.strip().lower()
    for info in _index():
        if info.id == wanted:
            return info.model_copy(deep=True)
    ids = [info.id for info in _index()]
    raise WaveInputError(f"There is no song called '{song_id}'. Try one of: {', '.join(ids[:6])} "
                         f"(or 'auto'; {len(ids)} songs in all).")


def part_from_track(track: ChannelTrack, session: Session) -> Part:
    return Part(
        session=session,
        name=track.name,
        program=track.program,
        is_drum=track.is_drum_channel,
        pan=track.pan or 0.0,
        notes=track.notes,
        pedal=track.pedal,
    )


def load_song(song_id: str, seed: int = 0, steer: Steer | None = None) -> Song:
    """A library song with its four session parts, notes in seconds. Unknown ids raise WaveInputError.

    Seed 0 with no steer is the stored arrangement; any other seed or a steer arranges the song afresh (the same
    way every time for the same seed and steer, so a warm process keeps recent ones: a remap plays its song again).
    The caller gets its own copy.
    """
    return _library_song(song_info(song_id).id, seed, steer or Steer()).model_copy(deep=True)


@lru_cache(maxsize=16)
def _library_song(song_id: str, seed: int, steer: Steer) -> Song:
    info = song_info(song_id)
    if seed == 0 and steer == Steer():
        path: Path = DATA_DIR / f"{info.id}.mid"
        if not path.is_file():
            raise WaveEngineError(f"The library file for '{info.id}' is missing; run `python -m pipeline.songs.build`.")
        content = read_midi(path)
    else:
        content = _arranged(info.id, seed, steer)
        info = info.model_copy(update={"tempo_bpm": content.tempo_bpm, "duration_s": round(content.duration_s, 2)})
    return Song(info=info, parts=[part_from_track(track, Session(track.name)) for track in content.parts])


def _arranged(song_id: str, seed: int, steer: Steer) -> MidiContent:
    from pipeline.songs.build import arrangement_midi
    from pipeline.songs.catalog import SPECS

    with tempfile.TemporaryDirectory(prefix="wave-song-") as directory:
        path = Path(directory) / f"{song_id}.mid"
        arrangement_midi(arrange(SPECS[song_id], seed, steer)).save(path)
        return read_midi(path)
