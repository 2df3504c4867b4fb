"""The sampler's inner loops, compiled with numba: reading a sample at a pitch and adding voices into stereo.

In numpy every note would cost several temporary arrays as long as the note (envelope, gain, two channels), and a
pedalled keyboard part sounds for tens of millions of frames; these loops touch each frame of a voice once.
``cache=True`` keeps the machine code on disk, so only the first process after an install compiles them.

The arithmetic follows :mod:`pipeline.render.interpolate` (Catmull-Rom in float32 on float64 positions) and the
envelope rules of :mod:`pipeline.render.envelope` step for step.
"""

from __future__ import annotations

import numba
import numpy as np

from pipeline.render.interpolate import PAD_AFTER, PAD_BEFORE

_HALF = np.float32(0.5)
_ONE_AND_HALF = np.float32(1.5)
_TWO = np.float32(2.0)
_TWO_AND_HALF = np.float32(2.5)
_ZERO = np.float32(0.0)


@numba.njit(cache=True, nogil=True, inline="always")
def _cubic_at(table: np.ndarray, position: float) -> np.float32:
    """Catmull-Rom read of a padded table at ``position`` (already shifted by ``PAD_BEFORE``)."""
    index = int(position)
    frac = np.float32(position - index)
    xm1 = table[index - 1]
    x0 = table[index]
    x1 = table[index + 1]
    x2 = table[index + 2]
    c1 = _HALF * (x1 - xm1)
    c2 = xm1 - _TWO_AND_HALF * x0 + _TWO * x1 - _HALF * x2
    c3 = _HALF * (x2 - xm1) + _ONE_AND_HALF * (x0 - x1)
    return ((c3 * frac + c2) * frac + c1) * frac + x0


@numba.njit(cache=True, nogil=True)
def resample_into(out: np.ndarray, table: np.ndarray, ratio: float, loop_start: int, loop_end: int) -> None:
    """``out[k]`` = the table read at ``k * ratio``; past the (inclusive) ``loop_end`` reads wrap into the loop.

    ``loop_end < 0`` means no loop: positions past the end of the sample read silence.
    """
    last = len(table) - PAD_AFTER
    loop_len = loop_end + 1 - loop_start
    # Wrapping with a multiply and a floor instead of the float ``%``, which costs tens of nanoseconds a frame.
    per_loop = 1.0 / loop_len if loop_end >= 0 else 0.0
    for k in range(len(out)):
        position = k * ratio
        if loop_end >= 0 and position >= loop_end + 1:
            into = position - loop_start
            into -= np.floor(into * per_loop) * loop_len
            if into >= loop_len:  # the reciprocal's rounding can leave one loop too many or too few
                into -= loop_len
            elif into < 0.0:
                into += loop_len
            position = loop_start + into
        position += PAD_BEFORE
        out[k] = _cubic_at(table, position) if position < last else _ZERO


@numba.njit(cache=True, nogil=True)
def add_voices(
    channels: np.ndarray,
    source: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    releases: np.ndarray,
    chokes: np.ndarray,
    release_levels: np.ndarray,
    gains_left: np.ndarray,
    gains_right: np.ndarray,
    attack_decay: np.ndarray,
    sustain_level: np.float32,
    release_curve: np.ndarray,
    choke_fade: np.ndarray,
    after_table: np.ndarray,
    after_positions: np.ndarray,
    ratio: float,
) -> None:
    """Add voices that all play ``source`` (one zone at one pitch) into ``channels`` ``(2, n)``.

    Per voice ``i``: it starts at ``starts[i]`` and sounds ``lengths[i]`` frames (cut to the buffer by the caller).
    Before ``releases[i]`` the source follows the attack/decay/sustain curve; from there the release curve scaled
    by ``release_levels[i]``. When ``after_positions`` is not empty (a loop_sustain zone) the released voice reads
    ``after_table`` from ``after_positions[i]`` on instead of the looped source. From ``chokes[i]`` on the voice
    fades out with ``choke_fade``.
    """
    plays_on = len(after_positions) > 0
    after_last = len(after_table) - PAD_AFTER
    for i in range(len(starts)):
        out_left = channels[0, starts[i] : starts[i] + lengths[i]]
        out_right = channels[1, starts[i] : starts[i] + lengths[i]]
        n = lengths[i]
        release = releases[i]
        choke = chokes[i]
        left = gains_left[i]
        right = gains_right[i]
        # The held stretch in two simple loops (attack/decay curve, then the flat sustain) that the compiler can
        # vectorise; a choke inside the held stretch is rare (a fast repeat) and handled by the general loop.
        plain = min(release, choke)
        shaped = min(plain, len(attack_decay))
        for k in range(shaped):
            value = source[k] * attack_decay[k]
            out_left[k] += value * left
            out_right[k] += value * right
        for k in range(shaped, plain):
            value = source[k] * sustain_level
            out_left[k] += value * left
            out_right[k] += value * right
        level = release_levels[i]
        general_from = plain
        if release <= choke:
            # The usual release stage (no choke before the note-off) in loops without per-frame branches; only a
            # choke fade, if any, is left for the general loop.
            stop = min(n, choke)
            if plays_on:
                base = after_positions[i] + PAD_BEFORE
                inside = min(stop, release + max(int(np.ceil((after_last - base) / ratio)), 0))
                for k in range(release, inside):
                    value = _cubic_at(after_table, base + (k - release) * ratio) * release_curve[k - release] * level
                    out_left[k] += value * left
                    out_right[k] += value * right
            else:
                for k in range(release, stop):
                    value = source[k] * release_curve[k - release] * level
                    out_left[k] += value * left
                    out_right[k] += value * right
            general_from = stop
        for k in range(general_from, n):
            if k < release:
                value = source[k] * (attack_decay[k] if k < len(attack_decay) else sustain_level)
            else:
                if plays_on:
                    position = after_positions[i] + (k - release) * ratio + PAD_BEFORE
                    sample = _cubic_at(after_table, position) if position < after_last else _ZERO
                else:
                    sample = source[k]
                value = sample * release_curve[k - release] * level
            if k >= choke:
                value *= choke_fade[k - choke]
            out_left[k] += value * left
            out_right[k] += value * right
