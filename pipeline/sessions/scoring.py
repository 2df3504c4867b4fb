"""How well an effect suits each session, as a cost (lower is better) with the reason behind it.

Features become a handful of *descriptors* in [0, 1] that a musician would name ("short", "low", "clear pitch").
Each session has a small table of weights over those descriptors (:data:`SESSION_WEIGHTS`): positive for what the
session wants, negative for what it should not get. ``cost = 1 - sum(weight * descriptor)`` minus small bonuses for
the source's words and the sheet's hint. The reasons quote the descriptors that contributed most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.sessions.features import EffectFeatures
from pipeline.sessions.words import word_cues
from pipeline.types import SESSIONS, EffectInput, Session

# Bonus subtracted from a session's cost when the source's words point to it, and when the sheet hints at it.
WORD_WEIGHT = 0.15
HINT_WEIGHT = 0.2
# A silent effect can play nothing; it only fills a session nothing else can.
SILENT_COST = 2.0


def _ramp(value: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (value - low) / (high - low)))


def _log_ramp(value: float, low: float, high: float) -> float:
    if value <= 0:
        return 0.0
    return _ramp(math.log(value), math.log(low), math.log(high))


def descriptors(f: EffectFeatures) -> dict[str, float]:
    """The sound in musicians' words, each in [0, 1]. Thresholds are the usual ranges of band instruments."""
    pitched = f.f0_hz is not None
    f0 = f.f0_hz or 0.0
    harmonicity = 1.0 if f.harmonicity is None else f.harmonicity
    glide = f.pitch_glide_st or 0.0
    overtones = 1.0 if f.overtone_share is None else f.overtone_share
    return {
        # Struck sounds peak within ~30 ms; bowed, blown and swelling sounds take a few hundred.
        "sharp attack": 1.0 - _ramp(f.attack_s, 0.03, 0.2),
        "percussive": _ramp(f.percussive_ratio, 0.1, 0.6),
        # Drum hits die within ~0.3 s; held notes last a second or more.
        "short": 1.0 - _ramp(f.sustain_s, 0.2, 0.8),
        "sustained": _ramp(f.sustain_s, 0.4, 1.5),
        "noisy": _log_ramp(f.flatness, 0.01, 0.15),
        "clear pitch": _ramp(f.pitch_clarity, 0.5, 0.9) if pitched else 0.0,
        "low": _ramp(f.low_share, 0.3, 0.85),
        # Bass fundamentals sit below ~100 Hz (E1-G2); guitar's middle is ~100-500 Hz; above ~500 Hz is the keys.
        "low register": (1.0 - _log_ramp(f0, 100.0, 200.0)) if pitched else 0.0,
        "mid register": min(_log_ramp(f0, 55.0, 90.0), 1.0 - _log_ramp(f0, 450.0, 700.0)) if pitched else 0.0,
        "high register": _log_ramp(f0, 400.0, 800.0) if pitched else 0.0,
        "bright": _log_ramp(f.centroid_hz, 600.0, 4000.0),
        "slow attack": _ramp(f.attack_s, 0.1, 0.8),
        "rhythmic": _ramp(f.onset_rate, 1.5, 4.0),
        # Bowed, blown, rubbed and synth-pad onsets rise gently; a pick, hammer or stick makes a jump of 30 dB or more.
        "soft onset": 1.0 - _ramp(f.attack_strength, 15.0, 30.0),
        # Organs, pads and synth basses hold their level; strings and bells ring down a few to tens of dB a second;
        # drum hits and stabs are gone within a few hundred milliseconds.
        "held": 1.0 - _ramp(f.decay_db_per_s, 2.0, 8.0),
        "ringing": min(_ramp(f.decay_db_per_s, 3.0, 8.0), 1.0 - _ramp(f.decay_db_per_s, 40.0, 80.0)),
        "fast decay": _ramp(f.decay_db_per_s, 40.0, 150.0),
        # Strings, voices and synth notes have whole-number partials; membranes, plates and bells do not.
        "harmonic": _ramp(harmonicity, 0.5, 0.85) if pitched else 0.0,
        "inharmonic": (1.0 - _ramp(harmonicity, 0.3, 0.6)) if pitched else 0.0,
        # A bass note carries overtones; a kick or tom body is a near-sine thump low down.
        "overtones": _ramp(overtones, 0.1, 0.3) if pitched else 0.0,
        "thump": (1.0 - _ramp(overtones, 0.05, 0.2)) * (1.0 - _log_ramp(f0, 150.0, 300.0)) if pitched else 0.0,
        # A struck membrane goes flat as it rings down (and drum machines copy that sweep); a played note holds.
        "falling pitch": _ramp(-glide, 0.5, 3.0) if pitched else 0.0,
    }


