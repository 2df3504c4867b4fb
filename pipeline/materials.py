"""The one material vocabulary: what a sound's source is made of.

Vision engines name a source's material with one of these (:data:`MATERIALS` lists the words that mean each);
effect synthesisers read a material and map it onto those they can model (:mod:`pipeline.effects.words`).
"""

from __future__ import annotations

from enum import StrEnum


class Material(StrEnum):
    WOOD = "wood"
    METAL = "metal"
    GLASS = "glass"
    STONE = "stone"
    WATER = "water"
    LEAVES = "leaves"
    FABRIC = "fabric"
    PAPER = "paper"
    PLASTIC = "plastic"
    AIR = "air"
    EARTH = "earth"
    CERAMIC = "ceramic"
    ANIMAL = "animal"
    MACHINE = "machine"


# fmt: off
# Canonical material -> words that mean it.
MATERIALS: dict[Material, tuple[str, ...]] = {
    Material.WOOD: ("wood", "wooden", "timber", "bark", "plank", "twig", "branch", "log"),
    Material.METAL: ("metal", "metallic", "steel", "iron", "brass", "copper", "aluminium", "aluminum", "chain"),
    Material.GLASS: ("glass", "ice", "icicle", "crystal", "window"),
    Material.STONE: ("stone", "rock", "pebble", "gravel", "concrete", "brick", "pavement", "marble", "tile"),
    Material.WATER: ("water", "rain", "raindrop", "liquid", "sea", "surf", "river", "puddle", "droplet"),
    Material.LEAVES: ("leaves", "leaf", "foliage", "grass", "reeds", "brush", "hay", "straw", "scrub"),
    Material.FABRIC: ("fabric", "cloth", "clothes", "cotton", "leather", "wool", "canvas", "nylon", "curtain"),
    Material.PAPER: ("paper", "cardboard", "card", "book"),
    Material.PLASTIC: ("plastic", "rubber", "vinyl"),
    Material.AIR: ("air", "wind", "breeze", "steam"),
    Material.EARTH: ("earth", "sand", "soil", "mud", "dirt", "snow", "dust"),
    Material.CERAMIC: ("ceramic", "porcelain", "clay", "pottery", "china", "mug", "cup", "bowl", "shell"),
    Material.ANIMAL: ("animal", "bird", "insect", "feather", "wing", "cricket", "frog", "owl", "duck", "hen"),
    Material.MACHINE: ("machine", "electric", "electrical", "engine", "motor", "electronic", "neon", "compressor", "fan"),
}
# fmt: on
