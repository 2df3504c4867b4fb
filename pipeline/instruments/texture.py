"""Carrying an effect's texture past its end: granular continuation from the effect's own grains.

A held note must keep sounding like its source after the source has stopped. Grains (60 ms, Hann-windowed, half
overlapping) are read from random places in the effect's body and overlap-added after its end, at the level of the
effect's last quarter, so a rustle keeps rustling and a hum keeps humming. Grains louder than the median grain (a
hit, a click) are turned down to it, so the continuation does not replay the effect's accents at random. The string
that gives the note its pitch is then driven by this longer sound, and the loop holds the effect's texture rather
than a bare tone.
"""

from __future__ import annotations

import numpy as np

GRAIN_S = 0.06
MIN_LEVEL_DB = -30.0  # the continuation is never quieter than this below the effect's overall level


def continue_texture(audio: np.ndarray, sample_rate: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """``audio`` extended to ``length`` samples with grains of itself (returned unchanged when long enough)."""
    if len(audio) >= length or len(audio) < 16:
        return audio[:length] if len(audio) >= length else np.pad(audio, (0, length - len(audio)))
    grain = max(8, min(int(GRAIN_S * sample_rate), len(audio) // 2) // 2 * 2)
    hop = grain // 2
    overlap_from = max(0, len(audio) - hop)
    count = int(np.ceil((length - overlap_from) / hop)) + 1
    starts = rng.integers(0, len(audio) - grain + 1, size=count)
    window = np.hanning(grain).astype(np.float32)
    grains = audio[starts[:, None] + np.arange(grain)[None, :]] * window[None, :]
    grain_rms = np.sqrt(np.mean(grains**2, axis=1, keepdims=True))
    grains *= np.minimum(1.0, np.median(grain_rms) / (grain_rms + 1e-12))
    tail = np.zeros(count * hop + grain, np.float32)
    positions = (np.arange(count) * hop)[:, None] + np.arange(grain)[None, :]
    np.add.at(tail, positions.ravel(), grains.ravel())
    body_rms = float(np.sqrt(np.mean(audio**2))) + 1e-12
    last = audio[3 * len(audio) // 4 :]
    wanted = max(float(np.sqrt(np.mean(last**2))), body_rms * 10 ** (MIN_LEVEL_DB / 20))
    steady = tail[hop : hop + max(1, len(tail) - 2 * hop)]
    tail *= wanted / (float(np.sqrt(np.mean(steady**2))) + 1e-12)
    out = np.zeros(length, np.float32)
    out[: len(audio)] = audio
    fade_in = np.minimum(1.0, np.arange(len(tail), dtype=np.float32) / hop)
    room = length - overlap_from
    out[overlap_from:] += (tail * fade_in)[:room]
    return out
