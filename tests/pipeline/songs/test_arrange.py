"""The arranger: sections, fills, drum variety, metre accents, humanised timing, late-chorus harmony, endings."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

import pytest

from pipeline.songs.arrange import SectionMark, Steer, arrange
from pipeline.songs.catalog import CATALOG, SPECS
from pipeline.songs.humanise import MAX_OFFSET_MS
from pipeline.songs.notation import pitch_class
from pipeline.songs.styles import CRASH, KICK, METER_BEATS, STYLES
from pipeline.types import Session

GRID = 48  # steps per bar when comparing drum bars


def bar_of(arrangement) -> Fraction:
    return METER_BEATS[arrangement.spec.meter]


def drum_bars(arrangement) -> dict[int, frozenset[tuple[int, int]]]:
    bar = bar_of(arrangement)
    bars: dict[int, set[tuple[int, int]]] = {}
    for note in arrangement.parts[Session.DRUMS].notes:
        step = round((note.start % bar) / bar * GRID)
        bars.setdefault(int(note.start // bar) + step // GRID, set()).add((note.pitch, step % GRID))
    return {index: frozenset(hits) for index, hits in bars.items()}


def fill_keys(spec) -> set[int]:
    """Drum keys the style's fill plays that its grooves never do (toms, mostly)."""
    style = STYLES[spec.style]
    grooves = set(style.drums_light) | set(style.drums_main) | set(style.drums_full)
    return set(style.drum_fill) - grooves


def test_the_same_seed_gives_the_same_arrangement_and_another_seed_another():
    spec = SPECS["ode_to_joy"]

    def notes(arrangement):
        return {s: [(n.start, n.duration, n.pitch, n.velocity) for n in p.notes] for s, p in arrangement.parts.items()}

    assert notes(arrange(spec, seed=7)) == notes(arrange(spec, seed=7))
    assert notes(arrange(spec, seed=7)) != notes(arrange(spec, seed=8))
    assert arrange(spec, seed=7).sections == arrange(spec, seed=8).sections  # the form is the song's, not luck's


@pytest.mark.parametrize("song_id", ["ode_to_joy", "greensleeves", "amazing_grace", "drunken_sailor"])
def test_a_fill_lands_in_the_bar_before_each_new_section(song_id):
    spec = SPECS[song_id]
    arrangement = arrange(spec)
    bar = bar_of(arrangement)
    toms = fill_keys(spec)
    marks: list[SectionMark] = arrangement.sections
    for following in marks[1:]:
        if following.label in ("tag", "end"):
            continue
        last_bar = following.start - bar
        hits = [n for n in arrangement.parts[Session.DRUMS].notes if last_bar - Fraction(1, 8) <= n.start < following.start - Fraction(1, 8)]
        style_fill = STYLES[spec.style].drum_fill
        played = {n.pitch for n in hits}
        assert set(style_fill) <= played, (song_id, following.label, following.start)
        if toms:
            assert toms & played, (song_id, following.start)
    # Inside a section, fills are half bars at phrase ends: no full fill lands in a section's first bars.
    first_bars = [n for mark in marks if mark.bars >= 4 for n in arrangement.parts[Session.DRUMS].notes
                  if mark.start <= n.start < mark.start + 3 * bar - Fraction(1, 8)]
    if toms:
        assert not toms & {n.pitch for n in first_bars}, song_id


def test_no_drum_bar_takes_over_40_percent_of_any_library_song():
    for spec in CATALOG:
        bars = drum_bars(arrange(spec))
        share = Counter(bars.values()).most_common(1)[0][1] / len(bars)
        assert share <= 0.4, (spec.id, share)


def test_onsets_leave_the_grid_by_a_few_milliseconds_by_role():
    arrangement = arrange(SPECS["ode_to_joy"])  # 112 bpm, straight sixteenths
    beat_ms = 60_000 / 112
    offsets: dict[Session, list[float]] = {}
    for session, part in arrangement.parts.items():
        for note in part.notes:
            nearest = round(note.start * 4) / 4  # the sixteenth grid (strums step by 1/64: compare to those too)
            fine = round(note.start * 64) / 64
            off = min(abs(float(note.start) - nearest), abs(float(note.start) - fine)) * beat_ms
            offsets.setdefault(session, []).append(off)
    for session, values in offsets.items():
        assert max(values) <= MAX_OFFSET_MS + 1.2, session  # 1 tick at 480 per beat is about 1.1 ms here
        assert sum(v > 0.5 for v in values) / len(values) > 0.3, session  # most notes are off the exact grid
    mean_drums = sum(offsets[Session.DRUMS]) / len(offsets[Session.DRUMS])
    mean_keys = sum(offsets[Session.KEYBOARD]) / len(offsets[Session.KEYBOARD])
    assert mean_drums < mean_keys  # the drums hold the time tighter than the tune


