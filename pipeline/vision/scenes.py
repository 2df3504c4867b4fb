"""The lite vision engine's knowledge: a controlled sound vocabulary and a table of scenes and their sources.

The vocabulary is shared with effect engines that synthesise sounds without a model: every source's
``material`` names one of :data:`pipeline.materials.MATERIALS` and every variant's ``play_method`` contains one of the
words of :data:`ACTIONS`. :func:`material_of` and :func:`action_of` map free text (a sheet from any engine) onto them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from pipeline.materials import MATERIALS, Material
from pipeline.types import Session

# fmt: off
# Canonical action -> words that mean it. Keys are the sound-making gestures an effect synthesiser maps.
ACTIONS: dict[str, tuple[str, ...]] = {
    "hit": ("hit", "knock", "tap", "strike", "thump", "clink", "clank", "clack", "clatter", "click", "tick", "rattle", "clap"),
    "scrape": ("scrape", "rub", "friction", "scratch", "grind", "slide", "creak"),
    "rustle": ("rustle", "flutter", "flap", "shuffle", "crumple"),
    "drip": ("drip", "splash", "pour", "bubble", "trickle", "plop", "boil"),
    "blow": ("blow", "gust", "whoosh", "hiss"),
    "step": ("step", "footstep", "walk", "crunch"),
    "ring": ("ring", "chime", "jingle", "ding", "clang"),
    "hum": ("hum", "buzz", "drone", "whir", "rumble", "purr"),
    "chirp": ("chirp", "tweet", "call", "cluck", "caw", "croak", "quack", "coo"),
    "crackle": ("crackle", "crack", "snap", "pop", "sizzle", "fizz"),
    "flow": ("flow", "waves", "wave", "wash", "lap", "gurgle", "stream"),
}

# Timbre words the lite engine writes; effect synthesisers may read them as brightness/length/noisiness hints.
TIMBRES: tuple[str, ...] = (
    "bright", "dark", "warm", "cold", "soft", "hard", "sharp", "dull", "hollow", "resonant", "ringing", "metallic",
    "woody", "glassy", "airy", "breathy", "noisy", "grainy", "smooth", "rough", "crisp", "deep", "low", "high",
    "thin", "full", "short", "long", "sustained", "dry", "wet", "muffled", "clear", "gentle", "rumbling",
    "sparkling", "tonal", "rhythmic", "steady", "distant", "close", "light", "heavy", "fluttering", "rolling",
    "crunchy", "clicky", "buzzy", "whooshing", "brittle",
)

# fmt: on


def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Whole words with common English endings: tap -> taps, tapped, tapping; chime -> chimed, chiming."""
    forms = []
    for word in sorted(set(words), key=len, reverse=True):
        w = re.escape(word)
        forms += [rf"{w}(?:s|es|d|ed|ing|y)?", rf"{w}{re.escape(word[-1])}(?:ed|ing|y)"]
        if word.endswith("e"):
            forms.append(rf"{re.escape(word[:-1])}(?:ing|ed|y)")
    return re.compile(rf"\b(?:{'|'.join(forms)})\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _patterns() -> tuple[dict[str, re.Pattern[str]], dict[str, re.Pattern[str]]]:
    return (
        {name: _word_pattern((name, *words)) for name, words in MATERIALS.items()},
        {name: _word_pattern((name, *words)) for name, words in ACTIONS.items()},
    )


def _first_category(text: str, patterns: dict[str, re.Pattern[str]]) -> str | None:
    best: tuple[int, str] | None = None
    for name, pattern in patterns.items():
        match = pattern.search(text or "")
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), name)
    return best[1] if best else None


def material_of(text: str) -> Material | None:
    """The canonical material a free-text material or source name speaks of first, or None."""
    found = _first_category(text, _patterns()[0])
    return Material(found) if found else None


def action_of(text: str) -> str | None:
    """The canonical action a free-text play method speaks of first, or None."""
    return _first_category(text, _patterns()[1])


# ------------------------------------------------------------------------------------------------- table


@dataclass(frozen=True)
class VariantTemplate:
    play_method: str
    timbre: tuple[str, ...]
    session: Session | None
    confidence: float


@dataclass(frozen=True)
class SourceTemplate:
    name: str
    material: str
    variants: tuple[VariantTemplate, ...]


@dataclass(frozen=True)
class Scene:
    """A kind of place, the evidence that points to it and the sources it usually holds.

    ``evidence`` weighs :class:`~pipeline.vision.cues.ImageCues` fields; a scene's score is ``bias`` plus the
    weighted sum. ``keywords`` in a person's cue add to the score.
    """

    id: str
    title: str
    setting: str
    mood: tuple[str, ...]
    evidence: dict[str, float]
    sources: tuple[SourceTemplate, ...]
    bias: float = 0.0
    keywords: tuple[str, ...] = field(default=())


