"""Turns a song written in the library notation into a four-session band arrangement, in beats.

Form: a short intro on the song's closing chords, the tune's sections repeated to the song's target length, a
two-bar tag and a held final chord where the tune comes home to its key note. Sections change density and register:
a sparse, low breakdown in the middle of longer songs, busier and higher comping in the full sections; the section
before the last harmonises the tune a third or sixth below on the other melodic session and the last one doubles
it. Drums vary their bars (answers in every second bar, half-bar fills at phrase ends inside a section, a full fill
into every new section), velocities follow the metre, and every note is placed a few milliseconds off the grid by
role (:mod:`pipeline.songs.humanise`). All of it is decided by a seeded generator, so a seed always gives the same
arrangement.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from fractions import Fraction

from pipeline.session_table import rows
from pipeline.songs.humanise import humanise
from pipeline.songs.notation import (
    Chord,
    ChordSpan,
    Melody,
    parse_chord,
    parse_chords,
    parse_melody,
    pitch_class,
)
from pipeline.songs.styles import CRASH, KICK, METER_BEATS, OPEN_HAT, SNARE, STEPS_PER_BEAT, STYLES, Style
from pipeline.types import SESSION_RANGES, Session

MIN_SONG_S, MAX_SONG_S = 45.0, 120.0

DRUM_VELOCITY = {"X": 112, "x": 92, "g": 48}
STRUM_STEP = Fraction(1, 64)  # beats between strings of a strum
BASS_ROOT_LOW = 33  # roots land on A1..G#2
GUITAR_ROOT_LOW = 40  # the strum's lowest string lands on E2..D#3
KEYBOARD_CENTRE, KEYBOARD_LOW_CENTRE, GUITAR_CENTRE = 64, 53, 60
REGISTER_SHIFT = {"light": -5, "main": 0, "full": 5}  # semitones the comping centre moves with the section's density
COMP_UNDER_MELODY_LEVEL = 0.6
HARMONY_LEVEL = 0.62
DOUBLING_LEVEL = 0.7
MELODY_ACCENT_DEPTH = 0.5  # the tune follows the metre more gently than the band
VELOCITY_SPREAD = 3  # +- a few velocity steps, seeded, so repeated hits are not identical


@dataclass(frozen=True)
class Section:
    melody: str
    chords: str


@dataclass(frozen=True)
class SongSpec:
    id: str
    title: str
    composer: str
    public_domain_basis: str
    key: str  # "D major", "A minor"
    mood: tuple[str, ...]
    meter: str
    tempo_bpm: float  # quarter notes per minute, as MIDI counts tempo
    style: str
    melody_session: Session
    sections: dict[str, Section]
    form: tuple[str, ...]
    target_s: float = 75.0
    end_tempo_bpm: float | None = None  # a gradual tempo change from the first bar to the tag
    final_chord: str | None = None  # the held last chord, when the tune's last chord is not the home chord


@dataclass(frozen=True)
class Steer:
    """How a mood leans the arrangement: the tempo within the song's range and how busy the band plays."""

    tempo_factor: float = 1.0  # multiplies every tempo of the song
    density: float = 0.0  # -1 sparser .. +1 busier


@dataclass
class BeatNote:
    start: Fraction
    duration: Fraction
    pitch: int
    velocity: int
    role: str = ""  # what the note does, for humanising: melody, harmony, comp, bass, kick, snare, cymbal, tom


@dataclass
class ArrangedPart:
    session: Session
    program: int
    channel: int
    pan: float
    notes: list[BeatNote] = field(default_factory=list)
    pedal: list[tuple[Fraction, bool]] = field(default_factory=list)


@dataclass(frozen=True)
class SectionMark:
    """Where one section of the arrangement lies on the beat line, and whether the tune is heard in it."""

    label: str
    start: Fraction
    bars: int
    has_melody: bool


