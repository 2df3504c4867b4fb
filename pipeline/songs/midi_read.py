"""Reading standard MIDI files (format 0, 1 and 2) into notes in seconds, one group per track and channel.

mido parses the bytes (running status included) and the limits are checked on that parse, before any other work.
pretty_midi's tempo map turns ticks into seconds. What pretty_midi would get wrong for WAVE is done here:

- formats 0 and 1 share one tempo map and one channel state across tracks: a tempo change, program, pan (CC10) or
  sustain pedal (CC64) stated in any track counts for the channel in every track (pretty_midi reads tempo from the
  first track only and starts every channel on program 0, so "no program set" could not be told apart);
- in format 2 every track is its own sequence with its own tempo (pretty_midi applies the first track's);
- each note-off ends the earliest sounding copy of its pitch, and notes never released end with their track
  (pretty_midi ends every sounding copy at once and drops unreleased notes; WAVE's own files start two copies of a
  pitch on one tick, so its rule would change how they play).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import mido
import pretty_midi

from pipeline.errors import WaveInputError
from pipeline.songs.midi_write import CC_PAN, CC_SUSTAIN, DRUM_CHANNEL, cc_to_pan
from pipeline.types import Note, PedalEvent

# pretty_midi keeps one float per tick of the song; beyond its own limit it refuses the file.
MAX_TICK = int(pretty_midi.pretty_midi.MAX_TICK)
Timed = list[tuple[int, mido.Message]]  # (absolute tick, message)


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


@dataclass
class _ChannelState:
    """Per channel, the (tick, value) changes of one sequence, in tick order."""

    programs: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    pans: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    pedals: dict[int, list[tuple[int, bool]]] = field(default_factory=lambda: defaultdict(list))
    tempos: list[tuple[int, int]] = field(default_factory=list)


def _open(path: Path) -> mido.MidiFile:
    try:
        return mido.MidiFile(path)
    except FileNotFoundError as exc:
        raise WaveInputError(f"The MIDI file {path.name} was not found.") from exc
    except (EOFError, OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise _broken(path, exc) from exc


def _broken(path: Path, exc: Exception) -> WaveInputError:
    return WaveInputError(f"{path.name} is not a readable MIDI file (it may be broken or cut short).",
                          detail=str(exc) or None)


def _relative(events: Timed) -> mido.MidiTrack:
    """A track from (absolute tick, message) pairs in tick order, as pretty_midi reads it: delta times."""
    track, now = mido.MidiTrack(), 0
    for tick, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    return track


def _absolute(track: mido.MidiTrack) -> Timed:
    now, timed = 0, []
    for message in track:
        now += message.time
        timed.append((now, message))
    return timed


def _check_limits(path: Path, midi: mido.MidiFile, tracks: list[Timed], max_notes: int | None,
                  max_tracks: int | None) -> None:
    """Refuse what WAVE will not read, on mido's parse alone, before pretty_midi spends any work."""
    if max_tracks is not None and len(midi.tracks) > max_tracks:
        raise WaveInputError(f"{path.name} has {len(midi.tracks)} tracks; up to {max_tracks} are accepted.")
    if max_notes is not None:
        count = sum(1 for timed in tracks for _, m in timed if m.type == "note_on" and m.velocity > 0)
        if count > max_notes:
            raise WaveInputError(f"{path.name} has {count:,} notes; up to {max_notes:,} are accepted.")
    ticks_per_beat = midi.ticks_per_beat
    if not ticks_per_beat or ticks_per_beat <= 0 or ticks_per_beat >= 0x8000:
        raise WaveInputError(f"{path.name} uses SMPTE timecode; WAVE reads MIDI files timed in beats.")
    last_tick = max((timed[-1][0] for timed in tracks if timed), default=0)
    if last_tick >= MAX_TICK:
        raise WaveInputError(f"{path.name} is far too long: its last event is {last_tick:,} ticks in.")


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


def _channel_state(sequence: list[Timed]) -> _ChannelState:
    state = _ChannelState()
    for timed in sequence:
        for tick, message in timed:
            if message.type == "set_tempo":
                state.tempos.append((tick, message.tempo))
            elif message.type == "program_change":
                state.programs[message.channel].append((tick, message.program))
            elif message.type == "control_change" and message.control == CC_PAN:
                state.pans[message.channel].append((tick, message.value))
            elif message.type == "control_change" and message.control == CC_SUSTAIN:
                state.pedals[message.channel].append((tick, message.value >= 64))
    for changes in (state.programs, state.pans, state.pedals):
        for timeline in changes.values():
            timeline.sort(key=lambda change: change[0])
    state.tempos.sort(key=lambda change: change[0])
    return state


