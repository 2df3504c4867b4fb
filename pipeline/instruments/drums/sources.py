"""The material each kit family is made from.

A family plays its own hits where the effect has them; missing families are derived from the best available hit
(or from the raw sound) by filtering and pitching - a kick is low-passed and pitched down with a fast pitch drop, a
snare is band-passed with a body of its own grains, a hat is high-passed and short, toms are pitched. Every piece
is the effect's own material: a derived piece keeps the whole hit under its filtered band.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.audio import loudest_window
from pipeline.dsp.filters import bandpass, highpass, lowpass
from pipeline.instruments.drums.hits import (
    CLASS_PROTOTYPES,
    FEATURE_SCALES,
    Hit,
    HitClass,
    classify,
    describe,
)
from pipeline.instruments.drums.kit import NATIVE_CLASS, KitFamily
from pipeline.instruments.drums.shaping import (
    decay_envelope,
    fit,
    normalised,
    own_grains,
    pitch_drop,
    repitch,
)


@dataclass
class FamilySource:
    """The material one family is made from: its own hits, or one sound to derive from."""

    family: KitFamily
    native: list[np.ndarray] = field(default_factory=list)  # hits of the family's class, most typical first
    derived: np.ndarray | None = None  # made by filtering/pitching when the effect has no native hit
    note: str = ""

    def pick(self, index: int) -> tuple[np.ndarray, int]:
        """(audio, extra semitones): a native hit, cycling; when index runs past them, a slightly detuned one."""
        if self.native:
            lap, i = divmod(index, len(self.native))
            return self.native[i], -1.0 * lap
        assert self.derived is not None
        return self.derived, -1.0 * index


DECAY_TO_TIME_CONSTANT = 24.0 / 8.686  # the hit's decay is measured to -24 dB; an exponential falls 8.686 dB per tau


def own_decay(hit: np.ndarray, longest_s: float, sample_rate: int) -> float:
    """A derived piece dies as fast as the hit it is made from, never slower than its recipe: a kick made from a
    pen click stays a click's length."""
    return float(np.clip(describe(hit, sample_rate).decay_s / DECAY_TO_TIME_CONSTANT, 0.01, longest_s))


def _kick_from(source: np.ndarray, centroid_hz: float, sample_rate: int) -> np.ndarray:
    """Low-pass and pitch down with a fast drop, then a low body resonance excited by the same sound."""
    end_rate = float(np.clip(70.0 / max(centroid_hz, 70.0), 1 / 24, 1.0))
    swept = pitch_drop(normalised(source[: int(0.12 * sample_rate)]), min(1.0, 4.0 * end_rate), end_rate, 0.025,
                       sample_rate, 0.6)
    if len(swept) < int(0.01 * sample_rate):
        swept = fit(swept, int(0.01 * sample_rate))
    low = lowpass(swept, 160.0, sample_rate)
    body = lowpass(fit(low, int(0.6 * sample_rate)), 90.0, sample_rate, order=2)
    kick = normalised(fit(low, len(body))) + 0.8 * normalised(body)
    return kick * decay_envelope(len(kick), own_decay(source, 0.12, sample_rate), sample_rate, attack_s=0.002)