@dataclass
class Arrangement:
    spec: SongSpec
    tempo_changes: list[tuple[Fraction, float]]  # (beat, quarter notes per minute), first at beat 0
    parts: dict[Session, ArrangedPart]
    total_beats: Fraction
    sections: list[SectionMark] = field(default_factory=list)

    def seconds_at(self, beat: Fraction) -> float:
        seconds, changes = 0.0, self.tempo_changes
        for (at, bpm), (nxt, _) in zip(changes, changes[1:] + [(Fraction(10**9), 0.0)]):
            if beat <= at:
                break
            seconds += float(min(beat, nxt) - at) * 60.0 / bpm
        return seconds

    @property
    def duration_s(self) -> float:
        return self.seconds_at(self.total_beats)


@dataclass
class _Plan:
    """One section of the arrangement, laid out on the song's beat line."""

    label: str
    start: Fraction
    bars: int
    chords: list[ChordSpan]  # absolute beats
    melody: Melody | None = None
    intensity: str = "main"  # light | main | full
    dynamics: float = 0.85
    fill: bool = True
    crash: bool = False
    doubled: bool = False
    harmonised: bool = False


# --------------------------------------------------------------------------------------------------- voicing


def _nearest_voicing(pitch_classes: list[int], centre: float, previous: list[int] | None) -> list[int]:
    """The closed-position inversion nearest ``centre``, preferring small moves from the previous chord."""
    best: tuple[float, list[int]] | None = None
    for rotation in range(len(pitch_classes)):
        ordered = pitch_classes[rotation:] + pitch_classes[:rotation]
        for octave in range(2, 8):
            voicing, last = [], -1
            for pc in ordered:
                pitch = 12 * octave + pc
                while pitch <= last:
                    pitch += 12
                voicing.append(pitch)
                last = pitch
            mean = sum(voicing) / len(voicing)
            cost = abs(mean - centre)
            if previous:
                cost += 0.5 * abs(mean - sum(previous) / len(previous))
            if best is None or cost < best[0]:
                best = (cost, voicing)
    assert best is not None
    return best[1]


def _chord_tones(chord: Chord) -> list[int]:
    return [(chord.root + t) % 12 for t in chord.tones]


def _register(pitch_class: int, low: int) -> int:
    return low + (pitch_class - low) % 12


# ---------------------------------------------------------------------------------------------- arrangement


def breakdown_end(breakdown: int | None, sections: int) -> int:
    """Index of the last section of the pass that holds the breakdown (sections after it build up)."""
    return 10**6 if breakdown is None else breakdown + sections - 1


