"""Uploaded MIDI files: checks, reading and casting their tracks onto the band's sessions."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.errors import WaveInputError
from pipeline.session_table import row
from pipeline.songs.library import part_from_track
from pipeline.songs.midi_read import read_midi
from pipeline.songs.roles import infer_roles, melody_session
from pipeline.types import SESSION_RANGES, Note, Part, Song, SongInfo

MAX_FILE_BYTES = 1024 * 1024
MAX_SECONDS = 600.0
MAX_TRACKS = 64
MAX_NOTES = 50_000


def _fit_range(part: Part) -> tuple[Part, str]:
    """Move melodic notes by octaves into the session's range; keep drum notes on GM kit keys only."""
    low, high = SESSION_RANGES[part.session]
    kept: list[Note] = []
    moved = dropped = 0
    for note in part.notes:
        pitch = note.pitch
        if row(part.session).drum_kit and part.is_drum:
            if not low <= pitch <= high:
                dropped += 1
                continue
        else:
            while pitch < low:
                pitch += 12
            while pitch > high:
                pitch -= 12
        if pitch != note.pitch:
            moved += 1
            note = note.model_copy(update={"pitch": pitch})
        kept.append(note)
    remark = ""
    if moved:
        remark = f"; {moved} notes moved by octaves into {part.session.value} range"
    if dropped:
        remark += f"; {dropped} notes on keys outside the GM kit (35-81) left out"
    return part.model_copy(update={"notes": kept}), remark


def load_midi(path: Path, *, title: str | None = None) -> Song:
    """Read an uploaded MIDI file into a Song whose parts are tagged by session.

    Raises WaveInputError for a file that is too big, too long, has too many tracks or notes, is not MIDI,
    is broken, or has no notes. A file with only drums loads as a drums-only song.
    """
    path = Path(path)
    if not path.is_file():
        raise WaveInputError(f"The MIDI file {path.name} was not found.")
    size = path.stat().st_size
    if size == 0:
        raise WaveInputError(f"{path.name} is empty.")
    if size > MAX_FILE_BYTES:
        raise WaveInputError(f"{path.name} is {size / 1024 / 1024:.1f} MiB; MIDI files up to 1 MiB are accepted.")
    content = read_midi(path, max_notes=MAX_NOTES, max_tracks=MAX_TRACKS)
    if content.duration_s > MAX_SECONDS:
        raise WaveInputError(f"{path.name} lasts {content.duration_s / 60:.1f} minutes; "
                             f"songs up to {MAX_SECONDS / 60:.0f} minutes are accepted.")
    if content.note_count == 0:
        raise WaveInputError(f"{path.name} has no notes to play.")

    parts, notes = [], []
    for track, role in zip(content.parts, infer_roles(content.parts)):
        part, remark = _fit_range(part_from_track(track, role.session))
        notes.append(role.reason + remark)
        if part.notes:
            parts.append(part)
    if not parts:
        raise WaveInputError(f"{path.name} has no notes WAVE's band can play.")
    info = SongInfo(
        id="upload-" + hashlib.sha256(path.read_bytes()).hexdigest()[:12],
        title=title or path.stem.replace("_", " ").strip() or "Uploaded song",
        composer="unknown",
        public_domain_basis="uploaded by the user",
        tempo_bpm=content.tempo_bpm,
        meter=content.meter,
        key=content.key or "unknown",
        duration_s=round(content.duration_s, 2),
        source="upload",
        melody_session=melody_session(parts),
    )
    return Song(info=info, parts=parts, role_notes=notes)