def _paired(timed: Timed) -> dict[int, list[tuple[int, int, int, int]]]:
    """Per channel, (start tick, end tick, pitch, velocity) of every note, in tick order.

    Each note-off ends the earliest sounding copy of its pitch; notes never released end with their track.
    """
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
    for (channel, pitch), left in sounding.items():
        by_channel[channel] += [(start, max(end_tick, start + 1), pitch, velocity) for start, velocity in left]
    return {channel: sorted(notes) for channel, notes in sorted(by_channel.items())}


def _tempo_map(path: Path, ticks_per_beat: int, tempos: list[tuple[int, int]], last_tick: int) -> pretty_midi.PrettyMIDI:
    """pretty_midi's tick-to-seconds map for one sequence, from its tempo changes wherever they were stated."""
    conductor = _relative([(tick, mido.MetaMessage("set_tempo", tempo=tempo)) for tick, tempo in tempos]
                          + [(last_tick + 1, mido.MetaMessage("end_of_track"))])
    handed = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    handed.tracks.append(conductor)
    try:
        return pretty_midi.PrettyMIDI(mido_object=handed)
    except (ValueError, ZeroDivisionError, IndexError, OverflowError) as exc:  # a zero tempo, for one
        raise _broken(path, exc) from exc


def _read_sequence(path: Path, midi: mido.MidiFile, indexed: list[tuple[int, Timed]]) -> tuple[
        list[ChannelTrack], float]:
    """The parts of tracks that play as one sequence, and the tempo at its start in bpm."""
    state = _channel_state([timed for _, timed in indexed])
    last_tick = max((timed[-1][0] for _, timed in indexed if timed), default=0)
    score = _tempo_map(path, midi.ticks_per_beat, state.tempos, last_tick)

    def seconds(tick: int) -> float:
        return float(score.tick_to_time(tick))

    parts: list[ChannelTrack] = []
    for index, timed in indexed:
        name = _track_name(midi.tracks[index], index)
        by_channel = _paired(timed)
        for channel, raw in by_channel.items():
            first_tick = raw[0][0]
            programs = state.programs.get(channel, [])
            pan_value = _value_at(state.pans.get(channel, []), first_tick)
            parts.append(ChannelTrack(
                track_index=index,
                channel=channel,
                name=name if len(by_channel) == 1 else f"{name} (channel {channel + 1})",
                program=_value_at(programs, first_tick),
                programs_seen=sorted({p for _, p in programs}),
                pan=None if pan_value is None else cc_to_pan(pan_value),
                notes=[Note(start=seconds(s), end=seconds(e), pitch=p, velocity=v) for s, e, p, v in raw],
                pedal=_pedal([(seconds(tick), down) for tick, down in state.pedals.get(channel, [])]),
            ))
    return parts, round(float(score.get_tempo_changes()[1][0]), 3)


def read_midi(path: Path, *, max_notes: int | None = None, max_tracks: int | None = None) -> MidiContent:
    """Parse ``path``. Raises WaveInputError for files that are not MIDI, are broken, or hold over ``max_notes``
    notes or ``max_tracks`` tracks."""
    path = Path(path)
    midi = _open(path)
    tracks = [_absolute(track) for track in midi.tracks]
    _check_limits(path, midi, tracks, max_notes, max_tracks)
    indexed = list(enumerate(tracks))
    # Format 2: every track is its own sequence; otherwise the whole file is one.
    sequences = [[item] for item in indexed] if midi.type == 2 else [indexed]
    parts: list[ChannelTrack] = []
    first_bpm = None
    for sequence in sequences:
        sequence_parts, bpm = _read_sequence(path, midi, sequence)
        parts += sequence_parts
        first_bpm = bpm if first_bpm is None else first_bpm
    meter = next((f"{m.numerator}/{m.denominator}" for t in tracks for _, m in t if m.type == "time_signature"), None)
    key = next((_key_name(m.key) for t in tracks for _, m in t if m.type == "key_signature"), None)
    return MidiContent(
        format=midi.type,
        track_count=len(midi.tracks),
        parts=parts,
        tempo_bpm=first_bpm if first_bpm is not None else 120.0,
        meter=meter or "4/4",
        key=key,
        duration_s=max((n.end for part in parts for n in part.notes), default=0.0),
        note_count=sum(len(part.notes) for part in parts),
    )


def _pedal(events: list[tuple[float, bool]]) -> list[PedalEvent]:
    """Pedal changes in seconds, keeping only real changes of state."""
    result: list[PedalEvent] = []
    state = False
    for time, down in events:
        if down != state:
            result.append(PedalEvent(time=time, down=down))
            state = down
    return result
