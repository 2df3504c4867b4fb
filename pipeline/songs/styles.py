"""Reusable accompaniment styles: a drum groove, a bass line and comping for guitar and keyboard, one bar each.

Every pattern is a string on a sixteenth-note grid (16 steps for 4/4, 12 for 3/4 and 6/8).

- Drums, one string per GM key: ``X`` accent, ``x`` hit, ``g`` ghost, ``.`` nothing.
- Bass: ``R`` chord bass note, ``5`` fifth, ``8`` octave, ``3`` third, ``A`` approach to the next chord,
  ``-`` hold, ``.`` rest.
- Comping: ``C``/``c`` block chord (loud/soft), ``D``/``U`` strum down/up, ``1``-``5`` one chord tone counted
  from the bottom of the voicing (arpeggios), ``-`` hold, ``.`` rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from pipeline.session_table import Session, row

# GM percussion keys used by the styles.
KICK, SIDE_STICK, SNARE, CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 36, 37, 38, 42, 44, 46
LOW_TOM, MID_TOM, HIGH_TOM, CRASH, RIDE, TAMBOURINE, SHAKER, TRIANGLE = 45, 47, 50, 49, 51, 54, 70, 81

METER_STEPS = {"4/4": 16, "3/4": 12, "6/8": 12}
METER_BEATS = {"4/4": Fraction(4), "3/4": Fraction(3), "6/8": Fraction(3)}  # quarter-note beats per bar
STEPS_PER_BEAT = 4


@dataclass(frozen=True)
class Style:
    name: str
    meter: str
    drums_light: dict[int, str]
    drums_main: dict[int, str]
    drums_full: dict[int, str]
    drum_fill: dict[int, str]
    bass: str
    guitar: str
    keyboard: str
    guitar_program: int = row(Session.GUITAR).program
    keyboard_program: int = row(Session.KEYBOARD).program
    swing: bool = False
    pedal: bool = False  # keyboard holds the sustain pedal through each chord
    ritard: bool = False  # slow down over the last bars
    comp_under_melody: str = ""  # keyboard comping while the keyboard also plays the tune ("" = keyboard pattern)

    @property
    def steps(self) -> int:
        return METER_STEPS[self.meter]

    def check(self) -> None:
        grids = [self.bass, self.guitar, self.keyboard]
        grids += [g for groove in (self.drums_light, self.drums_main, self.drums_full, self.drum_fill) for g in groove.values()]
        if self.comp_under_melody:
            grids.append(self.comp_under_melody)
        for grid in grids:
            if len(grid) != self.steps:
                raise ValueError(f"style {self.name}: pattern {grid!r} is not {self.steps} steps long")


STYLES: dict[str, Style] = {
    s.name: s
    for s in [
        Style(
            name="rock",
            meter="4/4",
            drums_light={KICK: "x.......x.......", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
            drums_main={KICK: "x......x..x.....", SNARE: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
            drums_full={KICK: "x......x..x.x...", SNARE: "....X.......X...", RIDE: "x.x.x.x.x.x.x.x.", OPEN_HAT: "..............x."},
            drum_fill={KICK: "x.......x.......", SNARE: "....x...xx.x....", HIGH_TOM: "............xx..", LOW_TOM: "..............xx"},
            bass="R-R-R-R-R-R-5-A-",
            guitar="D---D-U---U-D-U-",
            keyboard="C---c---C---c---",
            comp_under_melody="c-------c-------",
            guitar_program=27,
        ),
        Style(
            name="ballad",
            meter="4/4",
            drums_light={CLOSED_HAT: "x...x...x...x...", KICK: "x..............."},
            drums_main={KICK: "x.......x.x.....", SIDE_STICK: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
            drums_full={KICK: "x.......x.x.....", SNARE: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
            drum_fill={KICK: "x...............", SNARE: "....x...g.g.x.x.", MID_TOM: "..........x.....", LOW_TOM: "..............x."},
            bass="R-------R---5---",
            guitar="1-3-2-3-4-3-2-3-",
            keyboard="C-------c-------",
            comp_under_melody="c---------------",
            pedal=True,
            ritard=True,
        ),
        Style(
            name="waltz",
            meter="3/4",
            drums_light={CLOSED_HAT: "x...x...x..."},
            drums_main={KICK: "x...........", SIDE_STICK: "....x...x...", CLOSED_HAT: "x...x...x..."},
            drums_full={KICK: "x...........", SNARE: "....x...x...", CLOSED_HAT: "x.x.x.x.x.x."},
            drum_fill={KICK: "x...........", SNARE: "....x.x.x...", MID_TOM: "..........x.", LOW_TOM: "...........x"},
            bass="R-------5---",
            guitar="....D---D---",
            keyboard="....c---c---",
        ),
        Style(
            name="hymn",
            meter="3/4",
            drums_light={RIDE: "x..........."},
            drums_main={KICK: "x...........", SIDE_STICK: "........x...", CLOSED_HAT: "x...x...x..."},
            drums_full={KICK: "x.......x...", SNARE: "........x...", RIDE: "x...x...x..."},
            drum_fill={KICK: "x...........", SNARE: "....g.g.x.x.", LOW_TOM: "...........x"},
            bass="R-----------",
            guitar="1---2---3---",
            keyboard="....C-------",
            comp_under_melody="c-----------",
            keyboard_program=4,
            pedal=True,
            ritard=True,
        ),
        Style(
            name="folk68",
            meter="6/8",
            drums_light={CLOSED_HAT: "x.x.x.x.x.x."},
            drums_main={KICK: "x.....x.....", SNARE: "......x.....", CLOSED_HAT: "x.x.x.x.x.x."},
            drums_full={KICK: "x...x.x.....", SNARE: "......X.....", TAMBOURINE: "x.x.x.x.x.x.", RIDE: "x.....x....."},
            drum_fill={KICK: "x...........", SNARE: "......x.x.x.", MID_TOM: "..........x.", LOW_TOM: "...........x"},
            bass="R-----5-----",
            guitar="D-D-U-D-D-U-",
            keyboard="C-----c-----",
            comp_under_melody="c-----------",
        ),
        Style(
            name="pastoral68",
            meter="6/8",
            drums_light={TRIANGLE: "x..........."},
            drums_main={KICK: "x...........", SHAKER: "x.x.x.x.x.x.", TRIANGLE: "x..........."},
            drums_full={KICK: "x.....x.....", SIDE_STICK: "......x.....", SHAKER: "x.x.x.x.x.x."},
            drum_fill={KICK: "x...........", SIDE_STICK: "......x.x.x.", LOW_TOM: "...........x"},
            bass="R-----------",
            guitar="1-2-3-4-3-2-",
            keyboard="C-----------",
            comp_under_melody="c-----------",
            keyboard_program=4,
            pedal=True,
            ritard=True,
        ),
        Style(
            name="march",
            meter="4/4",
            drums_light={SNARE: "g.g.g.g.g.g.g.g."},
            drums_main={KICK: "x.......x.......", SNARE: "....x.xx....x.x.", CLOSED_HAT: "x...x...x...x..."},
            drums_full={KICK: "x...x...x...x...", SNARE: "X..xx.xxX..xx.xx", CRASH: "........x......."},
            drum_fill={KICK: "x.......x.......", SNARE: "x.x.x.x.xxxxxxxx"},
            bass="R---5---R---5---",
            guitar="....D-......D-..",
            keyboard="C---c---C---c---",
            comp_under_melody="c-------c-------",
            guitar_program=27,
        ),
        Style(
            name="bossa",
            meter="4/4",
            drums_light={CLOSED_HAT: "x.x.x.x.x.x.x.x."},
            drums_main={KICK: "x.....x.x.....x.", SIDE_STICK: "x..x..x...x..x..", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
            drums_full={KICK: "x.....x.x.....x.", SIDE_STICK: "x..x..x...x..x..", RIDE: "x.x.x.x.x.x.x.x."},
            drum_fill={KICK: "x.....x.........", SIDE_STICK: "x..x..x.........", MID_TOM: "........x.x.....", LOW_TOM: "............x.x."},
            bass="R-----5-R-----5-",
            guitar="c..c..c...c..c..",
            keyboard="....c-......c---",
            comp_under_melody="c-------........",
            keyboard_program=4,
        ),
        Style(
            name="swing",
            meter="4/4",
            drums_light={RIDE: "x...x.x.x...x.x.", PEDAL_HAT: "....x.......x..."},
            drums_main={RIDE: "x...x.x.x...x.x.", PEDAL_HAT: "....x.......x...", KICK: "x.......x.......", SNARE: "......g.......g."},
            drums_full={RIDE: "x...x.x.x...x.x.", PEDAL_HAT: "....x.......x...", KICK: "x...x...x...x...", SNARE: "....x.g.....x.g."},
            drum_fill={RIDE: "x...x.x.........", SNARE: "........x.x.x.x.", HIGH_TOM: "..........x.....", LOW_TOM: "..............x."},
            bass="R---3---5---A---",
            guitar="C-..c-..C-..c-..",
            keyboard="......c-.....c--",
            comp_under_melody="c-------........",
            guitar_program=27,
            swing=True,
        ),
        Style(
            name="reel",
            meter="4/4",
            drums_light={CLOSED_HAT: "..x...x...x...x.", KICK: "x.......x......."},
            drums_main={KICK: "x.......x.......", SNARE: "....x.......x...", CLOSED_HAT: "..x...x...x...x."},
            drums_full={KICK: "x...x...x...x...", SNARE: "....X.......X...", TAMBOURINE: "x.x.x.x.x.x.x.x.", OPEN_HAT: "..x...x...x...x."},
            drum_fill={KICK: "x.......x.......", SNARE: "....x...x.x.xxxx"},
            bass="R---....5---....",
            guitar="D-U-D-U-D-U-D-U-",
            keyboard="..c...c...c...c.",
        ),
    ]
}

for _style in STYLES.values():
    _style.check()