D, B, G, K = Session.DRUMS, Session.BASS, Session.GUITAR, Session.KEYBOARD


def _v(play_method: str, timbre: str, session: Session | None, confidence: float) -> VariantTemplate:
    return VariantTemplate(play_method, tuple(w.strip() for w in timbre.split(",")), session, confidence)


def _s(name: str, material: str, *variants: VariantTemplate) -> SourceTemplate:
    return SourceTemplate(name, material, variants)


# fmt: off
SCENES: tuple[Scene, ...] = (
    Scene(
        "forest", "a forest", "among trees and undergrowth", ("earthy", "peaceful", "sheltered"),
        {"vegetation": 2.0, "texture": 0.8, "sky": -0.6, "straightness": -0.8, "indoor": -0.8},
        (
            _s("dry twigs", "wood", _v("crackle of twigs snapping underfoot", "dry, sharp, short", D, 0.9)),
            _s("tree trunk", "wood", _v("knock on the trunk with a knuckle", "hollow, woody, deep", B, 0.85)),
            _s("leaves", "leaves", _v("rustle in a light wind", "airy, soft, noisy", None, 0.85)),
            _s("woodpecker", "wood", _v("tap a rapid roll on the bark", "woody, sharp, rhythmic", D, 0.8)),
            _s("small forest bird", "animal", _v("chirp in short bright phrases", "bright, high, tonal", K, 0.85)),
            _s("mossy stones", "water", _v("drip from wet moss onto a stone", "wet, clear, tonal", G, 0.75)),
            _s("fallen branch", "wood", _v("scrape along a fallen log", "rough, woody, grainy", G, 0.75)),
        ),
        keywords=("forest", "woods", "tree", "jungle"),
    ),
    Scene(
        "beach", "a beach by the sea", "on the shore", ("open", "breezy", "carefree"),
        {"water": 1.6, "sand": 1.6, "sky": 0.8, "reflection": 0.2, "vegetation": -0.5, "straightness": -0.6},
        (
            _s("waves", "water", _v("waves break and wash up the shore", "rolling, noisy, deep", B, 0.9)),
            _s("pebbles", "stone", _v("clack together as the surf pulls back", "crisp, clicky, grainy", D, 0.85)),
            _s("seashells", "ceramic", _v("tap two shells together", "hollow, bright, short", K, 0.8)),
            _s("wet sand", "earth", _v("footsteps on wet sand", "soft, dull, wet", D, 0.8)),
            _s("seagull", "animal", _v("call overhead", "high, bright, distant", K, 0.8)),
            _s("sea wind", "air", _v("gust across the open beach", "airy, whooshing, steady", None, 0.75)),
            _s("beach umbrella", "fabric", _v("flap in the wind", "fluttering, soft, light", G, 0.7)),
        ),
        keywords=("beach", "sea", "ocean", "shore", "coast", "surf"),
    ),
    Scene(
        "city_street", "a city street", "between buildings", ("busy", "urban", "restless"),
        {"straightness": 1.3, "grey": 0.6, "edges": 0.6, "outdoor": 0.5, "daylight": 0.2, "vegetation": -0.6,
         "night": -0.6, "indoor": -0.3},
        (
            _s("car traffic", "machine", _v("hum of passing cars", "low, steady, rumbling", B, 0.9)),
            _s("manhole cover", "metal", _v("clank as a car drives over it", "metallic, heavy, resonant", D, 0.85)),
            _s("pavement", "stone", _v("footsteps on the pavement", "crisp, clicky, rhythmic", D, 0.85)),
            _s("bicycle bell", "metal", _v("ring twice", "bright, ringing, metallic", K, 0.85)),
            _s("sign pole", "metal", _v("tap the hollow pole", "hollow, resonant, metallic", G, 0.8)),
            _s("shop door", "glass", _v("door chime as it opens", "bright, sparkling, light", K, 0.75)),
            _s("bus brakes", "air", _v("hiss as the air brakes release", "breathy, noisy, short", None, 0.7)),
        ),
        keywords=("city", "street", "urban", "town", "downtown"),
    ),
    Scene(
        "night_city", "a city at night", "under street lights", ("nocturnal", "electric", "lonely"),
        {"night": 0.8, "city_lights": 2.0, "straightness": 0.8, "edges": 0.3},
        (
            _s("neon sign", "machine", _v("buzz of the neon tubes", "buzzy, thin, steady", K, 0.85)),
            _s("distant traffic", "machine", _v("low hum across the city", "deep, distant, rumbling", B, 0.9)),
            _s("puddle", "water", _v("splash as a car drives through", "wet, noisy, short", D, 0.8)),
            _s("wet pavement", "stone", _v("footsteps on the wet pavement", "crisp, clear, rhythmic", D, 0.85)),
            _s("metal shutter", "metal", _v("scrape as a shop shutter rolls down", "metallic, rolling, heavy", G, 0.8)),
            _s("crossing signal", "machine", _v("tick of the crossing signal", "clicky, short, dry", D, 0.75)),
            _s("glass bottle", "glass", _v("clink against a bin", "glassy, bright, ringing", K, 0.75)),
        ),
        keywords=("night", "neon", "city lights"),
    ),
    Scene(
        "kitchen", "a kitchen", "around the stove and the sink", ("homely", "busy", "warm"),
        {"indoor": 1.0, "straightness": 0.5, "edges": 0.4, "grey": 0.3, "warm_light": 0.2},
        (
            _s("saucepan", "metal", _v("tap the rim with a spoon", "metallic, ringing, bright", K, 0.9)),
            _s("chopping board", "wood", _v("knife taps on the board", "woody, dry, rhythmic", D, 0.9)),
            _s("kettle", "water", _v("water comes to the boil and bubbles", "wet, rolling, noisy", None, 0.8)),
            _s("glass jar", "glass", _v("tap the side with a fingernail", "glassy, bright, clear", K, 0.85)),
            _s("tap water", "water", _v("pour into a glass", "wet, bright, smooth", G, 0.8)),
            _s("fridge", "machine", _v("low hum of the compressor", "low, steady, buzzy", B, 0.85)),
            _s("ceramic bowl", "ceramic", _v("ring when struck with a spoon", "resonant, bright, sustained", K, 0.8)),
            _s("cutlery drawer", "metal", _v("clatter of cutlery as the drawer opens", "metallic, bright, noisy", D, 0.8)),
        ),
        keywords=("kitchen", "cooking", "cook", "food"),
    ),
    Scene(
        "rainy_window", "a rainy window", "behind wet glass", ("rainy", "pensive", "cosy"),
        {"rain": 2.0, "indoor": 0.3, "cool_light": 0.4, "saturation": -0.6, "edges": -0.3},
        (
            _s("raindrops", "water", _v("drip and tap on the window pane", "wet, clicky, light", D, 0.9)),
            _s("gutter", "metal", _v("drip from the gutter into a tin can", "metallic, tonal, ringing", K, 0.8)),
            _s("window pane", "glass", _v("knock with a knuckle", "glassy, hollow, dull", G, 0.8)),
            _s("rain on the roof", "water", _v("rain pours on the roof", "noisy, steady, soft", None, 0.85)),
            _s("thunder", "air", _v("rumble in the distance", "deep, rumbling, distant", B, 0.75)),
            _s("radiator", "metal", _v("tick as it warms up", "metallic, clicky, short", D, 0.75)),
            _s("curtains", "fabric", _v("rustle in a draught", "soft, airy, gentle", None, 0.7)),
        ),
        keywords=("rain", "rainy", "storm", "window"),
    ),
    Scene(
        "countryside", "the countryside", "on a farm among fields", ("pastoral", "easy-going", "sunny"),
        {"vegetation": 1.3, "sky": 1.1, "sand": 0.3, "straightness": -0.6, "texture": -0.2, "indoor": -0.8},
        (
            _s("cowbell", "metal", _v("clank as the cow grazes", "metallic, hollow, resonant", D, 0.85)),
            _s("wooden gate", "wood", _v("creak as the gate swings on its hinge", "woody, rough, low", G, 0.85)),
            _s("tall grass", "leaves", _v("rustle in the breeze", "airy, soft, noisy", None, 0.8)),
            _s("hens", "animal", _v("cluck in the yard", "short, bright, rhythmic", K, 0.75)),
            _s("tractor", "machine", _v("engine hums down the lane", "low, rumbling, steady", B, 0.85)),
            _s("water trough", "water", _v("pour from the pump into the trough", "wet, bright, metallic", G, 0.75)),
            _s("gravel path", "stone", _v("footsteps on gravel", "crunchy, crisp, rhythmic", D, 0.85)),
            _s("field wind", "air", _v("gust across the fields", "airy, whooshing, soft", None, 0.75)),
        ),
        keywords=("farm", "countryside", "field", "meadow", "village"),
    ),
    Scene(
        "mountain_snow", "snowy mountains", "high up in the snow", ("crisp", "vast", "still"),
        {"snow": 2.2, "sky": 0.8, "vegetation": -0.3, "indoor": -0.5},
        (
            _s("fresh snow", "earth", _v("footsteps crunch in fresh snow", "crunchy, soft, dry", D, 0.9)),
            _s("mountain wind", "air", _v("gust over the ridge", "airy, whooshing, cold", None, 0.85)),
            _s("icicles", "glass", _v("chime as they knock together", "glassy, bright, sparkling", K, 0.85)),
            _s("ski poles", "metal", _v("tap against ski boots", "metallic, clicky, bright", D, 0.75)),
            _s("lake ice", "glass", _v("crack as the frozen lake settles", "glassy, deep, ringing", G, 0.75)),
            _s("pine branches", "leaves", _v("snow slides off with a rustle", "soft, airy, gentle", None, 0.7)),
            _s("loose rock", "stone", _v("knock down the slope", "hard, dull, heavy", B, 0.75)),
        ),
        keywords=("snow", "mountain", "winter", "ski", "ice"),
    ),
    Scene(
        "cafe", "a cafe", "at a table with coffee", ("cosy", "relaxed", "warm"),
        {"indoor": 1.0, "warm_light": 1.3, "saturation": 0.4, "straightness": 0.2, "sky": -0.5, "fur": -1.0},
        (
            _s("espresso machine", "machine", _v("hum and hiss of the steam wand", "buzzy, breathy, steady", B, 0.85)),
            _s("coffee cup", "ceramic", _v("clink of the cup on its saucer", "bright, clear, short", K, 0.9)),
            _s("teaspoon", "metal", _v("stir and tap the rim of the cup", "metallic, ringing, high", K, 0.9)),
            _s("wooden table", "wood", _v("knock with a knuckle", "woody, warm, dull", D, 0.85)),
            _s("coffee", "water", _v("pour into a cup", "wet, warm, smooth", G, 0.8)),
            _s("paper bag", "paper", _v("rustle as it opens", "crisp, dry, crunchy", None, 0.75)),
            _s("chair", "wood", _v("scrape across the floor", "rough, woody, low", G, 0.75)),
        ),
        keywords=("cafe", "coffee", "restaurant", "bar", "tea"),
    ),
    Scene(
        "workshop", "a workshop or garage", "at a workbench among tools", ("industrious", "gritty", "focused"),
        {"indoor": 0.8, "grey": 0.8, "edges": 0.6, "straightness": 1.0, "cool_light": 0.3, "saturation": -0.3},
        (
            _s("hammer and vice", "metal", _v("strike the steel vice with a hammer", "metallic, hard, ringing", D, 0.9)),
            _s("wrench", "metal", _v("clank on the concrete floor", "metallic, bright, ringing", K, 0.85)),
            _s("hand saw", "metal", _v("scrape through a plank", "rough, grainy, rhythmic", G, 0.85)),
            _s("workbench", "wood", _v("knock on the bench top", "woody, deep, dull", B, 0.85)),
            _s("power drill", "machine", _v("buzz of the motor", "buzzy, high, steady", K, 0.8)),
            _s("air compressor", "machine", _v("hum of the compressor", "low, rumbling, steady", B, 0.8)),
            _s("sandpaper", "paper", _v("rub along the grain", "grainy, noisy, dry", None, 0.75)),
            _s("oil drum", "metal", _v("thump with a fist", "metallic, deep, hollow", B, 0.8)),
        ),
        keywords=("workshop", "garage", "tools", "factory", "industrial"),
    ),
    Scene(
        "park", "a park with birds", "on a path through a park", ("cheerful", "light", "lively"),
        {"vegetation": 1.1, "sky": 0.9, "people": 0.4, "straightness": 0.2, "indoor": -0.8},
        (
            _s("sparrows", "animal", _v("chirp in the trees", "bright, high, short", K, 0.9)),
            _s("pigeon wings", "animal", _v("flutter as they take off", "fluttering, soft, airy", None, 0.8)),
            _s("gravel path", "stone", _v("footsteps on gravel", "crunchy, crisp, rhythmic", D, 0.85)),
            _s("leaves", "leaves", _v("rustle overhead", "airy, soft, noisy", None, 0.8)),
            _s("fountain", "water", _v("flow into the basin", "wet, steady, bright", G, 0.8)),
            _s("park bench", "wood", _v("knock on the slats", "woody, hollow, warm", B, 0.8)),
            _s("swing chains", "metal", _v("rattle as the swing moves", "metallic, rhythmic, light", D, 0.75)),
        ),
        keywords=("park", "garden", "birds", "picnic"),
    ),
    Scene(
        "river_lake", "a river or lake", "at the water's edge", ("calm", "flowing", "reflective"),
        {"water": 1.8, "vegetation": 0.7, "reflection": 1.0, "sand": -0.4, "indoor": -0.6},
        (
            _s("stream", "water", _v("flow over the stones", "wet, bright, steady", None, 0.9)),
            _s("river stones", "stone", _v("knock two stones together", "hard, dull, clicky", D, 0.85)),
            _s("thrown pebble", "water", _v("plop as it drops into the water", "deep, wet, short", B, 0.85)),
            _s("oar", "water", _v("drip from the oar into the lake", "clear, tonal, bright", K, 0.85)),
            _s("reeds", "leaves", _v("rustle at the bank", "dry, soft, airy", None, 0.75)),
            _s("wooden jetty", "wood", _v("footsteps on the boards", "hollow, woody, rhythmic", D, 0.8)),
            _s("ducks", "animal", _v("quack from the water", "bright, short, rhythmic", G, 0.75)),
        ),
        keywords=("river", "lake", "pond", "stream", "waterfall"),
    ),
    Scene(
        "desert", "a desert", "among dunes under the sun", ("dry", "vast", "shimmering"),
        {"sand": 2.2, "sky": 0.7, "warm_light": 0.3, "vegetation": -1.0, "water": -0.6, "indoor": -0.8},
        (
            _s("drifting sand", "earth", _v("wind blows sand in a hissing stream", "grainy, dry, noisy", None, 0.85)),
            _s("desert wind", "air", _v("gust across the dunes", "airy, whooshing, deep", B, 0.85)),
            _s("dry scrub", "leaves", _v("rustle of dry brush", "dry, crisp, brittle", G, 0.8)),
            _s("rocks", "stone", _v("knock together", "hard, dry, clicky", D, 0.85)),
            _s("sand dune", "earth", _v("footsteps in deep sand", "soft, dull, dry", D, 0.85)),
            _s("metal canteen", "metal", _v("tap with a ring", "metallic, hollow, ringing", K, 0.8)),
            _s("insects", "animal", _v("buzz in the heat", "buzzy, thin, high", K, 0.75)),
        ),
        keywords=("desert", "dune", "sahara", "dry"),
    ),
    Scene(
        "office_room", "a room indoors", "in a quiet room", ("quiet", "orderly", "close"),
        {"indoor": 1.1, "straightness": 0.7, "grey": 0.4, "cool_light": 0.2},
        (
            _s("keyboard keys", "plastic", _v("tap as someone types", "clicky, crisp, light", D, 0.9)),
            _s("desk", "wood", _v("knock with a knuckle", "woody, dull, warm", B, 0.85)),
            _s("paper sheets", "paper", _v("rustle as they are shuffled", "crisp, dry, light", None, 0.8)),
            _s("ceramic mug", "ceramic", _v("ring when tapped with a pen", "bright, clear, resonant", K, 0.85)),
            _s("filing cabinet", "metal", _v("clank as the drawer slides shut", "metallic, heavy, resonant", D, 0.8)),
            _s("air conditioner", "machine", _v("hum of the fan", "low, steady, airy", B, 0.8)),
            _s("scissors", "metal", _v("blades scrape and click shut", "metallic, crisp, sharp", G, 0.75)),
            _s("window blinds", "plastic", _v("rattle in a draught", "light, clicky, thin", G, 0.7)),
        ),
        keywords=("office", "room", "desk", "home", "bedroom", "study"),
    ),
    Scene(
        "portrait", "a portrait of a person", "close to someone", ("personal", "intimate", "present"),
        {"people": 2.8},
        (
            _s("clothes", "fabric", _v("rustle as a sleeve moves", "soft, airy, close", None, 0.85)),
            _s("footsteps", "wood", _v("footsteps on a wooden floor", "woody, warm, rhythmic", D, 0.9)),
            _s("keys", "metal", _v("jingle in a pocket", "metallic, bright, sparkling", K, 0.85)),
            _s("jacket zip", "metal", _v("scrape as the zip is pulled up", "crisp, grainy, short", G, 0.8)),
            _s("fingertips", "wood", _v("tap on a table", "woody, dry, clicky", D, 0.85)),
            _s("pen", "plastic", _v("click the pen button", "clicky, sharp, short", D, 0.8)),
            _s("chair", "wood", _v("scrape on the floor", "woody, low, rough", B, 0.75)),
            _s("glass of water", "glass", _v("tap the glass with a ring", "glassy, bright, ringing", K, 0.8)),
        ),
        bias=-0.3,
        keywords=("portrait", "selfie", "person", "face"),
    ),
    Scene(
        "night_outdoors", "the outdoors at night", "under a dark sky", ("hushed", "mysterious", "nocturnal"),
        {"night": 1.6, "stars": 1.5, "city_lights": -1.2, "straightness": -0.8, "edges": -0.3},
        (
            _s("crickets", "animal", _v("chirp in the grass", "high, rhythmic, thin", K, 0.9)),
            _s("night wind", "air", _v("gust through the trees", "airy, soft, deep", None, 0.85)),
            _s("dry twigs", "wood", _v("crackle underfoot", "dry, sharp, short", D, 0.85)),
            _s("owl", "animal", _v("call from a distant tree", "deep, soft, hollow", B, 0.8)),
            _s("frogs", "animal", _v("croak by a pond", "low, rhythmic, hollow", B, 0.8)),
            _s("leaves", "leaves", _v("rustle in the dark", "soft, airy, gentle", None, 0.75)),
            _s("wind chime", "metal", _v("chime on a porch", "bright, sparkling, sustained", K, 0.8)),
            _s("garden gate", "metal", _v("creak as the night wind moves it", "metallic, thin, long", G, 0.75)),
        ),
        keywords=("night", "stars", "starry", "space", "moon", "dark"),
    ),
    Scene(
        "tabletop", "a close-up of objects on a table", "up close on a tabletop", ("curious", "tactile", "quiet"),
        {"texture": 1.0, "edges": 0.4, "indoor": 0.5, "grey": 0.3, "sky": -0.8, "straightness": -0.2},
        (
            _s("coins", "metal", _v("clink into a pile", "metallic, bright, ringing", K, 0.85)),
            _s("small stones", "stone", _v("clack together in a hand", "hard, clicky, dry", D, 0.85)),
            _s("table top", "wood", _v("knock with a knuckle", "woody, warm, dull", B, 0.85)),
            _s("paper", "paper", _v("rustle as it is crumpled", "crisp, dry, noisy", None, 0.8)),
            _s("wine glass", "glass", _v("rub the rim with a wet finger", "glassy, sustained, tonal", K, 0.8)),
            _s("cardboard box", "paper", _v("thump the lid", "dull, hollow, low", B, 0.75)),
            _s("pencil", "wood", _v("scratch across paper", "grainy, dry, thin", G, 0.75)),
            _s("brick", "stone", _v("scrape across concrete", "rough, grainy, heavy", G, 0.75)),
        ),
        bias=0.1,
        keywords=("table", "objects", "still life", "close-up", "macro"),
    ),
    Scene(
        "pet_home", "a pet at home", "curled up indoors", ("cosy", "sleepy", "tender"),
        {"cat_face": 3.0, "fur": 2.6, "indoor": 0.3, "warm_light": 0.2, "sky": -0.8, "vegetation": -0.4,
         "straightness": -0.4},
        (
            _s("cat", "animal", _v("purr while asleep", "low, soft, rumbling", B, 0.92)),
            _s("cat paws", "animal", _v("footsteps of soft paws on the floor", "soft, light, rhythmic", D, 0.85)),
            _s("rug", "fabric", _v("rustle as the cat kneads it", "soft, dull, close", None, 0.85)),
            _s("collar bell", "metal", _v("jingle as the cat moves", "bright, sparkling, light", K, 0.85)),
            _s("food bowl", "ceramic", _v("clink as the cat eats from it", "bright, short, clear", K, 0.8)),
            _s("scratching post", "fabric", _v("scratch with claws", "rough, grainy, dry", G, 0.8)),
            _s("wooden floor", "wood", _v("knock as the cat jumps down", "woody, dull, short", D, 0.75)),
        ),
        keywords=("cat", "kitten", "dog", "puppy", "pet", "fur"),
    ),
    Scene(
        "garden", "a flower garden", "among flowers", ("fresh", "gentle", "blooming"),
        {"flowers": 2.4, "vegetation": 0.8, "saturation": 0.3, "city_lights": -0.5, "straightness": -0.5,
         "indoor": -0.4},
        (
            _s("bees", "animal", _v("buzz around the flowers", "buzzy, light, high", K, 0.9)),
            _s("flower petals", "leaves", _v("rustle in a light breeze", "soft, airy, gentle", None, 0.85)),
            _s("watering can", "metal", _v("pour water onto the flower bed", "wet, bright, smooth", G, 0.85)),
            _s("garden bird", "animal", _v("chirp from the hedge", "bright, high, short", K, 0.85)),
            _s("flower pot", "ceramic", _v("tap the rim", "hollow, bright, short", D, 0.8)),
            _s("garden shears", "metal", _v("click as they snip the stems", "metallic, crisp, short", D, 0.8)),
            _s("garden bench", "wood", _v("knock on the slats", "woody, warm, dull", B, 0.75)),
        ),
        keywords=("garden", "flower", "bloom", "petal", "blossom"),
    ),
    Scene(
        "launch_site", "a rocket launch site", "at the launch pad", ("grand", "tense", "expectant"),
        {"tall_structure": 2.2, "sky": 0.8, "straightness": 0.3, "vegetation": -0.4, "people": -1.0,
         "indoor": -0.6},
        (
            _s("rocket engines", "machine", _v("rumble at ignition", "deep, rumbling, heavy", B, 0.9)),
            _s("launch tower", "metal", _v("clank of the steel gantry arms", "metallic, heavy, resonant", D, 0.85)),
            _s("fuel tanks", "air", _v("hiss as the tanks vent", "breathy, noisy, steady", None, 0.85)),
            _s("launch pad wind", "air", _v("gust across the pad", "airy, whooshing, steady", None, 0.75)),
            _s("warning bell", "metal", _v("ring before the countdown", "bright, ringing, metallic", K, 0.8)),
            _s("service cables", "metal", _v("rattle against the tower", "metallic, light, rhythmic", G, 0.8)),
            _s("control switches", "plastic", _v("click as they are flipped", "clicky, crisp, short", D, 0.75)),
        ),
        keywords=("rocket", "launch", "space", "shuttle", "spacecraft"),
    ),
)


