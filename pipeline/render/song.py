"""Rendering a whole song: one stereo stem per session, all the same length."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.render.sampler import Sampler, check_sample_rate
from pipeline.render.stem_cache import StemCache, instrument_digest, stem_key
from pipeline.types import SESSIONS, Instrument, ProgressCallback, Session, Song, no_progress

# Release tails (and long one-shot samples) may ring past the song's last note-off by at most this much.
MAX_TAIL_S = 3.0
END_FADE_S = 0.05


@dataclass
class RenderedStems:
    stems: dict[Session, np.ndarray] = field(default_factory=dict)  # (n, 2) float32 each
    keys: dict[Session, str] = field(default_factory=dict)  # per stem, a key of its content (with a cache only)
    reused: list[Session] = field(default_factory=list)  # sessions whose stem came from the cache


def render_song(
    song: Song,
    instruments: dict[Session, Instrument],
    sample_rate: int = 44100,
    progress: ProgressCallback = no_progress,
) -> dict[Session, np.ndarray]:
    """Stereo float32 stems ``(n, 2)``, one per session that has notes and an instrument (its parts summed).

    Every stem lasts until the last tail falls silent, cut (with a short fade) at ``MAX_TAIL_S`` past the song's end.
    """
    return render_stems(song, instruments, sample_rate, progress).stems


def render_stems(
    song: Song,
    instruments: dict[Session, Instrument],
    sample_rate: int = 44100,
    progress: ProgressCallback = no_progress,
    cache: StemCache | None = None,
) -> RenderedStems:
    """:func:`render_song`, taking from ``cache`` every stem played before with the same instrument, parts, sample
    rate and length (and keeping the stems it plays there)."""
    sample_rate = check_sample_rate(sample_rate)
    playing = [s for s in SESSIONS if s in instruments and any(p.notes for p in song.parts_for(s))]
    if not playing:
        return RenderedStems()
    samplers = {session: Sampler(instruments[session]) for session in playing}
    parts = {session: [p for p in song.parts_for(session) if p.notes] for session in playing}
    natural_end = max(samplers[s].length(p, sample_rate) for s in playing for p in parts[s])
    song_end = int(np.ceil(song.duration_s * sample_rate))
    length = max(song_end, min(natural_end, song_end + int(MAX_TAIL_S * sample_rate)))
    rendered = RenderedStems()
    for done, session in enumerate(playing):
        progress(f"playing {session.value}", done / len(playing))
        key = found = None
        if cache is not None:
            key = stem_key(instrument_digest(instruments[session]), parts[session], sample_rate, length)
            rendered.keys[session] = key
            found = cache.get(key)
        if found is not None:
            channels = found.copy()
            rendered.reused.append(session)
        else:
            channels = np.zeros((2, length), np.float32)
            for part in parts[session]:
                samplers[session].render_into(channels, part, sample_rate)
            if cache is not None and key is not None:
                cache.put(key, channels)  # before the end fade, which depends on every session's tails
        if natural_end > length:
            fade = min(int(END_FADE_S * sample_rate), length)
            channels[:, length - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        rendered.stems[session] = channels.T  # (n, 2) view of the channel-first buffer: no copy
    progress("stems ready", 1.0)
    return rendered
