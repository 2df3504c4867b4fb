"""From a variant's free words to what the lite engine synthesises: a sound family, a material and timbre controls.

Words may come from any vision model, so matching is by word stems over the whole description, most specific
families first, with plain impacts as the fallback: nearly everything in a photo can be struck.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, Field

from pipeline.materials import Material


class SoundFamily(StrEnum):
    IMPACT = "impact"
    RUSTLE = "rustle"
    SCRAPE = "scrape"
    BUBBLES = "bubbles"
    DRIP = "drip"
    POUR = "pour"
    STREAM = "stream"
    WIND = "wind"
    FOOTSTEPS = "footsteps"
    BELL = "bell"
    HUM = "hum"
    BUZZ = "buzz"
    CHIRP = "chirp"
    CRACKLE = "crackle"
    WAVES = "waves"
    HISS = "hiss"
    MACHINE = "machine"
    CLICK = "click"


def _rx(*stems: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(stems) + r")", re.IGNORECASE)


# Checked in order; the first family whose pattern matches wins.
_FAMILY_PATTERNS: list[tuple[SoundFamily, re.Pattern[str]]] = [
    (SoundFamily.FOOTSTEPS, _rx(r"foot\s?step", r"footfall", r"steps?\b", r"walk", r"stroll", r"stride", r"march", r"tread", r"stomp", r"hoof", r"hooves", r"gallop", r"trot", r"jog", r"running\b")),
    (SoundFamily.CHIRP, _rx(r"bird", r"chirp", r"tweet", r"warbl", r"cheep", r"peep", r"twitter", r"trill", r"song\s?bird", r"sparrow", r"robin", r"finch", r"cricket", r"whistl",
                       r"call(?:s|ing)?\b", r"croak", r"cluck", r"quack", r"honk", r"caw", r"coo(?:s|ing)?\b", r"hoot", r"squawk", r"crow(?:s|ing)?\b", r"gull", r"frog", r"duck", r"goose", r"geese", r"owl", r"pigeon", r"hen\b", r"chicken", r"rooster",
                       r"cat\b", r"cats\b", r"kitten", r"purr", r"meow", r"miaow", r"dog\b", r"dogs\b", r"puppy", r"woof")),
    (SoundFamily.BUZZ, _rx(r"insect", r"bees?\b", r"buzz", r"fly\b", r"flies\b", r"mosquito", r"wasp", r"cicada", r"hornet", r"gnat")),
    (SoundFamily.BELL, _rx(r"bell", r"chime", r"gong", r"ding", r"dong", r"tinkl", r"jingl", r"ring(?:s|ing)?\b", r"toll", r"peal")),
    (SoundFamily.HISS, _rx(r"hiss", r"steam", r"spray", r"aerosol", r"air\s?brake", r"exhaust", r"vent(?:s|ing)?\b", r"puff")),
    (SoundFamily.MACHINE, _rx(r"motor", r"engine", r"compressor", r"fridge", r"refrigerator", r"fan\b", r"air\s?condition", r"ventilat",
                         r"generator", r"traffic", r"tractor", r"motorcycle", r"motorbike", r"scooter",
                         r"printer", r"drill", r"grinder", r"blender", r"mixer", r"vacuum", r"pump", r"turbine", r"whir", r"mill\b", r"appliance")),
    (SoundFamily.HUM, _rx(r"hum\b", r"humm", r"drone", r"mains", r"transformer", r"electric", r"neon", r"power\s?line", r"lamp", r"light\s?bulb", r"substation")),
    (SoundFamily.CRACKLE, _rx(r"fire", r"crackl", r"flame", r"ember", r"burn", r"sizzl", r"fry", r"frying", r"spark", r"log\s?fire", r"campfire", r"fireplace")),
    (SoundFamily.WAVES, _rx(r"waves?\b", r"surf\b", r"ocean", r"sea\b", r"tide", r"lapping", r"swell")),
    (SoundFamily.DRIP, _rx(r"drip", r"drop(?:s|let|lets|ping)?\b", r"leak", r"faucet", r"tap water", r"plink", r"plop")),
    (SoundFamily.BUBBLES, _rx(r"bubbl", r"gurgl", r"boil", r"simmer", r"fizz", r"carbonat", r"blub", r"aquarium", r"effervesc")),
    (SoundFamily.POUR, _rx(r"pour", r"splash", r"spill", r"slosh", r"fill(?:s|ing|ed)?\b", r"glug")),
    (SoundFamily.STREAM, _rx(r"stream", r"river", r"brook", r"creek", r"flow", r"rain", r"waterfall", r"fountain", r"trickl", r"water\b", r"shower", r"rapids")),
    (SoundFamily.SCRAPE, _rx(r"scrap", r"scratch", r"drag", r"grind", r"rub", r"slid", r"sliding", r"saw(?:s|ing)?\b", r"filing", r"sanding", r"friction", r"squeak", r"creak", r"grat", r"shovel", r"rasp")),
    (SoundFamily.RUSTLE, _rx(r"rustl", r"crumpl", r"crinkl", r"leaf", r"leaves", r"paper", r"fabric", r"cloth", r"grass", r"shuffl", r"flutter", r"sweep", r"brush", r"swish", r"flap", r"page", r"bag\b", r"foliage", r"bush", r"straw", r"hay")),
    (SoundFamily.WIND, _rx(r"wind", r"breez", r"gust", r"howl", r"blow", r"whoosh", r"air\b", r"draft", r"draught", r"storm")),
    (SoundFamily.CLICK, _rx(r"click", r"tick", r"typ(?:e|es|ing|ed|ist)\b", r"keyboard", r"switch", r"button", r"clock")),
    (SoundFamily.IMPACT, _rx(r"hit", r"tap", r"knock", r"strik", r"struck", r"bang", r"clap", r"thud", r"slam", r"clack", r"clank", r"clink", r"click", r"tick", r"hammer", r"pluck", r"bounc", r"kick", r"thump", r"pound", r"beat", r"clang", r"clatter", r"rattl", r"smash", r"crash", r"drum")),
]

_MATERIAL_PATTERNS: list[tuple[Material, re.Pattern[str]]] = [
    (Material.GLASS, _rx(r"glass", r"bottle", r"window", r"crystal", r"jar\b", r"wine", r"mirror", r"ice\b")),
    (Material.CERAMIC, _rx(r"ceramic", r"porcelain", r"china\b", r"clay", r"pottery", r"terracotta", r"mug", r"cup", r"plate", r"bowl", r"tile", r"enamel")),
    (Material.METAL, _rx(r"metal", r"steel", r"iron", r"tin\b", r"alumin", r"copper", r"brass", r"bronze", r"chrome", r"can\b", r"pan\b", r"pot\b", r"railing", r"wire", r"coin", r"key", r"spoon", r"fork", r"knife", r"lid", r"cymbal")),
    (Material.STONE, _rx(r"stone", r"rock", r"concrete", r"brick", r"marble", r"granite", r"pebble", r"asphalt", r"pavement", r"cobble", r"slate", r"cement")),
    (Material.EARTH, _rx(r"earth", r"soil", r"dirt", r"gravel", r"sand\b", r"mud", r"snow", r"ground", r"path\b", r"trail", r"forest floor", r"grass")),
    (Material.PLASTIC, _rx(r"plastic", r"rubber", r"vinyl", r"nylon", r"foam", r"acrylic", r"polymer", r"leather", r"fabric", r"cardboard", r"paper")),
    (Material.WOOD, _rx(r"wood", r"timber", r"oak", r"pine", r"plank", r"log\b", r"branch", r"stick", r"bamboo", r"table", r"door", r"chair", r"floor", r"tree", r"bark", r"desk", r"crate")),
]

# Impacts repeat when the action is one that repeats.
_REPEATED = _rx(r"knock", r"tapp", r"taps\b", r"clatter", r"rattl", r"patter", r"drumm", r"bounc", r"tick", r"hammer", r"pound",
                r"stir", r"typ", r"roll\b", r"rapid", r"jingl", r"chop", r"clank", r"clink")
# A soft, heavy striker (a fist, a palm, a foot) excites only the low modes and is damped by the hand itself.
_SOFT_STRIKER = _rx(r"fist", r"palm", r"hand\b", r"punch", r"thump", r"kick", r"slap", r"pound", r"foot\b", r"boot")
_STEADY = _rx(r"tick", r"clock", r"signal", r"metronome", r"indicator", r"blinker")
# Which kind of machine: its register and how much of it is tone and how much is noise.
_MACHINE_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("traffic", _rx(r"traffic", r"cars?\b", r"road", r"passing")),
    ("engine", _rx(r"engine", r"tractor", r"truck", r"lorr", r"bus\b", r"motorcycle", r"motorbike", r"scooter", r"generator")),
    ("fan", _rx(r"fan\b", r"air\s?condition", r"ventilat", r"extractor", r"blower", r"turbine", r"vacuum")),
    ("small_motor", _rx(r"drill", r"grinder", r"blender", r"mixer", r"printer", r"whir", r"shaver", r"saw\b")),
    ("compressor", _rx(r"compressor", r"fridge", r"refrigerator", r"pump", r"freezer")),
]
# Which animal calls: each has its own call shape and register.
_VOICES: list[tuple[str, re.Pattern[str]]] = [
    ("cat", _rx(r"cat\b", r"cats\b", r"kitten", r"purr", r"meow", r"miaow")),
    ("dog", _rx(r"dog", r"puppy", r"woof")),
    ("cricket", _rx(r"cricket", r"cicada", r"grasshopper")),
    ("frog", _rx(r"frog", r"toad", r"croak")),
    ("owl", _rx(r"owl", r"hoot", r"pigeon", r"dove", r"coo(?:s|ing)?\b")),
    ("duck", _rx(r"duck", r"quack", r"goose", r"geese", r"honk")),
    ("hen", _rx(r"hen\b", r"hens\b", r"chicken", r"cluck", r"rooster")),
    ("gull", _rx(r"gull", r"crow", r"caw", r"raven", r"squawk", r"parrot")),
]
_MAINS_60 = re.compile(r"\b60\s?hz\b|\bamerican\b|\bus mains\b", re.IGNORECASE)

# Timbre words as (pattern, brightness, pitch factor, decay factor, attack sharpness, roughness).
_TIMBRE_RULES: list[tuple[re.Pattern[str], float, float, float, float, float]] = [
    (_rx(r"bright", r"crisp", r"tinny", r"shrill", r"sparkl", r"brilliant", r"clear", r"glassy", r"airy", r"shimmer"), 0.5, 1.0, 1.0, 0.2, 0.0),
    (_rx(r"dark", r"muffled", r"dull", r"warm", r"mellow", r"muted"), -0.5, 1.0, 0.8, -0.2, 0.0),
    (_rx(r"deep", r"low", r"heavy", r"big", r"boom", r"rumbl", r"bass", r"thick", r"large", r"huge"), -0.3, 0.6, 1.3, 0.0, 0.0),
    (_rx(r"high", r"small", r"tiny", r"light\b", r"thin", r"little", r"delicate", r"dainty", r"pitched"), 0.3, 1.6, 0.8, 0.1, 0.0),
    (_rx(r"hollow", r"resonan", r"ringing", r"sustain", r"long", r"echo", r"reverber", r"lingering", r"singing"), 0.0, 1.0, 2.0, 0.0, 0.0),
    (_rx(r"short", r"dry", r"dead", r"tight", r"damped", r"staccato", r"clipped", r"quick"), 0.0, 1.0, 0.5, 0.3, 0.0),
    (_rx(r"sharp", r"snappy", r"punchy", r"percussive", r"clicky", r"hard", r"metallic"), 0.3, 1.0, 1.0, 0.6, 0.0),
    (_rx(r"soft", r"gentle", r"quiet", r"smooth", r"subtle", r"faint", r"calm", r"soothing", r"velvet"), -0.3, 1.0, 1.0, -0.5, -0.3),
    (_rx(r"rough", r"gritty", r"grainy", r"harsh", r"raspy", r"coarse", r"noisy", r"crunch", r"crackly"), 0.1, 1.0, 1.0, 0.0, 0.6),
]


class Timbre(BaseModel):
    """Controls the synthesisers read; neutral at the defaults."""

    brightness: float = Field(0.0, ge=-1, le=1)  # spectral tilt: -1 dark, +1 bright
    pitch: float = Field(1.0, gt=0)  # multiplies the family's natural frequencies
    decay: float = Field(1.0, gt=0)  # multiplies decay and ring times
    attack: float = Field(0.0, ge=-1, le=1)  # -1 soft, +1 sharp onsets
    roughness: float = Field(0.0, ge=-1, le=1)  # grain and noise amount


class Recipe(BaseModel):
    """What to synthesise for one variant."""

    family: SoundFamily
    material: Material
    timbre: Timbre = Field(default_factory=Timbre)
    repeated: bool = False
    soft_striker: bool = False
    steady: bool = False  # evenly paced events (a clock, a signal) rather than a person's uneven ones
    mains_hz: float = 50.0
    machine: str = "compressor"
    voice: str = "songbird"


# Objects whose own sound is the point whatever moves them (wind chimes "swaying in the breeze" still ring).
_SOUNDING_OBJECTS = {SoundFamily.BELL, SoundFamily.MACHINE, SoundFamily.HUM, SoundFamily.BUZZ, SoundFamily.CRACKLE}


def classify_family(words: str, action: str = "", name: str = "") -> SoundFamily:
    """The sound family for a description.

    A sounding object in the name (a bell, a fridge, a fire) decides first; then the action (play method), which
    says what makes the sound; then all the words.
    """
    for family, pattern in _FAMILY_PATTERNS:
        if family in _SOUNDING_OBJECTS and name and pattern.search(name):
            return family
    for text in (action, words):
        if not text:
            continue
        for family, pattern in _FAMILY_PATTERNS:
            if pattern.search(text):
                return family
    return SoundFamily.IMPACT


def classify_material(material: str, words: str) -> Material:
    """The modelled material (one with struck modes in :mod:`pipeline.effects.synth.modal`) the words speak of."""
    for text in (material, words):
        for found, pattern in _MATERIAL_PATTERNS:
            if text and pattern.search(text):
                return found
    return Material.WOOD


def read_timbre(words: str) -> Timbre:
    brightness, pitch, decay, attack, roughness = 0.0, 1.0, 1.0, 0.0, 0.0
    for pattern, d_bright, f_pitch, f_decay, d_attack, d_rough in _TIMBRE_RULES:
        if pattern.search(words):
            brightness += d_bright
            pitch *= f_pitch
            decay *= f_decay
            attack += d_attack
            roughness += d_rough
    clamp = lambda x, lo, hi: max(lo, min(hi, x))
    return Timbre(
        brightness=clamp(brightness, -1, 1),
        pitch=clamp(pitch, 0.35, 2.5),
        decay=clamp(decay, 0.3, 3.0),
        attack=clamp(attack, -1, 1),
        roughness=clamp(roughness, -1, 1),
    )


def recipe_for(*, name: str, material: str, play_method: str, timbre: list[str]) -> Recipe:
    words = " ".join([name, material, play_method, *timbre])
    # Timbre words describe the sound and decide its family only when nothing else does ("ringing" is not a bell).
    described = f"{name} {material} {play_method}"
    family = classify_family(described, action=play_method, name=name)
    if family == SoundFamily.IMPACT and not dict(_FAMILY_PATTERNS)[SoundFamily.IMPACT].search(described):
        family = classify_family(words)
    return Recipe(
        family=family,
        material=classify_material(material, words),
        timbre=read_timbre(" ".join(timbre) + " " + play_method),
        repeated=bool(_REPEATED.search(play_method)),
        soft_striker=bool(_SOFT_STRIKER.search(play_method)),
        steady=bool(_STEADY.search(words)),
        mains_hz=60.0 if _MAINS_60.search(words) else 50.0,
        machine=_first_kind(_MACHINE_KINDS, words, "compressor"),
        voice=_first_kind(_VOICES, words, "songbird"),
    )


def _first_kind(kinds: list[tuple[str, re.Pattern[str]]], words: str, default: str) -> str:
    return next((kind for kind, pattern in kinds if pattern.search(words)), default)