def _snare_from(source: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Band-passed tone of the source plus a body (the wires) of the source's own grains."""
    n = int(0.45 * sample_rate)
    tone = bandpass(fit(normalised(source), n), 150.0, 2500.0, sample_rate, order=4)
    tone *= decay_envelope(n, own_decay(source, 0.05, sample_rate), sample_rate)
    wires = bandpass(own_grains(source, 0.45, 0.09, sample_rate, rng), 1500.0, 9000.0, sample_rate, order=4)
    return 0.7 * normalised(tone) + 0.6 * normalised(wires)


def _hat_from(source: np.ndarray, centroid_hz: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Pitch the source up until it is bright, high-pass it and make it short; a little of its own grains on top."""
    semitones = float(np.clip(12.0 * np.log2(7000.0 / max(centroid_hz, 20.0)), 0.0, 48.0))
    bright = repitch(normalised(source[: int(0.4 * sample_rate)]), semitones, sample_rate)
    n = int(0.3 * sample_rate)
    sizzle = own_grains(bright, 0.3, 0.03, sample_rate, rng)
    hat = normalised(highpass(fit(bright, n), 6000.0, sample_rate))
    hat += normalised(highpass(sizzle, 6000.0, sample_rate))
    return hat * decay_envelope(n, 0.03, sample_rate)


def _tom_from(source: np.ndarray, centroid_hz: float, sample_rate: int) -> np.ndarray:
    """Pitch the source so its centre sits near a high tom's, soften its top and give it a tom's decay."""
    semitones = float(np.clip(12.0 * np.log2(400.0 / max(centroid_hz, 20.0)), -36.0, 24.0))
    tom = lowpass(repitch(normalised(source[: int(0.4 * sample_rate)]), semitones, sample_rate), 3000.0,
                  sample_rate, order=2)
    tom = fit(tom, int(0.7 * sample_rate))
    return tom * decay_envelope(len(tom), own_decay(source, 0.15, sample_rate), sample_rate)


# A ride struck on every eighth note must not fill the song with a constant wash: the ringing grains start well under
# the strike and fade within an eighth note at a brisk tempo, so the stem falls back between strokes.
CYMBAL_WASH_DB = -10.0
CYMBAL_WASH_DECAY_S = 0.12


def _cymbal_tail(source: np.ndarray, length_s: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """A short bright sound stretched into a cymbal: the sound itself, then its own grains ringing on."""
    n = int(length_s * sample_rate)
    tail = normalised(own_grains(source, length_s, CYMBAL_WASH_DECAY_S, sample_rate, rng))
    head = fit(normalised(source), n)
    return head + 10 ** (CYMBAL_WASH_DB / 20) * tail


def _percussive(sound: np.ndarray, time_constant_s: float, sample_rate: int) -> np.ndarray:
    """Give a sustained sound a hit's shape (used when the effect has no hits at all)."""
    return sound * decay_envelope(len(sound), time_constant_s, sample_rate)


DERIVED_TEXTURE_SHARE = 0.25  # share of a derived piece that is the hit itself, shaped like the piece
HAT_TEXTURE_HIGHPASS_HZ = 400.0
HAT_OWN_COLOUR_HIGHPASS_HZ = 2000.0  # a derived hat keeps the hit's top 12 dB under it, yet stays bright


def _keep_texture(derived: np.ndarray, hit: np.ndarray, sample_rate: int) -> np.ndarray:
    """Blend the hit itself back into a piece derived from it, under the derived piece's own loudness contour,
    so a kick made from a teaspoon still sounds like the teaspoon."""
    frame = max(1, int(0.005 * sample_rate))
    n = len(derived) // frame * frame
    if n == 0:
        return derived
    contour = np.sqrt(np.mean(derived[:n].reshape(-1, frame) ** 2, axis=1))
    contour = np.repeat(contour / (contour.max() + 1e-12), frame)
    own = fit(normalised(hit), n)
    own_contour = np.repeat(np.sqrt(np.mean(own.reshape(-1, frame) ** 2, axis=1)), frame)
    shaped = own * contour / np.maximum(own_contour, own_contour.max() * 1e-2 + 1e-12)
    blend = (1.0 - DERIVED_TEXTURE_SHARE) * normalised(derived[:n]) + DERIVED_TEXTURE_SHARE * normalised(shaped)
    return np.concatenate([blend, derived[n:] * 0.0]).astype(np.float32)


# The whole hit, this far under a piece filtered out of it. A kick hides the hit's top under its own lows; a hat's
# highs are weaker and must still carry most of its energy.
OWN_COLOUR_DB = {KitFamily.KICK: -6.0, KitFamily.HAT: -12.0}


def with_own_colour(filtered: np.ndarray, hit: np.ndarray, family: KitFamily) -> np.ndarray:
    """A filtered piece with the unfiltered hit kept well under it: the piece sits at its end of the spectrum,
    yet its whole sound is still the effect's."""
    n = min(len(filtered), len(hit))
    return normalised(filtered[:n]) + 10 ** (OWN_COLOUR_DB[family] / 20) * normalised(hit[:n])


BORROW_MIN_HITS = 3
BORROW_KICK_LOW_SHARE = 0.1
BORROW_HAT_CENTROID_HZ = 2500.0


def _without_bleed(family: KitFamily, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Slices of a groove carry the other drums played with them: keep a kick's lows and a hat's highs."""
    if family == KitFamily.KICK:
        return lowpass(audio, 1000.0, sample_rate, order=2)
    if family in (KitFamily.HAT, KitFamily.CYMBAL):
        return highpass(audio, 4000.0, sample_rate)
    return audio


def _borrow(family: KitFamily, playable: list[Hit], sample_rate: int, rng: np.random.Generator) -> FamilySource | None:
    """In a groove, a kick or hat buried under other drums (a kick under a ride) still sits at its end of the
    spectrum: take that hit and filter the other drums away rather than synthesising a new piece."""
    if len(playable) < BORROW_MIN_HITS:
        return None
    if family == KitFamily.KICK:
        h = max(playable, key=lambda x: x.features.low_share)
        lowest_two = sorted(x.features.centroid_hz for x in playable)[:2]
        if h.features.low_share < BORROW_KICK_LOW_SHARE or h.features.centroid_hz > lowest_two[-1]:
            return None
        audio = with_own_colour(lowpass(h.audio, 250.0, sample_rate, order=2), h.audio, KitFamily.KICK)
    elif family in (KitFamily.HAT, KitFamily.CYMBAL):
        h = max(playable, key=lambda x: x.features.centroid_hz)
        if h.features.centroid_hz < BORROW_HAT_CENTROID_HZ:
            return None
        audio = with_own_colour(highpass(h.audio, 5000.0, sample_rate), h.audio, KitFamily.HAT)
        if family == KitFamily.CYMBAL:
            audio = _cymbal_tail(audio, 1.5, sample_rate, rng)
    else:
        return None
    note = f"{family.value}: the {h.hit_class.value}-like hit at {h.start_s:.2f} s, filtered"
    return FamilySource(family, [audio], note=note)


def family_sources(hits: list[Hit], raw: np.ndarray, sample_rate: int, seed: int) -> dict[KitFamily, FamilySource]:
    """Decide, for each family, which hits play it or what it is derived from (and say so)."""
    rng = np.random.default_rng([seed, 0])
    playable = [h for h in hits if h.percussive]
    by_class = {c: sorted((h for h in playable if h.hit_class == c), key=lambda h: -h.typicality) for c in HitClass}
    if playable:
        pool = playable
        material = "hit"
    else:
        # No clear onsets: shape the sound's loudest half second into a hit and derive everything from it.
        features = describe(raw, sample_rate)
        sound = _percussive(normalised(loudest_window(raw, sample_rate, 0.5)), 0.15, sample_rate)
        pool = [Hit(sound, 0.0, features, True, *classify(features), 1.0)]
        material = "sound (no clear hits)"

    def lowest() -> Hit:
        return min(pool, key=lambda h: h.features.centroid_hz)

    def brightest() -> Hit:
        return max(pool, key=lambda h: h.features.centroid_hz)

    def nearest(c: HitClass) -> Hit:
        return min(pool, key=lambda h: np.linalg.norm((h.features.vector() - CLASS_PROTOTYPES[c]) / FEATURE_SCALES))

    sources: dict[KitFamily, FamilySource] = {}
    for family in KitFamily:
        native = [h.audio for h in by_class[NATIVE_CLASS[family]]]
        if len(playable) >= BORROW_MIN_HITS:
            native = [_without_bleed(family, a, sample_rate) for a in native]
        if family == KitFamily.CYMBAL:
            native = [_cymbal_tail(a, 1.5, sample_rate, rng) for a in native]
        if native:
            sources[family] = FamilySource(family, native)
            continue
        borrowed = _borrow(family, playable, sample_rate, rng)
        if borrowed is not None:
            sources[family] = borrowed
            continue
        if family == KitFamily.KICK:
            h = lowest()
            kick = _kick_from(h.audio, h.features.centroid_hz, sample_rate)
            derived = with_own_colour(kick, h.audio, KitFamily.KICK)
        elif family == KitFamily.SNARE:
            h = nearest(HitClass.SNARE)
            derived = _snare_from(h.audio, sample_rate, rng)
        elif family in (KitFamily.HAT, KitFamily.CYMBAL):
            h = brightest()
            derived = _hat_from(h.audio, h.features.centroid_hz, sample_rate, rng)
            derived = with_own_colour(derived, highpass(h.audio, HAT_OWN_COLOUR_HIGHPASS_HZ, sample_rate, order=2),
                                      KitFamily.HAT)
            if family == KitFamily.CYMBAL:
                derived = _cymbal_tail(derived[: int(0.05 * sample_rate)], 1.5, sample_rate, rng)
        elif family == KitFamily.TOM:
            h = nearest(HitClass.PERC)
            derived = _tom_from(h.audio, h.features.centroid_hz, sample_rate)
        else:
            h = max(pool, key=lambda x: x.typicality)
            derived = h.audio
        own = h.audio
        if family in (KitFamily.HAT, KitFamily.CYMBAL):
            own = highpass(own, HAT_TEXTURE_HIGHPASS_HZ, sample_rate, order=2)  # a hat keeps the hit's top, not its thud
        derived = _keep_texture(derived, own, sample_rate)
        where = f"at {h.start_s:.2f} s" if material == "hit" else ""
        note = f"{family.value}: derived from the {h.hit_class.value}-like {material} {where}".rstrip()
        sources[family] = FamilySource(family, derived=derived, note=note)
    return sources
