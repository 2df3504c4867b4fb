"""The kit recipes: what each General MIDI drum key (35-81) is made of.

Every key has a recipe (:data:`GM_KIT`): the family it belongs to, a pitch offset, a length, filters and flams.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pipeline.instruments.drums.hits import HitClass


class KitFamily(StrEnum):
    """What a GM key is, by how it is made. Native hit class in brackets."""

    KICK = "kick"  # [kick]
    SNARE = "snare"  # [snare]
    HAT = "hat"  # [hat], short
    CYMBAL = "cymbal"  # [hat], long; a short hat gets a tail of its own noise
    TOM = "tom"  # [perc], pitched
    PERC = "perc"  # [perc], or whatever the effect has


NATIVE_CLASS: dict[KitFamily, HitClass] = {
    KitFamily.KICK: HitClass.KICK,
    KitFamily.SNARE: HitClass.SNARE,
    KitFamily.HAT: HitClass.HAT,
    KitFamily.CYMBAL: HitClass.HAT,
    KitFamily.TOM: HitClass.PERC,
    KitFamily.PERC: HitClass.PERC,
}


@dataclass(frozen=True)
class KitPiece:
    """The recipe of one GM key."""

    key: int
    name: str
    family: KitFamily
    semitones: float = 0.0
    length_s: float = 0.5
    highpass_hz: float = 0.0
    lowpass_hz: float = 0.0
    flams_ms: tuple[float, ...] = ()  # extra strikes after the first (claps, guiros, vibraslap)
    volume_db: float = 0.0
    pick: int = 0  # which of the family's hits to use (0 = most typical), for variety between related keys
    pan: float = 0.0


_CLAP = (9.0, 19.0, 31.0)
_RASP_SHORT = tuple(12.0 * i for i in range(1, 6))
_RASP_LONG = tuple(14.0 * i for i in range(1, 16))

GM_KIT: tuple[KitPiece, ...] = (
    KitPiece(35, "Acoustic Bass Drum", KitFamily.KICK, -2, 0.55, pick=1),
    KitPiece(36, "Bass Drum 1", KitFamily.KICK, 0, 0.5),
    KitPiece(37, "Side Stick", KitFamily.SNARE, 5, 0.09, highpass_hz=1200, volume_db=-3, pick=1),
    KitPiece(38, "Acoustic Snare", KitFamily.SNARE, 0, 0.45),
    KitPiece(39, "Hand Clap", KitFamily.SNARE, 2, 0.3, highpass_hz=700, lowpass_hz=7000, flams_ms=_CLAP),
    KitPiece(40, "Electric Snare", KitFamily.SNARE, 2, 0.35, highpass_hz=180, pick=1),
    KitPiece(41, "Low Floor Tom", KitFamily.TOM, -10, 0.7, pan=-0.3),
    KitPiece(42, "Closed Hi-Hat", KitFamily.HAT, 0, 0.09, volume_db=-3, pan=0.2),
    KitPiece(43, "High Floor Tom", KitFamily.TOM, -8, 0.65, pan=-0.25),
    KitPiece(44, "Pedal Hi-Hat", KitFamily.HAT, -1, 0.06, volume_db=-6, pick=1, pan=0.2),
    KitPiece(45, "Low Tom", KitFamily.TOM, -6, 0.6, pan=-0.15),
    KitPiece(46, "Open Hi-Hat", KitFamily.CYMBAL, 0, 0.45, highpass_hz=4000, volume_db=-4, pan=0.2),
    KitPiece(47, "Low-Mid Tom", KitFamily.TOM, -4, 0.55, pan=-0.05),
    KitPiece(48, "Hi-Mid Tom", KitFamily.TOM, -2, 0.5, pan=0.05),
    KitPiece(49, "Crash Cymbal 1", KitFamily.CYMBAL, -2, 1.5, highpass_hz=1500, volume_db=-3, pan=-0.3),
    KitPiece(50, "High Tom", KitFamily.TOM, 0, 0.45, pan=0.15),
    KitPiece(51, "Ride Cymbal 1", KitFamily.CYMBAL, 1, 1.0, highpass_hz=2500, volume_db=-5, pan=0.35),
    KitPiece(52, "Chinese Cymbal", KitFamily.CYMBAL, 3, 1.1, highpass_hz=2000, lowpass_hz=9000, volume_db=-4, pan=-0.35),
    KitPiece(53, "Ride Bell", KitFamily.PERC, 12, 0.6, highpass_hz=1500, volume_db=-5, pan=0.35),
    KitPiece(54, "Tambourine", KitFamily.HAT, 3, 0.25, highpass_hz=3000, flams_ms=(25.0,), volume_db=-5, pan=0.3),
    KitPiece(55, "Splash Cymbal", KitFamily.CYMBAL, 4, 0.7, highpass_hz=3000, volume_db=-4, pan=0.3),
    KitPiece(56, "Cowbell", KitFamily.PERC, 7, 0.3, highpass_hz=400, lowpass_hz=5000, volume_db=-4, pan=0.2),
    KitPiece(57, "Crash Cymbal 2", KitFamily.CYMBAL, 1, 1.5, highpass_hz=1500, volume_db=-3, pick=1, pan=0.3),
    KitPiece(58, "Vibraslap", KitFamily.PERC, 9, 0.6, flams_ms=_RASP_LONG, volume_db=-6, pan=-0.2),
    KitPiece(59, "Ride Cymbal 2", KitFamily.CYMBAL, -1, 1.0, highpass_hz=2500, volume_db=-5, pick=1, pan=-0.35),
    KitPiece(60, "Hi Bongo", KitFamily.PERC, 5, 0.25, pan=0.25),
    KitPiece(61, "Low Bongo", KitFamily.PERC, 2, 0.3, pan=0.2),
    KitPiece(62, "Mute Hi Conga", KitFamily.PERC, 3, 0.12, pan=-0.2),
    KitPiece(63, "Open Hi Conga", KitFamily.PERC, 3, 0.4, pan=-0.2),
    KitPiece(64, "Low Conga", KitFamily.PERC, -1, 0.45, pan=-0.25),
    KitPiece(65, "High Timbale", KitFamily.TOM, 6, 0.35, highpass_hz=300, pan=0.3),
    KitPiece(66, "Low Timbale", KitFamily.TOM, 3, 0.4, highpass_hz=200, pan=0.25),
    KitPiece(67, "High Agogo", KitFamily.PERC, 14, 0.3, highpass_hz=800, volume_db=-4, pan=-0.3),
    KitPiece(68, "Low Agogo", KitFamily.PERC, 10, 0.3, highpass_hz=600, volume_db=-4, pan=-0.3),
    KitPiece(69, "Cabasa", KitFamily.HAT, 2, 0.12, flams_ms=(15.0,), volume_db=-6, pan=0.35),
    KitPiece(70, "Maracas", KitFamily.HAT, 4, 0.08, volume_db=-6, pan=-0.35),
    KitPiece(71, "Short Whistle", KitFamily.PERC, 17, 0.15, highpass_hz=1000, volume_db=-6, pan=0.4),
    KitPiece(72, "Long Whistle", KitFamily.PERC, 17, 0.5, highpass_hz=1000, volume_db=-6, pan=0.4),
    KitPiece(73, "Short Guiro", KitFamily.HAT, -2, 0.12, flams_ms=_RASP_SHORT, volume_db=-6, pan=-0.3),
    KitPiece(74, "Long Guiro", KitFamily.HAT, -2, 0.35, flams_ms=_RASP_LONG, volume_db=-6, pan=-0.3),
    KitPiece(75, "Claves", KitFamily.PERC, 12, 0.1, highpass_hz=700, volume_db=-4, pan=0.3),
    KitPiece(76, "Hi Wood Block", KitFamily.PERC, 9, 0.12, highpass_hz=500, volume_db=-4, pan=0.2),
    KitPiece(77, "Low Wood Block", KitFamily.PERC, 6, 0.14, highpass_hz=400, volume_db=-4, pan=0.2),
    KitPiece(78, "Mute Cuica", KitFamily.PERC, 8, 0.15, volume_db=-5, pan=-0.25),
    KitPiece(79, "Open Cuica", KitFamily.PERC, 6, 0.4, volume_db=-5, pan=-0.25),
    KitPiece(80, "Mute Triangle", KitFamily.HAT, 9, 0.1, highpass_hz=3000, volume_db=-7, pan=0.4),
    KitPiece(81, "Open Triangle", KitFamily.CYMBAL, 9, 0.8, highpass_hz=3000, volume_db=-7, pan=0.4),
)
GM_KEYS: tuple[int, ...] = tuple(piece.key for piece in GM_KIT)
