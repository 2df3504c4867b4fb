"""The public-domain tunes in WAVE's library, written in the library notation (see ``notation.py``).

Melodies and harmonies are traditional or by composers who died more than a century ago; the band
arrangements are WAVE's own and come from ``arrange.py``. Tempos count quarter notes per minute.
"""

from __future__ import annotations

from pipeline.songs.arrange import Section, SongSpec
from pipeline.types import Session

KEYBOARD, GUITAR = Session.KEYBOARD, Session.GUITAR

CATALOG: tuple[SongSpec, ...] = (
    SongSpec(
        id="ode_to_joy",
        title="Ode to Joy",
        composer="Ludwig van Beethoven",
        public_domain_basis="composer died 1827",
        key="D major",
        mood=("joyful", "triumphant", "bright", "uplifting", "festive", "hopeful"),
        meter="4/4",
        tempo_bpm=112,
        style="rock",
        melody_session=KEYBOARD,
        sections={
            "A": Section(
                "F#5:1 F# G A | A G F# E | D D E F# | F#:1.5 E:.5 E:2 | F#:1 F# G A | A G F# E | D D E F# | "
                "E:1.5 D:.5 D:2",
                "D | A | D | D A | D | A | D | A D",
            ),
            "B": Section(
                "E5:1 E F# D | E F#:.5 G F#:1 D | E F#:.5 G F#:1 E | D E A4:2 | F#5:1 F# G A | A G F# E | "
                "D D E F# | E:1.5 D:.5 D:2",
                "A:2 D:2 | A:1 D:3 | A:1 D:2 A:1 | D:1 A:3 | D | A | D | A D",
            ),
        },
        form=("A", "B"),
        target_s=80,
    ),
    SongSpec(
        id="greensleeves",
        title="Greensleeves",
        composer="Traditional (English)",
        public_domain_basis="traditional",
        key="A minor",
        mood=("melancholic", "wistful", "tender", "nostalgic", "romantic", "gentle"),
        meter="6/8",
        tempo_bpm=120,
        style="folk68",
        melody_session=GUITAR,
        sections={
            "A": Section(
                "A4:.5 | C5:1 D:.5 E:.75 F:.25 E:.5 | D:1 B4:.5 G:.75 A:.25 B:.5 | C5:1 A4:.5 A:.75 G#:.25 A:.5 | "
                "B:1 G#:.5 E:1 A:.5 | C5:1 D:.5 E:.75 F:.25 E:.5 | D:1 B4:.5 G:.75 A:.25 B:.5 | "
                "C5:.75 B4:.25 A:.5 G#:.75 F#:.25 G#:.5 | A:1.5 A:1",
                "Am | G | Am E | E | Am | G | Am E | Am",
            ),
            "B": Section(
                "G5:1.5 G:.75 F#:.25 E:.5 | D:1 B4:.5 G:.75 A:.25 B:.5 | C5:1 A4:.5 A:.75 G#:.25 A:.5 | "
                "B:1 G#:.5 E:1.5 | G5:1.5 G:.75 F#:.25 E:.5 | D:1 B4:.5 G:.75 A:.25 B:.5 | "
                "C5:.75 B4:.25 A:.5 G#:.75 F#:.25 G#:.5 | A:1.5 A:1",
                "C | G | Am E | E | C | G | Am E | Am",
            ),
        },
        form=("A", "B"),
        target_s=80,
    ),
    SongSpec(
        id="scarborough_fair",
        title="Scarborough Fair",
        composer="Traditional (English)",
        public_domain_basis="traditional",
        key="D minor",
        mood=("misty", "haunting", "mysterious", "melancholic", "calm", "longing"),
        meter="3/4",
        tempo_bpm=100,
        style="waltz",
        melody_session=GUITAR,
        sections={
            "A": Section(
                "D4:2 D:1 | A:2 A:1 | E:1.5 F:.5 E:1 | D:3 | r:1 A:1 C5:1 | D:2 C:1 | A4:1 B:1 G:1 | A:3 | "
                "D5:2 D:1 | C:1 A4:1 A:1 | G:1.5 F:.5 E:1 | C:3 | D:2 A:1 | G:2 F:1 | E:1 D:1 C:1 | D:3",
                "Dm | Dm | C | Dm | Dm | F | G | Dm | Dm | F | C | Am | Dm | C | Am | Dm",
            ),
        },
        form=("A",),
        target_s=75,
    ),
    SongSpec(
        id="amazing_grace",
        title="Amazing Grace",
        composer="Traditional (American), tune \"New Britain\"",
        public_domain_basis="traditional (published 1829)",
        key="G major",
        mood=("peaceful", "hopeful", "solemn", "warm", "spiritual", "serene"),
        meter="3/4",
        tempo_bpm=84,
        style="hymn",
        melody_session=KEYBOARD,
        sections={
            "A": Section(
                "D4:1 | G:2 B:.5 G:.5 | B:2 A:1 | G:2 E:1 | D:2 D:1 | G:2 B:.5 G:.5 | B:2 A:1 | D5:3 | D:2 B4:1 | "
                "D5:2 B4:.5 G:.5 | B:2 A:1 | G:2 E:1 | D:2 D:1 | G:2 B:.5 G:.5 | B:2 A:1 | G:3 | r:2",
                "G | G:2 D:1 | C | G | G | G:2 D:1 | D | G | G | G:2 D:1 | C | G | Em | D | G | G",
            ),
        },
        form=("A",),
        target_s=80,
    ),
    SongSpec(
        id="canon_in_d",
        title="Canon in D",
        composer="Johann Pachelbel",
        public_domain_basis="composer died 1706",
        key="D major",
        mood=("serene", "romantic", "graceful", "warm", "tender", "elegant"),
        meter="4/4",
        tempo_bpm=66,
        style="ballad",
        melody_session=KEYBOARD,
        sections={
            "A": Section(
                "F#5:2 E:2 | D:2 C#:2 | B4:2 A:2 | B:2 C#5:2 | D5:1 F#:1 E:1 C#:1 | D:1 B4:1 C#5:1 A4:1 | "
                "B:1 D5:1 A4:1 F#:1 | G:1 B:1 A:1 C#5:1",
                "D A | Bm F#m | G D | G A | D A | Bm F#m | G D | G A",
            ),
            "B": Section(
                "A5:2 E:2 | F#:2 C#:2 | D:2 F#:2 | G:2 E:2 | F#5:.5 E D F# E C# A4 C#5 | "
                "D5:.5 C# B4 D5 C# A4 F# A | B4:.5 A G B A F# D F# | G4:.5 B D5 B4 C#5:2",
                "D A | Bm F#m | G D | G A | D A | Bm F#m | G D | G A",
            ),
        },
        form=("A", "B"),
        target_s=90,
        final_chord="D",
    ),
    SongSpec(
        id="morning_mood",
        title="Morning Mood (Peer Gynt)",
        composer="Edvard Grieg",
        public_domain_basis="composer died 1907",
        key="E major",
        mood=("calm", "fresh", "peaceful", "airy", "dawn", "gentle", "pastoral"),
        meter="6/8",
        tempo_bpm=96,
        style="pastoral68",
        melody_session=KEYBOARD,
        sections={
            "A": Section(
                "B5:.75 G#:.25 F#:.5 E F# G# | B:.75 G#:.25 F#:.5 E F# G# | F# G# B G# B C#6 | "
                "G#5 C#6 B5 G# F# E | B:.75 G#:.25 F#:.5 E F# G# | B:.75 G#:.25 F#:.5 E F# G# | "
                "F# G# B G# F# G# | E:3",
                "Eadd9 | Eadd9 | E | C#m | Eadd9 | Eadd9 | B | E",
            ),
            "B": Section(
                "G#5:.75 E:.25 D#:.5 C# D# E | G#:.75 E:.25 D#:.5 C# D# E | D# E G# E G# A | E A G# E D# C# | "
                "F#:.75 D#:.25 C#:.5 B4 C#5 D# | F#:.75 D#:.25 C#:.5 B4 C#5 D# | E F# G# A B D# | E:3",
                "C#madd9 | C#madd9 | G#m | A | B | B | A:1.5 B:1.5 | E",
            ),
        },
        form=("A", "B", "A"),
        target_s=95,
    ),
    SongSpec(
        id="mountain_king",
        title="In the Hall of the Mountain King (Peer Gynt)",
        composer="Edvard Grieg",
        public_domain_basis="composer died 1907",
        key="B minor",
        mood=("mischievous", "tense", "dark", "suspenseful", "energetic", "dramatic"),
        meter="4/4",
        tempo_bpm=112,
        end_tempo_bpm=172,
        style="march",
        melody_session=GUITAR,
        sections={
            "A": Section(
                "B3:.5 C#4 D E F# D F#:1 | F:.5 C# F:1 E:.5 C E:1 | B3:.5 C#4 D E F# D F# B | A F# D F# A:2",
                "Bm | C#7 Am | Bm | D",
            ),
            "B": Section(
                "F#4:.5 G# A# B C#5 A#4 C#5:1 | D:.5 A#4 D5:1 C#:.5 A#4 C#5:1 | F#4:.5 G# A# B C#5 A#4 C#5 F# | "
                "E C# A#4 C#5 E:2",
                "F# | F# | F# | F#7",
            ),
        },
        form=("A", "A", "B", "A"),
        target_s=70,
        final_chord="Bm",
    ),
    SongSpec(
        id="gymnopedie_1",
        title="Gymnopédie No. 1",
        composer="Erik Satie",
        public_domain_basis="composer died 1925; published 1888",
        key="D major",
        mood=("dreamy", "calm", "lonely", "tranquil", "contemplative", "soft"),
        meter="3/4",
        tempo_bpm=72,
        style="hymn",
        melody_session=KEYBOARD,
        sections={
            "A": Section(
                "r:1 F#5:1 A:1 | G:1 F#:1 C#:1 | B4:1 C#5:1 D:1 | A4:3 | F#:3 | r:3 | r:3 | r:3",
                "Gmaj7 | Dmaj7 | Gmaj7 | Dmaj7 | Gmaj7 | Dmaj7 | Gmaj7 | Dmaj7",
            ),
            "B": Section(
                "r:1 F#5:1 A:1 | G:1 F#:1 C#:1 | B4:1 C#5:1 D:1 | A4:3 | C#5:3 | F#5:3 | E:3 | r:3",
                "Gmaj7 | Dmaj7 | Gmaj7 | Dmaj7 | F#m | Bm | Em | A",
            ),
        },
        form=("A", "B", "A"),
        target_s=85,
    ),
    SongSpec(
        id="eine_kleine_nachtmusik",
        title="Eine kleine Nachtmusik",
        composer="Wolfgang Amadeus Mozart",
        public_domain_basis="composer died 1791",
        key="G major",
        mood=("elegant", "playful", "bright", "lively", "cheerful", "graceful"),
        meter="4/4",
        tempo_bpm=132,
        style="march",
        melody_session=KEYBOARD,
        sections={
            "A": Section(
                "G4:1 r:.5 D:.5 G:1 r:.5 D:.5 | G:.5 D G B D5:2 | C:1 r:.5 A4:.5 C5:1 r:.5 A4:.5 | "
                "C5:.5 A4 F# A D:2 | G:1 G B:.5 A G A | B:1 B D5:.5 C B4 C5 | D:1 G4 A F# | G:2 r:2",
                "G | G | D7 | D7 | G | G:2 C:2 | G:2 D:2 | G",
            ),
        },
        form=("A",),
        target_s=70,
    ),
    SongSpec(
        id="minuet_in_g",
        title="Minuet in G",
        composer="Christian Petzold (once attributed to J. S. Bach)",
        public_domain_basis="composer died 1733",
        key="G major",
        mood=("graceful", "light", "elegant", "gentle", "cheerful", "innocent"),
        meter="3/4",
        tempo_bpm=120,
        style="waltz",
        melody_session=KEYBOARD,
        sections={
            "A": Section(
                "D5:1 G4:.5 A B C5 | D:1 G4 G | E5:1 C:.5 D E F# | G:1 G4 G | C5:1 D:.5 C B4 A | "
                "B:1 C5:.5 B4 A G | F#:1 G:.5 A B G | A:3 | D5:1 G4:.5 A B C5 | D:1 G4 G | E5:1 C:.5 D E F# | "
                "G:1 G4 G | C5:1 D:.5 C B4 A | B:1 C5:.5 B4 A G | A:1 B:.5 A G F# | G:3",
                "G | G | C | G | C | G | D | D | G | G | C | G | C | G | D7 | G",
            ),
        },
        form=("A",),
        target_s=65,
    ),
    SongSpec(
        id="when_the_saints",
        title="When the Saints Go Marching In",
        composer="Traditional (American)",
        public_domain_basis="traditional",
        key="C major",
        mood=("festive", "cheerful", "upbeat", "lively", "warm", "celebratory"),
        meter="4/4",
        tempo_bpm=160,
        style="swing",
        melody_session=KEYBOARD,
        sections={
            "A": Section(
                "C5:1 E F | G:4 | r:1 C E F | G:4 | r:1 C E F | G:2 E | C E | D:4 | r:1 E E D | C:3 C:1 | "
                "E:2 G | G:1 F:3 | r:2 E:1 F | G:2 E | C D | C:1",
                "C | C | C | C | C | C | G7 | G7 | C | C7 | F | F:2 C:2 | C | C:2 G7:2 | C",
            ),
        },
        form=("A",),
        target_s=80,
    ),
    SongSpec(
        id="drunken_sailor",
        title="Drunken Sailor",
        composer="Traditional (sea shanty)",
        public_domain_basis="traditional",
        key="D minor",
        mood=("rowdy", "energetic", "boisterous", "adventurous", "stormy", "wild"),
        meter="4/4",
        tempo_bpm=168,
        style="reel",
        melody_session=GUITAR,
        sections={
            "A": Section(
                "A4:.5 A:.25 A A:.5 A:.25 A A:.5 D F A | G:.5 G:.25 G G:.5 G:.25 G G:.5 C E G | "
                "A:.5 A:.25 A A:.5 A:.25 A A:.5 B C5 D | C A4 G E D:1 D",
                "Dm | C | Dm | C:2 Dm:2",
            ),
            "B": Section(
                "A4:1 A A:.5 D F A | G:1 G G:.5 C E G | A:1 A A:.5 B C5 D | C A4 G E D:1 D",
                "Dm | C | Dm | C:2 Dm:2",
            ),
        },
        form=("A", "B"),
        target_s=70,
    ),
    SongSpec(
        id="sakura_sakura",
        title="Sakura Sakura",
        composer="Traditional (Japanese)",
        public_domain_basis="traditional",
        key="A minor",
        mood=("delicate", "serene", "nostalgic", "gentle", "floral", "wistful"),
        meter="4/4",
        tempo_bpm=64,
        style="ballad",
        melody_session=GUITAR,
        sections={
            "A": Section(
                "A4:1 A B:2 | A:1 A B:2 | A:1 B C5 B4 | A:1 B:.5 A F:2 | E:1 C E F | E:1 E:.5 C B3:2 | "
                "A4:1 B C5 B4 | A:1 B:.5 A F:2 | E:1 C E F | E:1 E:.5 C B3:2 | A4:1 A B:2 | A:1 A B:2 | "
                "E:1 F B:.5 A F:1 | E:4",
                "Am | Am | Am | Am:2 Dm:2 | Am | Am:2 E:2 | Am | Am:2 Dm:2 | Am | Am:2 E:2 | Am | Am | "
                "Am:2 Dm:2 | Am",
            ),
        },
        form=("A",),
        target_s=90,
    ),
    SongSpec(
        id="twinkle_twinkle",
        title="Twinkle, Twinkle, Little Star",
        composer="Traditional (French melody \"Ah ! vous dirai-je, maman\")",
        public_domain_basis="traditional (published 1761)",
        key="C major",
        mood=("dreamy", "playful", "innocent", "starry", "relaxed", "sweet"),
        meter="4/4",
        tempo_bpm=118,
        style="bossa",
        melody_session=KEYBOARD,
        sections={
            "A": Section(
                "C5:1 C G G | A A G:2 | F:1 F E E | D D C:2 | G:1 G F F | E E D:2 | G:1 G F F | E E D:2 | "
                "C:1 C G G | A A G:2 | F:1 F E E | D D C:2",
                "Cmaj7 | Fmaj7:2 Cmaj7:2 | Fmaj7:2 Cmaj7:2 | G7:2 Cmaj7:2 | Cmaj7:2 Fmaj7:2 | Cmaj7:2 G7:2 | "
                "Cmaj7:2 Fmaj7:2 | Cmaj7:2 G7:2 | Cmaj7 | Fmaj7:2 Cmaj7:2 | Fmaj7:2 Cmaj7:2 | G7:2 Cmaj7:2",
            ),
        },
        form=("A",),
        target_s=75,
    ),
    SongSpec(
        id="auld_lang_syne",
        title="Auld Lang Syne",
        composer="Traditional (Scottish)",
        public_domain_basis="traditional",
        key="F major",
        mood=("nostalgic", "warm", "bittersweet", "sentimental", "reflective", "tender"),
        meter="4/4",
        tempo_bpm=76,
        style="ballad",
        melody_session=KEYBOARD,
        sections={
            "A": Section(
                "C4:1 | F:1.5 F:.5 F:1 A | G:1.5 F:.5 G:1 A | F:1.5 F:.5 A:1 C5 | D:3 D:1 | C:1.5 A4:.5 A:1 F | "
                "G:1.5 F:.5 G:1 A:.5 G | F:1.5 D:.5 D:1 C | F:3",
                "F | C | F | Bb | F | C | Bb:2 C7:2 | F",
            ),
            "B": Section(
                "C5:1 | C:1.5 A4:.5 A:1 F | G:1.5 F:.5 G:1 D5 | C:1.5 A4:.5 A:1 C5 | D:3 D:1 | C:1.5 A4:.5 A:1 F | "
                "G:1.5 F:.5 G:1 A:.5 G | F:1.5 D:.5 D:1 C | F:3",
                "F | C:2 Gm:2 | F | Bb | F | C | Bb:2 C7:2 | F",
            ),
        },
        form=("A", "B"),
        target_s=90,
    ),
    SongSpec(
        id="row_your_boat",
        title="Row, Row, Row Your Boat",
        composer="Traditional (American)",
        public_domain_basis="traditional (published 1852)",
        key="C major",
        mood=("playful", "carefree", "cheerful", "light", "sunny", "innocent"),
        meter="6/8",
        tempo_bpm=150,
        style="folk68",
        melody_session=GUITAR,
        sections={
            "A": Section(
                "C4:1.5 C | C:1 D:.5 E:1.5 | E:1 D:.5 E:1 F:.5 | G:3 | C5:.5 C C G4 G G | E E E C C C | "
                "G:1 F:.5 E:1 D:.5 | C:3",
                "C | C | C | G | C | Am | G7 | C",
            ),
        },
        form=("A",),
        target_s=60,
    ),
)

SPECS: dict[str, SongSpec] = {spec.id: spec for spec in CATALOG}