# What each session wants (+) and avoids (-). Rows read as sentences:
# - drums: "a sharp attack that dies fast, noisy or a rhythm, or a low near-sine thump, or struck metal or skin whose
#   partials are not harmonic; not a held or ringing note";
# - bass: "energy low down, a fundamental in the bass register with overtones; ideally held; not noise, not a bell";
# - guitar: "a clear pitch in the middle register that rings down after a picked onset; not a boom, a hiss, a bright
#   shimmer, a soft swell or a sine thump";
# - keyboard: "a clear pitch, high or bright, held like an organ or pad or ringing like a bell, with a soft onset".
SESSION_WEIGHTS: dict[Session, dict[str, float]] = {
    Session.DRUMS: {
        "sharp attack": 0.25,
        "short": 0.25,
        "fast decay": 0.15,
        "noisy": 0.2,
        "percussive": 0.15,
        "rhythmic": 0.15,
        "thump": 0.3,
        "inharmonic": 0.2,
        "falling pitch": 0.15,
        "clear pitch": -0.1,
        "high register": -0.1,
        "held": -0.2,
        "ringing": -0.1,
    },
    Session.BASS: {
        "low": 0.35,
        "low register": 0.15,
        "overtones": 0.2,
        "clear pitch": 0.1,
        "sustained": 0.2,
        "short": -0.2,
        "noisy": -0.2,
        "inharmonic": -0.2,
    },
    Session.GUITAR: {
        "clear pitch": 0.25,
        "mid register": 0.25,
        "ringing": 0.2,
        "sustained": 0.2,
        "sharp attack": 0.1,
        "short": -0.3,
        "noisy": -0.2,
        "low": -0.15,
        "bright": -0.2,
        "soft onset": -0.15,
        "thump": -0.2,
    },
    Session.KEYBOARD: {
        "clear pitch": 0.3,
        "high register": 0.25,
        "bright": 0.25,
        "soft onset": 0.2,
        "sustained": 0.15,
        "held": 0.15,
        "slow attack": 0.1,
        "inharmonic": 0.1,
        "noisy": -0.2,
        "low": -0.2,
    },
}

# How a reason names the absence of a wanted quality ("not short") when a negative weight helped.
_OPPOSITES = {
    "short": "sustained",
    "noisy": "clean tone",
    "low": "not boomy",
    "clear pitch": "no clear pitch",
    "sustained": "short",
    "thump": "has overtones",
    "held": "rings down",
    "ringing": "dies at once",
    "inharmonic": "harmonic",
    "soft onset": "picked onset",
}


@dataclass(frozen=True)
class SessionScore:
    session: Session
    cost: float
    reason: str


def score_effect(effect: EffectInput, features: EffectFeatures) -> dict[Session, SessionScore]:
    """Cost and reason of ``effect`` in every session."""
    if features.silent:
        return {s: SessionScore(s, SILENT_COST, "silent effect, used only to fill a gap") for s in SESSIONS}
    values = descriptors(features)
    cues = word_cues(" ".join(filter(None, [effect.name, effect.words])))
    scores = {}
    for session in SESSIONS:
        weights = SESSION_WEIGHTS[session]
        contributions = {name: weight * values[name] for name, weight in weights.items()}
        cost = 1.0 - sum(contributions.values())
        extras = []
        if session in cues:
            cost -= WORD_WEIGHT
            extras.append("words: " + ", ".join(f'"{w}"' for w in cues[session][:2]))
        if effect.hint == session:
            cost -= HINT_WEIGHT
            extras.append("the sheet suggests it")
        scores[session] = SessionScore(session, round(cost, 4), _reason(session, contributions, values, extras))
    return scores


def _reason(session: Session, contributions: dict[str, float], values: dict[str, float], extras: list[str]) -> str:
    """The two or three strongest pieces of evidence, e.g. "low, sustained, clear pitch -> bass"."""
    helped = sorted(
        ((c, name) for name, c in contributions.items() if c > 0.04),
        key=lambda item: (-item[0], item[1]),
    )
    words = [name for _c, name in helped[:3]]
    # A negative weight that barely counted means the sound lacks that quality: worth saying when little else did.
    if len(words) < 2:
        for name, c in sorted(contributions.items(), key=lambda item: item[1]):
            if c > -0.02 and SESSION_WEIGHTS[session][name] < 0 and values[name] < 0.1 and name in _OPPOSITES:
                opposite = _OPPOSITES[name]
                if opposite not in words:
                    words.append(opposite)
            if len(words) >= 2:
                break
    evidence = ", ".join(words + extras) or "closest fit"
    return f"{evidence} -> {session.value}"
