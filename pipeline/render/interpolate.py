"""Reading a sample at fractional positions (4-point cubic Hermite), with or without a loop."""

from __future__ import annotations

import numpy as np

PAD_BEFORE = 1
PAD_AFTER = 3


def padded_table(sample: np.ndarray) -> np.ndarray:
    """The sample with zeros around it so that every 4-point neighbourhood of a position in range exists."""
    return np.concatenate([np.zeros(PAD_BEFORE, np.float32), sample, np.zeros(PAD_AFTER, np.float32)])


def looped_table(sample: np.ndarray, loop_start: int, loop_end: int) -> np.ndarray:
    """The sample up to the loop end followed by the loop's first frames, so reads across the seam are smooth."""
    before = sample[loop_end : loop_end + 1] if loop_start == 0 else np.zeros(1, np.float32)
    continuation = np.resize(sample[loop_start : loop_end + 1], PAD_AFTER)
    return np.concatenate([before, sample[: loop_end + 1], continuation]).astype(np.float32)


def cubic_read(table: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Catmull-Rom interpolation of ``table`` (built by the functions above) at sample ``positions`` >= 0.

    Positions past the end read silence.
    """
    positions = positions + PAD_BEFORE
    last = len(table) - PAD_AFTER
    inside = positions < last
    positions = np.where(inside, positions, 0.0)
    index = positions.astype(np.int64)
    frac = (positions - index).astype(np.float32)
    xm1 = table[np.maximum(index - 1, 0)]
    x0 = table[index]
    x1 = table[index + 1]
    x2 = table[index + 2]
    c1 = 0.5 * (x1 - xm1)
    c2 = xm1 - 2.5 * x0 + 2.0 * x1 - 0.5 * x2
    c3 = 0.5 * (x2 - xm1) + 1.5 * (x0 - x1)
    out = ((c3 * frac + c2) * frac + c1) * frac + x0
    return np.where(inside, out, 0.0).astype(np.float32)


def wrap_into_loop(positions: np.ndarray, loop_start: int, loop_end: int) -> np.ndarray:
    """Positions past the (inclusive) loop end jump back into the loop."""
    loop_len = loop_end + 1 - loop_start
    past = positions >= loop_end + 1
    wrapped = loop_start + np.mod(positions - loop_start, loop_len)
    return np.where(past, wrapped, positions)
