"""``auto``: pick the library song whose mood words best fit a free-text mood description.

Every mood word has a place on a valence (sad..happy) and energy (calm..excited) plane; everyday words in a
description ("lake", "storm", "party") point at mood words through a small synonym table. A song scores by the
mood words it shares with the description and by how close its average mood sits to the description's.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

from pipeline.types import SongInfo

# mood word -> (valence, energy), both in [-1, 1]
MOOD_PLANE: dict[str, tuple[float, float]] = {
    "joyful": (0.9, 0.7), "triumphant": (0.8, 0.9), "bright": (0.7, 0.6), "uplifting": (0.8, 0.6),
    "festive": (0.8, 0.8), "hopeful": (0.6, 0.3), "melancholic": (-0.7, -0.4), "wistful": (-0.3, -0.4),
    "tender": (0.4, -0.5), "nostalgic": (0.0, -0.4), "romantic": (0.6, -0.2), "gentle": (0.4, -0.6),
    "misty": (-0.1, -0.6), "haunting": (-0.5, -0.2), "mysterious": (-0.2, 0.0), "calm": (0.3, -0.8),
    "longing": (-0.4, -0.3), "peaceful": (0.5, -0.8), "solemn": (-0.2, -0.5), "warm": (0.6, -0.1),
    "spiritual": (0.3, -0.4), "serene": (0.5, -0.7), "graceful": (0.5, -0.2), "elegant": (0.5, 0.0),
    "fresh": (0.6, 0.1), "airy": (0.5, -0.3), "dawn": (0.5, -0.3), "pastoral": (0.5, -0.5),
    "mischievous": (0.1, 0.6), "tense": (-0.5, 0.6), "dark": (-0.7, 0.2), "suspenseful": (-0.4, 0.5),
    "energetic": (0.4, 0.9), "dramatic": (-0.2, 0.8), "dreamy": (0.3, -0.6), "lonely": (-0.6, -0.5),
    "tranquil": (0.4, -0.8), "contemplative": (0.0, -0.6), "soft": (0.3, -0.7), "playful": (0.7, 0.5),
    "lively": (0.7, 0.7), "cheerful": (0.8, 0.5), "light": (0.6, 0.2), "innocent": (0.6, -0.1),
    "upbeat": (0.7, 0.7), "celebratory": (0.9, 0.8), "rowdy": (0.3, 0.9), "boisterous": (0.4, 0.9),
    "adventurous": (0.4, 0.7), "stormy": (-0.4, 0.9), "wild": (0.1, 1.0), "delicate": (0.3, -0.6),
    "floral": (0.5, -0.3), "starry": (0.4, -0.4), "relaxed": (0.5, -0.6), "sweet": (0.7, -0.2),
    "bittersweet": (0.0, -0.3), "sentimental": (0.2, -0.4), "reflective": (0.0, -0.5), "carefree": (0.7, 0.4),
    "sunny": (0.8, 0.4),
}

# everyday word -> the mood words it suggests
SYNONYMS: dict[str, tuple[str, ...]] = {
    "happy": ("joyful", "cheerful"), "joy": ("joyful",), "glad": ("cheerful",), "fun": ("playful",),
    "funny": ("playful", "mischievous"), "sad": ("melancholic",), "sorrow": ("melancholic", "solemn"),
    "grief": ("solemn", "melancholic"), "gloomy": ("dark", "melancholic"), "melancholy": ("melancholic",),
    "quiet": ("calm", "soft"), "still": ("calm", "tranquil"), "lake": ("calm", "serene"), "pond": ("calm",),
    "water": ("calm",), "river": ("calm", "pastoral"), "mist": ("misty",), "fog": ("misty",), "foggy": ("misty",),
    "haze": ("misty",), "hazy": ("misty", "dreamy"), "morning": ("dawn", "fresh"), "sunrise": ("dawn", "fresh"),
    "evening": ("warm", "reflective"), "sunset": ("warm", "nostalgic"), "dusk": ("reflective", "misty"),
    "night": ("starry", "dreamy"), "stars": ("starry",), "star": ("starry",), "moon": ("starry", "dreamy"),
    "dream": ("dreamy",), "sleep": ("soft", "dreamy"), "sleepy": ("soft", "dreamy"), "lullaby": ("soft", "sweet"),
    "party": ("festive", "celebratory"), "celebration": ("celebratory", "festive"), "wedding": ("celebratory", "romantic"),
    "birthday": ("celebratory", "cheerful"), "christmas": ("festive", "warm"), "holiday": ("festive", "carefree"),
    "love": ("romantic", "tender"), "romance": ("romantic",), "rain": ("melancholic", "wistful"),
    "rainy": ("melancholic", "wistful"), "storm": ("stormy", "dramatic"), "thunder": ("stormy", "dramatic"),
    "sea": ("adventurous",), "ocean": ("adventurous",), "waves": ("adventurous", "stormy"), "ship": ("adventurous",),
    "boat": ("adventurous", "carefree"), "sailor": ("rowdy", "adventurous"), "pirate": ("rowdy", "adventurous"),
    "beach": ("sunny", "carefree"), "summer": ("sunny", "carefree"), "sun": ("sunny",), "sunshine": ("sunny", "bright"),
    "spring": ("floral", "fresh"), "flower": ("floral",), "blossom": ("floral", "delicate"), "garden": ("floral", "pastoral"),
    "cherry": ("floral", "delicate"), "forest": ("mysterious", "pastoral"), "woods": ("mysterious",),
    "meadow": ("pastoral",), "field": ("pastoral",), "farm": ("pastoral",), "countryside": ("pastoral",),
    "mountain": ("dramatic",), "cave": ("mysterious", "dark"), "castle": ("mysterious", "dramatic"),
    "ghost": ("dark", "haunting"), "spooky": ("dark", "suspenseful"), "scary": ("dark", "suspenseful"),
    "creepy": ("dark", "suspenseful"), "horror": ("dark", "tense"), "angry": ("tense", "wild"),
    "aggressive": ("tense", "wild"), "intense": ("tense", "dramatic"), "exciting": ("energetic",),
    "excited": ("energetic",), "fast": ("energetic",), "slow": ("calm",), "city": ("lively", "energetic"),
    "street": ("lively",), "traffic": ("energetic", "tense"), "busy": ("lively",), "crowd": ("lively",),
    "kid": ("playful", "innocent"), "child": ("playful", "innocent"), "children": ("playful", "innocent"),
    "playground": ("playful",), "toy": ("playful", "innocent"), "puppy": ("playful", "sweet"), "dog": ("playful",),
    "cat": ("playful", "mischievous"), "church": ("spiritual", "solemn"), "prayer": ("spiritual",),
    "snow": ("serene", "soft"), "winter": ("serene", "solemn"), "autumn": ("nostalgic", "wistful"),
    "old": ("nostalgic",), "memory": ("nostalgic", "sentimental"), "memories": ("nostalgic", "sentimental"),
    "friend": ("warm",), "friends": ("warm", "cheerful"), "home": ("warm",), "cozy": ("warm", "relaxed"),
    "fireplace": ("warm",), "epic": ("triumphant", "dramatic"), "heroic": ("triumphant",), "victory": ("triumphant",),
    "relax": ("relaxed",), "relaxing": ("relaxed", "calm"), "chill": ("relaxed",), "lazy": ("relaxed",),
    "cute": ("sweet", "playful"), "fancy": ("elegant",), "ballroom": ("elegant", "graceful"),
    "dance": ("lively", "graceful"), "dancing": ("lively", "graceful"), "drunk": ("rowdy",), "mystery": ("mysterious",),
    "alone": ("lonely",), "empty": ("lonely",), "zen": ("serene", "tranquil"), "serenity": ("serene",),
    "pleasant": ("warm", "cheerful"), "nice": ("warm",), "hope": ("hopeful",), "free": ("carefree",),
}

NEGATIONS = {"not", "no", "never", "without", "isn't", "aren't", "don't", "nothing"}
DEFAULT_MOOD = "pleasant warm cheerful"
TIE_MARGIN = 0.02
_SUFFIXES = (("ily", "y"), ("ness", ""), ("ly", ""), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""))


def _lookup(word: str) -> tuple[str, ...]:
    for candidate in [word] + [word[: -len(end)] + new for end, new in _SUFFIXES if word.endswith(end)]:
        if candidate in MOOD_PLANE:
            return (candidate,)
        if candidate in SYNONYMS:
            return SYNONYMS[candidate]
    return ()


def read_mood(text: str) -> list[tuple[str, int]]:
    """The mood words a description suggests, each with +1, or -1 when negated ("not sad")."""
    found: list[tuple[str, int]] = []
    negate_next = False
    for word in re.findall(r"[a-z']+", text.lower()):
        if word in NEGATIONS:
            negate_next = True
            continue
        moods = _lookup(word)
        if moods:
            found += [(mood, -1 if negate_next else 1) for mood in moods]
            negate_next = False
    return found


def _centre(points: list[tuple[float, float]]) -> tuple[float, float]:
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def score_song(info: SongInfo, words: list[tuple[str, int]]) -> float:
    song_words = [w for w in info.mood if w in MOOD_PLANE]
    if not song_words or not words:
        return 0.0
    wanted = {w for w, sign in words if sign > 0}
    unwanted = {w for w, sign in words if sign < 0}
    shared = len(wanted & set(song_words)) / max(1, len(wanted)) - len(unwanted & set(song_words)) / max(1, len(unwanted))
    target = _centre([(MOOD_PLANE[w][0] * s, MOOD_PLANE[w][1] * s) for w, s in words])
    song = _centre([MOOD_PLANE[w] for w in song_words])
    closeness = 1.0 - math.dist(target, song) / math.dist((-1, -1), (1, 1))
    return 0.6 * shared + closeness


def rank_songs(mood: str, songs: list[SongInfo]) -> list[tuple[float, SongInfo]]:
    words = read_mood(mood) or read_mood(DEFAULT_MOOD)
    return sorted(((round(score_song(s, words), 4), s) for s in songs), key=lambda item: (-item[0], item[1].id))


def pick_song(mood: str, songs: list[SongInfo], seed: int = 0) -> SongInfo:
    """The best-fitting song; songs within a hair of the best are chosen between by ``seed``."""
    if not songs:
        raise ValueError("no songs to pick from")
    ranked = rank_songs(mood or "", songs)
    best = ranked[0][0]
    tied = [info for score, info in ranked if best - score <= TIE_MARGIN]
    return random.Random(seed).choice(tied)


# --------------------------------------------------------------------------------------------------- production

TEMPO_RANGE = 0.08  # a mood moves the tempo at most this share either way


@dataclass(frozen=True)
class Production:
    """How a mood leans the production: tempo and density of the arrangement, brightness, space and width of the mix.

    Calm moods slow down and thin out, excited ones speed up and fill in; sad moods are darker, roomier and wider,
    happy ones brighter and drier. Every figure is neutral (1.0 or 0.0) for a neutral or missing mood.
    """

    words: tuple[str, ...] = ()
    valence: float = 0.0
    energy: float = 0.0

    @property
    def tempo_factor(self) -> float:
        return round(1.0 + TEMPO_RANGE * self.energy, 3)

    @property
    def density(self) -> float:
        return round(self.energy, 3)

    @property
    def brightness(self) -> float:
        """dB per octave added to the mix's spectral tilt (+ brighter)."""
        return round(0.5 * self.valence + 0.25 * self.energy, 3)

    @property
    def space(self) -> float:
        """Scale of every reverb send."""
        return round(1.0 + 0.5 * max(0.0, -self.energy) + 0.3 * max(0.0, -self.valence) - 0.3 * max(0.0, self.energy), 3)

    @property
    def width(self) -> float:
        return round(1.0 + 0.3 * max(0.0, -self.valence) + 0.1 * max(0.0, -self.energy), 3)

    @property
    def room_size(self) -> float:
        return round(0.55 + 0.2 * max(0.0, -self.energy), 3)


def production_for(mood: str) -> Production:
    """The production a free-text mood (the sheet's mood and the user's cue) asks for."""
    words = read_mood(mood or "")
    if not words:
        return Production()
    valence, energy = _centre([(MOOD_PLANE[w][0] * s, MOOD_PLANE[w][1] * s) for w, s in words])
    return Production(tuple(w if s > 0 else f"not {w}" for w, s in words), round(valence, 3), round(energy, 3))
