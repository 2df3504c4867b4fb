"""``auto``: picking a library song from a free-text mood."""

from __future__ import annotations

import pytest

from pipeline.songs import list_songs, pick_song
from pipeline.songs import mood as mood_module
from pipeline.songs.mood import MOOD_PLANE, read_mood
from pipeline.types import SongInfo


def centre(info: SongInfo) -> tuple[float, float]:
    points = [MOOD_PLANE[w] for w in info.mood]
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def test_calm_scene_gets_a_calm_song():
    info = pick_song("a calm, misty morning by the lake")
    _valence, energy = centre(info)
    assert energy < -0.3
    assert {"calm", "misty", "dawn"} & set(info.mood)


def test_energetic_scenes_get_energetic_songs():
    for text in ("a wild storm at sea", "kids screaming at a birthday party", "exciting busy city street"):
        _, energy = centre(pick_song(text))
        assert energy > 0.4, text


def test_dark_and_happy_descriptions_land_far_apart():
    dark = pick_song("a spooky, dark castle at midnight")
    happy = pick_song("happy sunny beach with friends")
    assert centre(dark)[0] < 0 < centre(happy)[0]
    assert dark.id == "mountain_king"


def test_negation_turns_the_mood_around():
    assert read_mood("not sad") == [("melancholic", -1)]
    sad, not_sad = pick_song("sad"), pick_song("not sad")
    assert centre(not_sad)[0] > centre(sad)[0]


def test_empty_or_unknown_mood_gives_a_pleasant_song():
    for text in ("", "   ", "qwzx blorp"):
        valence, _ = centre(pick_song(text))
        assert valence > 0.4, text


def test_pick_is_deterministic_and_seed_breaks_ties():
    assert all(pick_song("rainy autumn evening", seed=3) == pick_song("rainy autumn evening", seed=3) for _ in range(3))
    twins = [SongInfo(id=f"twin_{i}", title="t", composer="c", public_domain_basis="traditional", tempo_bpm=100,
                      key="C major", mood=["calm", "serene", "gentle", "soft"], duration_s=60) for i in range(4)]
    other = SongInfo(id="loud", title="l", composer="c", public_domain_basis="traditional", tempo_bpm=100,
                     key="C major", mood=["wild", "rowdy", "energetic", "stormy"], duration_s=60)
    picks = {mood_module.pick_song("a quiet lake", twins + [other], seed).id for seed in range(20)}
    assert len(picks) >= 2 and "loud" not in picks


def test_every_library_mood_word_is_on_the_plane():
    for info in list_songs():
        assert set(info.mood) <= MOOD_PLANE.keys(), info.id


@pytest.mark.parametrize("word", ["storms", "sadly", "dreaming"])
def test_simple_word_forms_are_understood(word):
    assert read_mood(word)


def test_a_melancholic_mood_is_slower_darker_wider_and_roomier():
    from pipeline.songs import resolve_song
    from pipeline.songs.mood import production_for

    sad, happy, plain = production_for("make it melancholic"), production_for("a happy, lively party"), production_for("")
    assert sad.tempo_factor < plain.tempo_factor == 1.0 < happy.tempo_factor
    assert sad.brightness < plain.brightness == 0.0 < happy.brightness
    assert sad.width > plain.width == 1.0 and sad.space > plain.space == 1.0 > happy.space
    assert sad.density < 0 < happy.density
    written = resolve_song("greensleeves").info.tempo_bpm
    slow = resolve_song("greensleeves", mood="make it melancholic", seed=2)
    fast = resolve_song("greensleeves", mood="a happy, lively party", seed=2)
    assert slow.info.tempo_bpm < written < fast.info.tempo_bpm
    assert 0.9 * written <= slow.info.tempo_bpm and fast.info.tempo_bpm <= 1.1 * written  # within the song's range
    assert slow.duration_s > fast.duration_s
    assert resolve_song("greensleeves", mood="make it melancholic", seed=2) == slow  # same seed, same song
