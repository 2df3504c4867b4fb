"""Rendering a whole song: one stereo stem per session, all the same length."""

from __future__ import annotations

import numpy as np

from pipeline.render.sampler import Sampler, check_sample_rate
from pipeline.types import SESSIONS, Instrument, ProgressCallback, Session, Song, no_progress

# Release tails (and long one-shot samples) may ring past the song's last note-off by at most this much.
MAX_TAIL_S = 3.0
END_FADE_S = 0.05


def render_song(
    song: Song,
    instruments: dict[Session, Instrument],
    sample_rate: int = 44100,
    progress: ProgressCallback = no_progress,
) -> dict[Session, np.ndarray]:
    """Stereo float32 stems ``(n, 2)``, one per session that has notes and an instrument (its parts summed).

    Every stem lasts until the last tail falls silent, cut (with a short fade) at ``MAX_TAIL_S`` past the song's end.
    """
    sample_rate = check_sample_rate(sample_rate)
    playing = [s for s in SESSIONS if s in instruments and any(p.notes for p in song.parts_for(s))]
    if not playing:
        return {}
    samplers = {session: Sampler(instruments[session]) for session in playing}
    parts = {session: [p for p in song.parts_for(session) if p.notes] for session in playing}
    natural_end = max(samplers[s].length(p, sample_rate) for s in playing for p in parts[s])
    song_end = int(np.ceil(song.duration_s * sample_rate))
    length = max(song_end, min(natural_end, song_end + int(MAX_TAIL_S * sample_rate)))
    stems: dict[Session, np.ndarray] = {}
    for done, session in enumerate(playing):
        progress(f"playing {session.value}", done / len(playing))
        channels = np.zeros((2, length), np.float32)
        for part in parts[session]:
            samplers[session].render_into(channels, part, sample_rate)
        if natural_end > length:
            fade = min(int(END_FADE_S * sample_rate), length)
            channels[:, length - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        stems[session] = channels.T  # (n, 2) view of the channel-first buffer: no copy
    progress("stems ready", 1.0)
    return stems
