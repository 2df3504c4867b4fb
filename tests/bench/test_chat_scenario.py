"""The chat scenario (bench/scenario.py): its rules catch what they are for, and a whole session on each platform
breaks none of them."""

from __future__ import annotations

import pytest

from bench.scenario import Seen, discord_sound_role, find_violations, run_scenario


def test_a_public_error_is_a_violation_and_a_private_one_is_not():
    shown = [
        Seen("slack", "private to bob", "#main", ["⚠️ You already have 1 mix in the making."]),
        Seen("slack", "public", "#main", ["Waiting in line…", "⚠️ The picture could not be read."]),
    ]
    (problem,) = find_violations(shown)
    assert "public error" in problem and "could not be read" in problem


def test_a_sound_message_naming_an_old_part_is_stale():
    before = "🔊 **chair** — wood, scrape · waits on the bench"
    after = "🔊 **chair** — wood, scrape · plays 🥁 **drums**"
    assert discord_sound_role(before) == "bench" and discord_sound_role(after) == "drums"
    assert discord_sound_role("🔁 **New mix (version 2)**") is None
    stale = Seen("discord", "public", "#thread", [before], sound_role="bench", plays_now="drums")
    fresh = Seen("discord", "public", "#thread", [before, after], sound_role="drums", plays_now="drums")
    (problem,) = find_violations([stale, fresh])
    assert "stale" in problem


@pytest.mark.parametrize("platform", ["discord", "slack"])
async def test_a_whole_session_breaks_no_rule(tmp_path, platform):
    (transcript,) = await run_scenario(tmp_path, [platform])
    assert transcript.violations() == []
    public = [m for m in transcript.seen if m.public]
    private = [m for m in transcript.seen if not m.public]
    assert any(any(f.startswith("wave-mix") for f in m.files) for m in public), "no result was posted"
    assert any(any("version 2" in t.lower() for t in m.texts) for m in public), "no remap was posted"
    assert any("Cancelled." in m.texts for m in public)
    refusals = [t for m in private for t in m.texts if t.startswith("⚠️")]
    assert any("already have 1 mix" in t for t in refusals) and any("not an image" in t for t in refusals)
    if platform == "discord":
        sounds = [m for m in public if m.sound_role is not None]
        assert sounds and all(m.sound_role == m.plays_now for m in sounds)
        assert any(m.sound_role == "drums" for m in sounds)
    assert "\n".join(transcript.lines()).count("\n") >= len(transcript.seen)