def test_velocities_follow_the_metre():
    arrangement = arrange(SPECS["ode_to_joy"])
    bar = bar_of(arrangement)
    by_position: dict[str, list[int]] = {"downbeat": [], "backbeat": [], "offbeat": []}
    for note in arrangement.parts[Session.BASS].notes:
        position = round(note.start * 4) / 4 % bar
        key = "downbeat" if position == 0 else "backbeat" if position in (1, 3) else "offbeat" if position % 1 else None
        if key:
            by_position[key].append(note.velocity)
    mean = {k: sum(v) / len(v) for k, v in by_position.items()}
    assert mean["downbeat"] > mean["backbeat"] > mean["offbeat"]


def test_sections_change_density_and_register():
    arrangement = arrange(SPECS["greensleeves"])  # five passes of A and B: a breakdown in the second pass
    bar = bar_of(arrangement)
    notes = arrangement.parts[Session.KEYBOARD].notes  # accompanying here

    def in_section(mark):
        return [n for n in notes if mark.start <= n.start < mark.start + mark.bars * bar]

    sections = [m for m in arrangement.sections if m.has_melody]
    density = [len(in_section(m)) / m.bars for m in sections]
    register = [sum(n.pitch for n in in_section(m)) / len(in_section(m)) for m in sections]
    assert max(density) > 1.2 * min(density)
    assert max(register) - min(register) >= 4


def test_a_late_chorus_harmonises_the_tune_and_the_last_doubles_it():
    spec = SPECS["greensleeves"]  # the guitar leads; the keyboard joins it late
    arrangement = arrange(spec)
    bar = bar_of(arrangement)
    tune_sections = [m for m in arrangement.sections if m.has_melody]
    harmonised, doubled = tune_sections[-2], tune_sections[-1]
    lead = arrangement.parts[Session.GUITAR].notes
    other = arrangement.parts[Session.KEYBOARD].notes

    def pairs(mark):
        window = [n for n in lead if mark.start <= n.start < mark.start + mark.bars * bar]
        return [(n, [o for o in other if abs(o.start - n.start) < Fraction(1, 32)]) for n in window]

    intervals = [n.pitch - o.pitch for n, together in pairs(harmonised) for o in together]
    assert sum(3 <= i <= 9 for i in intervals) >= len(pairs(harmonised)) * 0.8  # thirds to sixths below
    octaves = [(n.pitch - o.pitch) % 12 for n, together in pairs(doubled) for o in together]
    assert octaves.count(0) >= len(pairs(doubled)) * 0.8


@pytest.mark.parametrize("song_id", [spec.id for spec in CATALOG])
def test_the_tune_comes_home_at_the_end(song_id):
    spec = SPECS[song_id]
    arrangement = arrange(spec)
    end = arrangement.sections[-1]
    assert end.label == "end"
    last = [n for n in arrangement.parts[spec.melody_session].notes if n.start >= end.start - Fraction(1, 8)]
    final_chord = arrangement.parts[Session.BASS].notes[-1].pitch % 12
    home = pitch_class(spec.key.split()[0])
    assert any(n.pitch % 12 in (home, final_chord) and n.duration >= bar_of(arrangement) / 2 for n in last)
    assert arrangement.parts[Session.DRUMS].notes[-1].pitch in (KICK, CRASH)


def test_steer_moves_tempo_and_density():
    spec = SPECS["ode_to_joy"]
    plain, slow = arrange(spec), arrange(spec, steer=Steer(tempo_factor=0.9, density=-0.6))
    assert slow.tempo_changes[0][1] == pytest.approx(spec.tempo_bpm * 0.9)
    assert slow.duration_s > plain.duration_s
    assert len(slow.parts[Session.DRUMS].notes) < len(plain.parts[Session.DRUMS].notes)