class _Arranger:
    def __init__(self, spec: SongSpec, seed: int = 0, steer: Steer | None = None) -> None:
        self.spec = spec
        self.steer = steer or Steer()
        # A string seed is hashed with SHA-512 by ``random``: the same on every run and machine.
        self.rng = random.Random(f"{spec.id}:{seed}")
        self.style: Style = STYLES[spec.style]
        if self.style.meter != spec.meter:
            raise ValueError(f"{spec.id}: style {spec.style} is in {self.style.meter}, the song in {spec.meter}")
        self.bar = METER_BEATS[spec.meter]
        self.step = Fraction(1, STEPS_PER_BEAT)
        self.sections: dict[str, tuple[Melody, list[ChordSpan]]] = {}
        for label, section in spec.sections.items():
            try:
                melody = parse_melody(section.melody, self.bar)
                chords = parse_chords(section.chords, self.bar)
            except ValueError as exc:
                raise ValueError(f"{spec.id} section {label}: {exc}") from exc
            chord_bars = sum(c.duration for c in chords) / self.bar
            if chord_bars != melody.bars:
                raise ValueError(f"{spec.id} {label}: {melody.bars} melody bars but {chord_bars} chord bars")
            self.sections[label] = (melody, chords)
        other = Session.GUITAR if spec.melody_session == Session.KEYBOARD else Session.KEYBOARD
        self.double_session = other
        programs = {Session.GUITAR: self.style.guitar_program, Session.KEYBOARD: self.style.keyboard_program}
        self.parts = {r.session: ArrangedPart(r.session, programs.get(r.session, r.program), r.midi_channel, r.pan)
                      for r in rows()}
        self._voicings: dict[tuple[Session, float], list[int]] = {}

    # ---- layout

    def plan(self) -> tuple[list[_Plan], list[tuple[Fraction, float]]]:
        spec, bar = self.spec, self.bar
        mean_bpm = (spec.tempo_bpm + (spec.end_tempo_bpm or spec.tempo_bpm)) / 2
        bar_s = float(bar) * 60.0 / mean_bpm
        first_chords = self.sections[spec.form[0]][1]
        last_chords = self.sections[spec.form[-1]][1]
        intro_bars = 4 if bar_s * 4 <= 10.0 else 2
        cycle_bars = sum(self.sections[label][0].bars for label in spec.form)
        outro_bars = 3
        cycles = max(1, round((spec.target_s / bar_s - intro_bars - outro_bars) / cycle_bars))
        while (intro_bars + outro_bars + cycles * cycle_bars) * bar_s < MIN_SONG_S + 3:
            cycles += 1
        while cycles > 1 and (intro_bars + outro_bars + cycles * cycle_bars) * bar_s > MAX_SONG_S - 5:
            cycles -= 1

        plans: list[_Plan] = []
        position = Fraction(0)
        plans.append(_Plan("intro", position, intro_bars, self._tail(first_chords, intro_bars, position),
                           intensity="light", dynamics=0.7))
        position += intro_bars * bar
        labels = list(spec.form) * cycles
        sections = len(spec.form)
        breakdown = sections if cycles >= 3 else None  # the first section of the second pass drops back
        busier, sparser = self.steer.density > 0.3, self.steer.density < -0.3
        for index, label in enumerate(labels):
            melody, chords = self.sections[label]
            last = index == len(labels) - 1
            plan = _Plan(label, position, melody.bars, self._shift(chords, position), melody)
            if index == 0:
                plan.intensity, plan.dynamics, plan.crash = ("light" if sparser else "main"), 0.8, True
            elif last:
                plan.intensity, plan.dynamics, plan.crash, plan.doubled = "full", 1.0, True, True
            elif index == breakdown:
                plan.intensity, plan.dynamics = ("main" if busier else "light"), 0.72
            elif label != spec.form[0] or index > breakdown_end(breakdown, sections) or busier:
                plan.intensity, plan.dynamics, plan.crash = "full", 0.95, True
            else:
                plan.intensity, plan.dynamics = ("light" if sparser else "main"), 0.88
            plan.harmonised = index == len(labels) - 2 and index != breakdown
            plans.append(plan)
            position += melody.bars * bar
        plans.append(_Plan("tag", position, 2, self._tail(last_chords, 2, position), intensity="main",
                           dynamics=0.85, fill=False, crash=True))
        position += 2 * bar
        final_chord = parse_chord(spec.final_chord)[0] if spec.final_chord else last_chords[-1].chord
        plans.append(_Plan("end", position, 1, [ChordSpan(position, bar, final_chord)], intensity="main",
                           dynamics=0.8, fill=False, crash=True))
        return plans, self._tempo_map(position, position + bar)

    def _shift(self, chords: list[ChordSpan], offset: Fraction) -> list[ChordSpan]:
        return [ChordSpan(c.start + offset, c.duration, c.chord) for c in chords]

    def _tail(self, chords: list[ChordSpan], bars: int, offset: Fraction) -> list[ChordSpan]:
        cut = sum(c.duration for c in chords) - bars * self.bar
        return [ChordSpan(c.start - cut + offset, c.duration, c.chord) for c in chords if c.start >= cut]

    def _tempo_map(self, tag_start: Fraction, end: Fraction) -> list[tuple[Fraction, float]]:
        spec, factor = self.spec, self.steer.tempo_factor
        changes: list[tuple[Fraction, float]] = [(Fraction(0), round(spec.tempo_bpm * factor, 2))]
        if spec.end_tempo_bpm:
            bars = int(tag_start / self.bar)
            for index in range(1, bars + 1):
                bpm = spec.tempo_bpm + (spec.end_tempo_bpm - spec.tempo_bpm) * index / bars
                changes.append((index * self.bar, round(bpm * factor, 2)))
        if self.style.ritard:
            final_bpm = changes[-1][1]
            start = end - 2 * self.bar
            beats = int(end - start)
            for index in range(1, beats + 1):
                changes.append((start + index, round(final_bpm * (1 - 0.3 * index / beats), 2)))
        return changes

    # ---- playing

    def _time(self, beat: Fraction) -> Fraction:
        """Swing moves off-beat eighths two thirds of the way through the beat."""
        if self.style.swing and beat % 1 == Fraction(1, 2):
            return beat + Fraction(1, 6)
        return beat

    def _grid(self, grid: str, bar_start: Fraction) -> list[tuple[Fraction, Fraction, str]]:
        """(start, length, symbol) for each event of a one-bar pattern; ``-`` extends the event before it."""
        events: list[tuple[Fraction, Fraction, str]] = []
        for index, symbol in enumerate(grid):
            if symbol == "-" and events:
                start, length, sym = events[-1]
                events[-1] = (start, length + self.step, sym)
            elif symbol not in ".-":
                events.append((bar_start + index * self.step, self.step, symbol))
        return events

    def _chord_at(self, chords: list[ChordSpan], beat: Fraction) -> ChordSpan:
        for span in chords:
            if span.start <= beat < span.start + span.duration:
                return span
        return chords[-1]

    def _add(self, session: Session, start: Fraction, end: Fraction, pitch: int, velocity: float, role: str) -> None:
        low, high = SESSION_RANGES[session]
        if not low <= pitch <= high:
            raise ValueError(f"{self.spec.id}: {session.value} pitch {pitch} outside {low}-{high}")
        start, end = self._time(start), self._time(end)
        velocity += self.rng.randint(-VELOCITY_SPREAD, VELOCITY_SPREAD)
        velocity = max(1, min(127, round(velocity)))
        self.parts[session].notes.append(BeatNote(start, end - start, pitch, velocity, role))

    def _accent(self, beat: Fraction, depth: float = 1.0) -> float:
        """Velocity factor of the metre at ``beat``: the downbeat strongest, then the other main beats, then
        off-beats; ``depth`` scales how far the weaker positions drop below the downbeat."""
        position = beat % self.bar
        if self.spec.meter == "6/8":
            main, secondary = Fraction(3, 2), Fraction(1, 2)
        else:
            main, secondary = Fraction(2) if self.spec.meter == "4/4" else self.bar, Fraction(1)
        if position == 0:
            weight = 1.0
        elif position % main == 0:
            weight = 0.93
        elif position % secondary == 0:
            weight = 0.87
        elif position % (secondary / 2) == 0:
            weight = 0.8
        else:
            weight = 0.75
        return 1.0 - depth * (1.0 - weight)

    def drums(self, plan: _Plan) -> None:
        grooves = {"light": self.style.drums_light, "main": self.style.drums_main, "full": self.style.drums_full}
        groove = grooves[plan.intensity]
        answer = self._answer(groove)
        for bar_index in range(plan.bars):
            bar_start = plan.start + bar_index * self.bar
            if plan.label == "end":
                pattern = {KICK: "x" + "." * (self.style.steps - 1)}
            elif plan.fill and bar_index == plan.bars - 1:
                pattern = self.style.drum_fill
            elif bar_index % 4 == 3:
                pattern = self._half_fill(groove)
            elif bar_index % 2 == 1:
                pattern = answer
            else:
                pattern = groove
            for key, grid in pattern.items():
                role = "kick" if key == KICK else "snare" if key == SNARE else "drum"
                for start, _, symbol in self._grid(grid.replace("-", "."), bar_start):
                    velocity = DRUM_VELOCITY[symbol] * plan.dynamics * self._accent(start)
                    self._add(Session.DRUMS, start, start + self.step, key, velocity, role)
        if plan.crash:
            self._add(Session.DRUMS, plan.start, plan.start + self.step, CRASH, 110 * plan.dynamics, "cymbal")

    def _answer(self, groove: dict[int, str]) -> dict[int, str]:
        """The groove's second bar: one extra kick late in the bar, or an open hat on the last off-beat."""
        steps = self.style.steps
        answer = dict(groove)
        kick = list(answer.get(KICK, "." * steps))
        free = [i for i in range(steps // 2, steps) if kick[i] == "." and i % 2 == 0]
        if free and self.rng.random() < 0.6:
            kick[self.rng.choice(free)] = "x"
            answer[KICK] = "".join(kick)
        else:
            hat = list(answer.get(OPEN_HAT, "." * steps))
            hat[steps - 2] = "x"
            answer[OPEN_HAT] = "".join(hat)
        return answer

    def _half_fill(self, groove: dict[int, str]) -> dict[int, str]:
        """The groove for the first half of the bar, the style's fill for the second: the end of a phrase."""
        half = self.style.steps // 2
        keys = set(groove) | set(self.style.drum_fill)
        return {key: groove.get(key, "." * self.style.steps)[:half] + self.style.drum_fill.get(key, "." * half * 2)[half:]
                for key in keys}

    def bass(self, plan: _Plan) -> None:
        grid = "R" + "-" * (self.style.steps - 1) if plan.label == "end" else self.style.bass
        events: list[tuple[Fraction, Fraction, str]] = []
        for bar_index in range(plan.bars):
            events += self._grid(grid, plan.start + bar_index * self.bar)
        starts = {e[0] for e in events}
        events += [(c.start, c.duration, "R") for c in plan.chords if c.start not in starts]
        events.sort()
        change_points = sorted({c.start for c in plan.chords} | {plan.start + plan.bars * self.bar})
        for start, length, symbol in events:
            span = self._chord_at(plan.chords, start)
            end = min([start + length] + [p for p in change_points if p > start])
            root = _register(span.chord.root, BASS_ROOT_LOW)
            if symbol == "R":
                pitch = _register(span.chord.bass, BASS_ROOT_LOW)
            elif symbol == "5":
                pitch = root + 7
            elif symbol == "8":
                pitch = root + 12
            elif symbol == "3":
                pitch = root + span.chord.tones[1]
            else:  # approach the next chord from a semitone below
                following = self._chord_at(plan.chords, span.start + span.duration)
                target = _register(following.chord.bass, BASS_ROOT_LOW)
                pitch = target - 1 if following is not span else root + 7
            velocity = 96 * plan.dynamics * self._accent(start)
            self._add(Session.BASS, start, end - self.step / 4, pitch, velocity, "bass")

    def comp(self, session: Session, plan: _Plan, grid: str, centre: float, level: float = 1.0) -> None:
        if plan.label == "end":
            grid = ("D" if session == Session.GUITAR else "C") + "-" * (self.style.steps - 1)
        for bar_index in range(plan.bars):
            for start, length, symbol in self._grid(grid, plan.start + bar_index * self.bar):
                span = self._chord_at(plan.chords, start)
                end = min(start + length, span.start + span.duration)
                voicing = self._voicing(session, span.chord, centre)
                loud = symbol in "CDU12345"
                velocity = (84 if loud else 64) * plan.dynamics * self._accent(start) * level
                if symbol in "Cc":
                    notes = [(start, p) for p in voicing]
                elif symbol in "DdUu":
                    strings = voicing if symbol in "Dd" else list(reversed(voicing[-3:]))
                    notes = [(start + i * STRUM_STEP, p) for i, p in enumerate(strings)]
                    velocity *= 1.0 if symbol in "Dd" else 0.8
                else:
                    notes = [(start, voicing[min(int(symbol), len(voicing)) - 1])]
                for note_start, pitch in notes:
                    self._add(session, note_start, max(end, note_start + self.step) - self.step / 8, pitch, velocity,
                              "comp")

    def _voicing(self, session: Session, chord: Chord, centre: float) -> list[int]:
        upper = _nearest_voicing(_chord_tones(chord), centre, self._voicings.get((session, centre)))
        self._voicings[(session, centre)] = upper
        if session == Session.GUITAR:
            low = _register(chord.bass, GUITAR_ROOT_LOW)
            return [low] + [p for p in upper if p > low + 4]
        return upper

    def melody(self, session: Session, plan: _Plan, transpose: int, level: float, role: str = "melody") -> None:
        assert plan.melody is not None
        for note in plan.melody.notes:
            start = plan.start + note.start
            end = start + note.duration * Fraction(23, 25)
            velocity = 92 * plan.dynamics * level * self._accent(start, MELODY_ACCENT_DEPTH)
            self._add(session, start, end, note.pitch + transpose, velocity, role)

    def harmony(self, session: Session, plan: _Plan, level: float) -> None:
        """A second voice under the tune: on each note the nearest chord tone a third to a sixth below it."""
        assert plan.melody is not None
        low, high = SESSION_RANGES[session]
        for note in plan.melody.notes:
            start = plan.start + note.start
            tones = set(self._chord_at(plan.chords, start).chord.pitch_classes)
            below = [p for p in range(note.pitch - 9, note.pitch - 2) if p % 12 in tones]
            if not below:
                continue
            pitch = below[-1]
            while pitch > high:
                pitch -= 12
            while pitch < low:
                pitch += 12
            end = start + note.duration * Fraction(23, 25)
            self._add(session, start, end, pitch, 92 * plan.dynamics * level * self._accent(start, MELODY_ACCENT_DEPTH),
                      "harmony")

    def resolve(self, plan: _Plan, lead: Session, last_pitch: int) -> None:
        """The tune comes home: the key note (or the final chord's root) held through the last bar."""
        home = pitch_class(self.spec.key.split()[0])
        chord = plan.chords[-1].chord
        if home not in chord.pitch_classes:
            home = chord.root
        low, high = SESSION_RANGES[lead]
        pitch = min((p for p in range(low, high + 1) if p % 12 == home), key=lambda p: abs(p - last_pitch))
        self._add(lead, plan.start, plan.start + self.bar - self.step, pitch, 84 * plan.dynamics, "melody")

    def doubling_transpose(self, melody: Melody) -> int | None:
        low, high = SESSION_RANGES[self.double_session]
        pitches = [n.pitch for n in melody.notes]
        for shift in (-12, 0, 12):
            if low <= min(pitches) + shift and max(pitches) + shift <= high - 6:
                return shift
        return None

    def pedal(self, plans: list[_Plan], end: Fraction) -> None:
        events = self.parts[Session.KEYBOARD].pedal
        for plan in plans:
            for span in plan.chords:
                if events:
                    events.append((self._time(span.start), False))
                events.append((self._time(span.start) + Fraction(1, 8), True))
        events.append((end, False))

    def arrange(self) -> Arrangement:
        plans, tempo_changes = self.plan()
        style, lead = self.style, self.spec.melody_session
        last_tune_pitch = None
        for plan in plans:
            self.drums(plan)
            self.bass(plan)
            doubling = self.doubling_transpose(plan.melody) if plan.melody and plan.doubled else None
            plays_tune = {lead} if plan.melody else set()
            if doubling is not None or (plan.melody and plan.harmonised):
                plays_tune.add(self.double_session)
            shift = REGISTER_SHIFT[plan.intensity]
            for session in (Session.GUITAR, Session.KEYBOARD):
                if session not in plays_tune:
                    grid = style.guitar if session == Session.GUITAR else style.keyboard
                    centre = GUITAR_CENTRE if session == Session.GUITAR else KEYBOARD_CENTRE
                    self.comp(session, plan, grid, centre + shift)
                elif session == Session.KEYBOARD:
                    self.comp(session, plan, style.comp_under_melody or style.keyboard, KEYBOARD_LOW_CENTRE,
                              COMP_UNDER_MELODY_LEVEL)
            if plan.melody:
                self.melody(lead, plan, 0, 1.0)
                last_tune_pitch = plan.melody.notes[-1].pitch
                if doubling is not None:
                    self.melody(self.double_session, plan, doubling, DOUBLING_LEVEL, "harmony")
                elif plan.harmonised:
                    self.harmony(self.double_session, plan, HARMONY_LEVEL)
            if plan.label == "end" and last_tune_pitch is not None:
                self.resolve(plan, lead, last_tune_pitch)
        total = plans[-1].start + self.bar
        if style.pedal:
            self.pedal(plans, total)
        for part in self.parts.values():
            part.notes.sort(key=lambda n: (n.start, n.pitch))
        sections = [SectionMark(p.label, p.start, p.bars, p.melody is not None) for p in plans]
        arrangement = Arrangement(self.spec, tempo_changes, self.parts, total, sections)
        humanise(arrangement, self.rng)
        return arrangement


def arrange(spec: SongSpec, seed: int = 0, steer: Steer | None = None) -> Arrangement:
    """Arrange ``spec`` for drums, bass, guitar and keyboard, the same way every time for a given seed and steer.

    Raises ValueError when the spec is inconsistent.
    """
    return _Arranger(spec, seed, steer).arrange()
