"""Reading standard MIDI files (format 0, 1 and 2) into notes in seconds, one group per track and channel.

mido parses the bytes (running status included); this module resolves the tempo map, pairs note on/off,
and gathers program, pan (CC10) and sustain pedal (CC64) per channel. Formats 0 and 1 share one tempo map and
one channel state across tracks; in format 2 every track is its own sequence with its own tempo.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import mido

from pipeline.errors import WaveInputError
from pipeline.songs.midi_write import CC_PAN, CC_SUSTAIN, DRUM_CHANNEL, cc_to_pan
from pipeline.types import Note, PedalEvent

DEFAULT_TEMPO = 500_000  # microseconds per quarter note (120 bpm), as the MIDI standard says


@dataclass
class ChannelTrack:
    """The notes one track plays on one channel."""

    track_index: int
    channel: int
    name: str
    program: int | None
    programs_seen: list[int]
    pan: float | None
    notes: list[Note] = field(default_factory=list)
    pedal: list[PedalEvent] = field(default_factory=list)

    @property
    def is_drum_channel(self) -> bool:
        return self.channel == DRUM_CHANNEL


@dataclass
class MidiContent:
    format: int
    track_count: int
    parts: list[ChannelTrack]
    tempo_bpm: float
    meter: str
    key: str | None
    duration_s: float
    note_count: int


class TempoMap:
    """Ticks to seconds through a list of tempo changes."""

    def __init__(self, ticks_per_beat: int, changes: list[tuple[int, int]]) -> None:
        self.ticks_per_beat = ticks_per_beat
        points = sorted(changes)
        if not points or points[0][0] > 0:
            points.insert(0, (0, DEFAULT_TEMPO))
        self.ticks: list[int] = []
        self.tempos: list[int] = []
        self.seconds: list[float] = []
        elapsed = 0.0
        for tick, tempo in points:
            if self.ticks:
                elapsed += (tick - self.ticks[-1]) * self.tempos[-1] / 1e6 / ticks_per_beat
                if tick == self.ticks[-1]:  # several changes on one tick: the last one counts
                    self.tempos[-1] = tempo
                    continue
            self.ticks.append(tick)
            self.tempos.append(tempo)
            self.seconds.append(elapsed)

    def seconds_at(self, tick: int) -> float:
        index = bisect.bisect_right(self.ticks, tick) - 1
        return self.seconds[index] + (tick - self.ticks[index]) * self.tempos[index] / 1e6 / self.ticks_per_beat

    @property
    def first_bpm(self) -> float:
        return round(mido.tempo2bpm(self.tempos[0]), 3)


def _open(path: Path) -> mido.MidiFile:
    try:
        return mido.MidiFile(path)
    except FileNotFoundError as exc:
        raise WaveInputError(f"The MIDI file {path.name} was not found.") from exc
    except (EOFError, OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise WaveInputError(
            f"{path.name} is not a readable MIDI file (it may be broken or cut short).", detail=str(exc) or None
        ) from exc


def _absolute(track: mido.MidiTrack) -> list[tuple[int, mido.Message]]:
    now, timed = 0, []
    for message in track:
        now += message.time
        timed.append((now, message))
    return timed


def _value_at(timeline: list[tuple[int, int]], tick: int) -> int | None:
    """The value in force at ``tick``; before the first change, the first value set."""
    if not timeline:
        return None
    before = [value for at, value in timeline if at <= tick]
    return before[-1] if before else timeline[0][1]


def _track_name(track: mido.MidiTrack, index: int) -> str:
    for kind in ("track_name", "instrument_name"):
        for message in track:
            if message.type == kind and message.name.strip():
                return message.name.strip()
    return f"track {index + 1}"


def _key_name(signature: str) -> str:
    return f"{signature[:-1]} minor" if signature.endswith("m") else f"{signature} major"


def read_midi(path: Path, *, max_notes: int | None = None) -> MidiContent:
    """Parse ``path``. Raises WaveInputError for files that are not MIDI, are broken, or hold over ``max_notes``."""
    path = Path(path)
    midi = _open(path)
    if max_notes is not None:
        count = sum(1 for track in midi.tracks for m in track if m.type == "note_on" and m.velocity > 0)
        if count > max_notes:
            raise WaveInputError(f"{path.name} has {count:,} notes; up to {max_notes:,} are accepted.")
    ticks_per_beat = midi.ticks_per_beat
    if not ticks_per_beat or ticks_per_beat <= 0 or ticks_per_beat >= 0x8000:
        raise WaveInputError(f"{path.name} uses SMPTE timecode; WAVE reads MIDI files timed in beats.")
    tracks = [_absolute(track) for track in midi.tracks]
    independent = midi.type == 2
    # Group key: the track for format 2, the whole file otherwise.
    group_of = (lambda index: index) if independent else (lambda index: 0)

    tempo_changes: dict[int, list[tuple[int, int]]] = defaultdict(list)
    programs: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    pans: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    pedals: dict[tuple[int, int], list[tuple[int, bool]]] = defaultdict(list)
    meter, key = None, None
    for index, timed in enumerate(tracks):
        group = group_of(index)
        for tick, message in timed:
            if message.type == "set_tempo":
                tempo_changes[group].append((tick, message.tempo))
            elif message.type == "time_signature" and meter is None:
                meter = f"{message.numerator}/{message.denominator}"
            elif message.type == "key_signature" and key is None:
                key = _key_name(message.key)
            elif message.type == "program_change":
                programs[(group, message.channel)].append((tick, message.program))
            elif message.type == "control_change" and message.control == CC_PAN:
                pans[(group, message.channel)].append((tick, message.value))
            elif message.type == "control_change" and message.control == CC_SUSTAIN:
                pedals[(group, message.channel)].append((tick, message.value >= 64))
    tempo_maps = {group: TempoMap(ticks_per_beat, tempo_changes.get(group, [])) for group in
                  {group_of(i) for i in range(len(tracks))}}

    parts: list[ChannelTrack] = []
    note_count, last_second = 0, 0.0
    for index, timed in enumerate(tracks):
        group = group_of(index)
        tempo = tempo_maps[group]
        end_tick = timed[-1][0] if timed else 0
        sounding: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        by_channel: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
        for tick, message in timed:
            if message.type == "note_on" and message.velocity > 0:
                sounding[(message.channel, message.note)].append((tick, message.velocity))
            elif message.type in ("note_off", "note_on"):
                started = sounding.get((message.channel, message.note))
                if started:
                    start, velocity = started.pop(0)
                    by_channel[message.channel].append((start, tick, message.note, velocity))
        for (channel, pitch), left in sounding.items():  # notes never released end with their track
            by_channel[channel] += [(start, max(end_tick, start + 1), pitch, velocity) for start, velocity in left]

        name = _track_name(midi.tracks[index], index)
        for channel in sorted(by_channel):
            raw = sorted(by_channel[channel])
            first_tick = raw[0][0]
            notes = [Note(start=tempo.seconds_at(s), end=tempo.seconds_at(e), pitch=p, velocity=v) for s, e, p, v in raw]
            pedal_events = _pedal(pedals.get((group, channel), []), tempo)
            pan_value = _value_at(pans.get((group, channel), []), first_tick)
            channel_programs = programs.get((group, channel), [])
            parts.append(ChannelTrack(
                track_index=index,
                channel=channel,
                name=name if len(by_channel) == 1 else f"{name} (channel {channel + 1})",
                program=_value_at(channel_programs, first_tick),
                programs_seen=sorted({p for _, p in channel_programs}),
                pan=None if pan_value is None else cc_to_pan(pan_value),
                notes=notes,
                pedal=pedal_events,
            ))
            note_count += len(notes)
            last_second = max(last_second, max(n.end for n in notes))

    first_group = tempo_maps[min(tempo_maps)] if tempo_maps else TempoMap(ticks_per_beat, [])
    return MidiContent(
        format=midi.type,
        track_count=len(midi.tracks),
        parts=parts,
        tempo_bpm=first_group.first_bpm,
        meter=meter or "4/4",
        key=key,
        duration_s=last_second,
        note_count=note_count,
    )


def _pedal(events: list[tuple[int, bool]], tempo: TempoMap) -> list[PedalEvent]:
    """Pedal changes in seconds, keeping only real changes of state."""
    result: list[PedalEvent] = []
    state = False
    for tick, down in sorted(events, key=lambda e: e[0]):
        if down != state:
            result.append(PedalEvent(time=tempo.seconds_at(tick), down=down))
            state = down
    return result