# Sources any picture may add when a cue is strong, whatever the scene.
CUE_SOURCES: dict[str, tuple[SourceTemplate, ...]] = {
    "edges": (
        _s("metal edge", "metal", _v("strike with a metal rod", "metallic, sharp, ringing", D, 0.8)),
        _s("wooden frame", "wood", _v("knock on the frame", "woody, hollow, short", B, 0.75)),
    ),
    "straightness": (_s("wooden door", "wood", _v("knock on a wooden door", "woody, hollow, deep", B, 0.8)),),
    "water": (
        _s("water drops", "water", _v("drip into a still pool", "clear, tonal, bright", K, 0.8)),
        _s("water surface", "water", _v("splash with a hand", "wet, noisy, short", D, 0.75)),
    ),
    "vegetation": (_s("leaves", "leaves", _v("rustle in the wind", "airy, soft, noisy", None, 0.8)),),
    "sky": (_s("open wind", "air", _v("gust under the open sky", "airy, whooshing, soft", None, 0.75)),),
    "snow": (_s("snow", "earth", _v("footsteps crunch in snow", "crunchy, soft, dry", D, 0.8)),),
    "sand": (_s("sand", "earth", _v("pour through the fingers", "grainy, soft, dry", None, 0.75)),),
    "city_lights": (_s("street lamp", "machine", _v("buzz of a street lamp", "buzzy, thin, steady", K, 0.75)),),
    "rain": (_s("raindrops", "water", _v("drip onto a ledge", "wet, clicky, light", D, 0.8)),),
    "people": (
        _s("clothes", "fabric", _v("rustle as someone moves", "soft, airy, close", None, 0.8)),
        _s("footsteps", "stone", _v("footsteps on a hard floor", "crisp, rhythmic, dry", D, 0.8)),
    ),
    "night": (_s("crickets", "animal", _v("chirp in the dark", "high, rhythmic, thin", K, 0.75)),),
}

