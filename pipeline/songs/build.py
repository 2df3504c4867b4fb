"""Regenerates the library: ``python -m pipeline.songs.build`` rewrites ``data/<id>.mid`` and ``data/library.json``.

The output depends only on the catalog and the arranger, so running it twice gives identical files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mido

from pipeline.songs.arrange import Arrangement, arrange
from pipeline.songs.catalog import CATALOG
from pipeline.songs.library import DATA_DIR, LIBRARY_FILE
from pipeline.songs.midi_read import read_midi
from pipeline.songs.midi_write import TICKS_PER_BEAT, TrackData, build_midi
from pipeline.types import SESSIONS, SongInfo


def _ticks(beat) -> int:
    return round(beat * TICKS_PER_BEAT)


def arrangement_midi(arrangement: Arrangement) -> mido.MidiFile:
    """The arrangement as a type 1 file: tracks drums, bass, guitar, keyboard; tempo map in the first track."""
    tracks = []
    for session in SESSIONS:
        part = arrangement.parts[session]
        tracks.append(TrackData(
            name=session.value,
            channel=part.channel,
            program=part.program,
            pan=part.pan,
            notes=[(_ticks(n.start), _ticks(n.start + n.duration), n.pitch, n.velocity) for n in part.notes],
            pedal=[(_ticks(beat), down) for beat, down in part.pedal],
        ))
    tempo = [(_ticks(beat), bpm) for beat, bpm in arrangement.tempo_changes]
    return build_midi(tracks, tempo, arrangement.spec.meter, arrangement.spec.key)


def build_library(out_dir: Path = DATA_DIR) -> list[SongInfo]:
    """Arrange every catalog song, write its MIDI file and the library index; return the index."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    infos = []
    for spec in CATALOG:
        path = out_dir / f"{spec.id}.mid"
        arrangement_midi(arrange(spec)).save(path)
        infos.append(SongInfo(
            id=spec.id,
            title=spec.title,
            composer=spec.composer,
            public_domain_basis=spec.public_domain_basis,
            tempo_bpm=spec.tempo_bpm,
            meter=spec.meter,
            key=spec.key,
            mood=list(spec.mood),
            melody_session=spec.melody_session,
            duration_s=round(read_midi(path).duration_s, 2),
        ))
    index = [info.model_dump(exclude={"source"}) for info in infos]
    (out_dir / LIBRARY_FILE).write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n")
    return infos


def main() -> None:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA_DIR
    for info in build_library(out_dir):
        print(f"{info.id:24s} {info.meter:4s} {info.tempo_bpm:6.1f} bpm {info.duration_s:6.1f} s  {info.title}")


if __name__ == "__main__":
    main()
