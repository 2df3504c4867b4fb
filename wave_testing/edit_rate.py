"""Whether a bot kept to one progress edit a second, judged from when a fake platform received the edits."""

from __future__ import annotations

import itertools

MIN_GAP_S = 0.95  # the bot's interval is 1 s; the fake's clock and the bot's differ by scheduling jitter
LATE_ARRIVALS = 1  # edits that may arrive late: on a busy machine one edit reaches the fake a moment after it left


def assert_at_most_one_edit_a_second(times: list[float]) -> None:
    """The bot spaces the edits it sends a second apart, but the fake notes each when it arrives. After a late
    arrival the next gap looks short, so the rule is checked on the whole run: between the first edit and the last,
    no more edits than that span allows at one a second, give or take a late arrival. A missing throttle (several
    edits a second) fails as soon as there are three edits."""
    if len(times) < 2:
        return
    span = times[-1] - times[0]
    allowed = span / MIN_GAP_S + LATE_ARRIVALS
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(times)]
    assert len(times) - 1 <= allowed, f"{len(times)} edits in {span:.2f} s (gaps {gaps})"