# fmt: on

# Things a person may name in the cue, with the sound each makes: named things lead the sheet.
CUE_NOUNS: tuple[tuple[tuple[str, ...], SourceTemplate], ...] = (
    (("cat", "kitten", "kitty"), _s("cat", "animal", _v("purr while asleep", "low, soft, rumbling", B, 0.95))),
    (("dog", "puppy"), _s("dog", "animal", _v("footsteps of paws on the floor", "light, rhythmic, soft", D, 0.95))),
    (("rug", "carpet", "mat", "blanket", "cushion"), _s("rug", "fabric", _v("rustle as it is smoothed", "soft, dull, close", None, 0.95))),
    (("bird", "sparrow", "robin", "songbird"), _s("bird", "animal", _v("chirp in short phrases", "bright, high, short", K, 0.95))),
    (("duck", "goose"), _s("duck", "animal", _v("quack from the water", "bright, short, rhythmic", G, 0.95))),
    (("gull", "seagull"), _s("seagull", "animal", _v("call overhead", "high, bright, distant", K, 0.95))),
    (("bee", "insect", "fly"), _s("bee", "animal", _v("buzz past", "buzzy, thin, high", K, 0.95))),
    (("rain", "raindrop", "drizzle"), _s("rain", "water", _v("drip and tap on the window", "wet, clicky, light", D, 0.95))),
    (("sea", "ocean", "wave"), _s("waves", "water", _v("waves break and wash up the shore", "rolling, noisy, deep", B, 0.95))),
    (("river", "stream", "brook", "fountain", "waterfall"), _s("stream", "water", _v("flow over the stones", "wet, bright, steady", None, 0.95))),
    (("wind", "breeze", "storm"), _s("wind", "air", _v("gust past", "airy, whooshing, soft", None, 0.95))),
    (("fire", "campfire", "fireplace", "candle"), _s("fire", "wood", _v("logs crackle in the fire", "warm, crunchy, dry", D, 0.95))),
    (("coffee", "espresso"), _s("espresso machine", "machine", _v("hiss of the steam wand", "breathy, noisy, steady", None, 0.95))),
    (("cup", "mug", "teacup"), _s("cup", "ceramic", _v("clink on its saucer", "bright, clear, short", K, 0.95))),
    (("car", "traffic", "road"), _s("car traffic", "machine", _v("hum of passing cars", "low, steady, rumbling", B, 0.95))),
    (("motorcycle", "motorbike", "scooter"), _s("motorcycle", "machine", _v("engine hums as it idles", "low, rumbling, rough", B, 0.95))),
    (("train", "railway", "tram"), _s("train", "metal", _v("clatter over the rail joints", "metallic, rhythmic, heavy", D, 0.95))),
    (("rocket", "spacecraft", "shuttle"), _s("rocket engines", "machine", _v("rumble at ignition", "deep, rumbling, heavy", B, 0.95))),
    (("clock", "watch"), _s("clock", "plastic", _v("tick on the wall", "clicky, dry, short", D, 0.95))),
    (("keyboard", "laptop", "computer"), _s("keyboard keys", "plastic", _v("tap as someone types", "clicky, crisp, light", D, 0.95))),
    (("door", "gate"), _s("door", "wood", _v("knock on the door", "woody, hollow, deep", B, 0.95))),
    (("bell", "chime"), _s("bell", "metal", _v("ring once", "bright, ringing, sustained", K, 0.95))),
    (("leaf", "leaves", "tree", "forest"), _s("leaves", "leaves", _v("rustle in the wind", "airy, soft, noisy", None, 0.95))),
    (("snow", "ice"), _s("snow", "earth", _v("footsteps crunch in snow", "crunchy, soft, dry", D, 0.95))),
    (("bicycle", "bike"), _s("bicycle bell", "metal", _v("ring twice", "bright, ringing, metallic", K, 0.95))),
    (("kettle", "pot", "pan"), _s("kettle", "water", _v("water comes to the boil and bubbles", "wet, rolling, noisy", None, 0.95))),
    (("glass", "bottle", "jar"), _s("glass", "glass", _v("tap the side with a fingernail", "glassy, bright, clear", K, 0.95))),
    (("paper", "book", "newspaper"), _s("paper", "paper", _v("rustle as the pages turn", "crisp, dry, light", None, 0.95))),
    (("coin", "coins", "keys"), _s("coins", "metal", _v("clink into a pile", "metallic, bright, ringing", K, 0.95))),
    (("guitar", "piano", "drum"), _s("wooden body", "wood", _v("knock on the wooden body", "woody, hollow, warm", B, 0.95))),
)


@lru_cache(maxsize=1)
def _cue_noun_patterns() -> tuple[tuple[re.Pattern[str], SourceTemplate], ...]:
    return tuple((_word_pattern(words), source) for words, source in CUE_NOUNS)


def sources_named_in(cue: str | None) -> list[SourceTemplate]:
    """The sources for the things a cue names, in the order the cue names them."""
    if not cue:
        return []
    found = [(m.start(), source) for pattern, source in _cue_noun_patterns() if (m := pattern.search(cue))]
    return [source for _, source in sorted(found, key=lambda item: item[0])]


CUE_PHRASES: dict[str, str] = {
    "sky": "open sky above",
    "vegetation": "plenty of green",
    "water": "water in the lower part",
    "reflection": "calm reflections",
    "snow": "snow on the ground",
    "sand": "sandy ground",
    "city_lights": "bright lights in the dark",
    "rain": "soft grey, rainy light",
    "people": "a person in the frame",
    "straightness": "straight, built edges",
    "edges": "lots of sharp detail",
    "stars": "points of light in a dark sky",
    "cat_face": "a cat's face",
    "fur": "soft fur",
    "flowers": "bright flowers",
    "tall_structure": "a tall structure against the sky",
}
