"""Songs for the band: a library of public-domain tunes arranged by WAVE, and uploaded MIDI files.

- :func:`list_songs` / :func:`load_song`: the library (``data/``, rebuilt by ``python -m pipeline.songs.build``).
- :func:`load_midi`: an uploaded file, tracks cast onto sessions with a reason per track.
- :func:`pick_song`: the song whose mood fits a description (``auto``).
- :func:`resolve_song`: a song id, ``auto`` or a path, whichever the user gave.
- :func:`write_midi`: any Song back to a standard MIDI file.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import WaveInputError
from pipeline.songs import mood as _mood
from pipeline.songs.intake import load_midi
from pipeline.songs.library import list_songs, load_song
from pipeline.songs.midi_write import write_midi
from pipeline.types import Song, SongInfo

AUTO = "auto"
MIDI_SUFFIXES = (".mid", ".midi")

__all__ = ["AUTO", "check_song", "list_songs", "load_midi", "load_song", "pick_song", "resolve_song", "write_midi"]


def pick_song(mood: str, seed: int = 0) -> SongInfo:
    """The library song whose mood words best fit ``mood`` (free text). Empty text gives a pleasant default."""
    return _mood.pick_song(mood, list_songs(), seed)


def check_song(ref: str) -> None:
    """Fail now, before any picture work, on an unknown song id or a missing MIDI file (``auto`` always fits)."""
    if (ref or "").strip().lower() != AUTO:
        resolve_song(ref)


def resolve_song(ref: str, mood: str = "", seed: int = 0) -> Song:
    """``ref`` is a library song id, ``auto`` (pick by ``mood``) or the path of a .mid/.midi file."""
    ref = (ref or "").strip()
    if not ref or ref.lower() == AUTO:
        return load_song(pick_song(mood, seed).id)
    if ref.lower().endswith(MIDI_SUFFIXES) or "/" in ref or "\\" in ref:
        path = Path(ref).expanduser()
        if not path.is_file():
            raise WaveInputError(f"The MIDI file {ref} was not found.")
        return load_midi(path)
    return load_song(ref)
