"""Writing standard MIDI files.

:func:`write_midi` exports any Song through pretty_midi (notes in seconds, programs, drums, pan and pedal).
:func:`build_midi` writes WAVE's arrangements tick by tick with mido: the library files and fresh arrangements are
stated in beats with tempo changes, which pretty_midi can only write from seconds, with tempos truncated to whole
microseconds and its own order for notes that start on one tick; either would change how the library reads back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import mido
import pretty_midi

from pipeline.types import Session, Song

TICKS_PER_BEAT = 480
DRUM_CHANNEL = 9
CC_SUSTAIN, CC_PAN = 64, 10

# Sort order of events that share a tick: notes end before controllers change before notes start.
_NOTE_OFF, _CONTROL, _NOTE_ON = 0, 1, 2


@dataclass
class TrackData:
    name: str
    channel: int
    program: int | None
    pan: float = 0.0
    notes: list[tuple[int, int, int, int]] = field(default_factory=list)  # start tick, end tick, pitch, velocity
    pedal: list[tuple[int, bool]] = field(default_factory=list)  # tick, down


def pan_to_cc(pan: float) -> int:
    return max(0, min(127, round(64 + pan * 63)))


def cc_to_pan(value: int) -> float:
    return max(-1.0, min(1.0, (value - 64) / 63))


def key_signature(key: str | None) -> str | None:
    """``"D major"`` -> ``"D"``, ``"B minor"`` -> ``"Bm"``; None for keys MIDI cannot name."""
    if not key:
        return None
    parts = key.split()
    if len(parts) != 2 or parts[1] not in ("major", "minor"):
        return None
    name = parts[0] + ("m" if parts[1] == "minor" else "")
    try:
        mido.MetaMessage("key_signature", key=name)
    except ValueError:
        return None
    return name


def _without_overlaps(notes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """MIDI cannot hold two sounding copies of one pitch on a channel: end the earlier copy where the next starts."""
    cleaned: list[tuple[int, int, int, int]] = []
    last_by_pitch: dict[int, int] = {}
    for start, end, pitch, velocity in sorted(notes):
        previous = last_by_pitch.get(pitch)
        if previous is not None and cleaned[previous][1] > start:
            p_start, _, p_pitch, p_velocity = cleaned[previous]
            cleaned[previous] = (p_start, max(start, p_start + 1), p_pitch, p_velocity)
        last_by_pitch[pitch] = len(cleaned)
        cleaned.append((start, max(end, start + 1), pitch, velocity))
    return cleaned


def _merged_unisons(notes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Copies of one pitch starting on one tick become one note, as long as the longest and as loud as the loudest.

    Players (fluidsynth, pretty_midi) end every sounding copy of a key at its first note-off, so a second copy
    written on the same tick would be cut short with the first.
    """
    merged: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    for start, end, pitch, velocity in notes:
        _, other_end, _, other_velocity = merged.get((start, pitch), (start, end, pitch, velocity))
        merged[(start, pitch)] = (start, max(end, other_end), pitch, max(velocity, other_velocity))
    return list(merged.values())


def _track(data: TrackData, meta: list[tuple[int, mido.MetaMessage]]) -> mido.MidiTrack:
    timed: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [(tick, _CONTROL, m) for tick, m in meta]
    timed.append((0, _CONTROL, mido.MetaMessage("track_name", name=data.name)))
    if data.program is not None:
        timed.append((0, _CONTROL, mido.Message("program_change", channel=data.channel, program=data.program)))
    timed.append((0, _CONTROL, mido.Message("control_change", channel=data.channel, control=CC_PAN,
                                            value=pan_to_cc(data.pan))))
    for start, end, pitch, velocity in _without_overlaps(data.notes):
        timed.append((start, _NOTE_ON, mido.Message("note_on", channel=data.channel, note=pitch, velocity=velocity)))
        timed.append((end, _NOTE_OFF, mido.Message("note_off", channel=data.channel, note=pitch, velocity=0)))
    for tick, down in data.pedal:
        timed.append((tick, _CONTROL, mido.Message("control_change", channel=data.channel, control=CC_SUSTAIN,
                                                   value=127 if down else 0)))
    timed.sort(key=lambda item: (item[0], item[1]))
    track = mido.MidiTrack()
    now = 0
    for tick, _, message in timed:
        track.append(message.copy(time=tick - now))
        now = tick
    return track


def build_midi(tracks: list[TrackData], tempo_changes: list[tuple[int, float]], meter: str = "4/4",
               key: str | None = None, ticks_per_beat: int = TICKS_PER_BEAT) -> mido.MidiFile:
    """A type 1 file with one track per ``TrackData``; tempo, meter and key live in the first track."""
    meta: list[tuple[int, mido.MetaMessage]] = []
    stated = _meter(meter)
    if stated:
        meta.append((0, mido.MetaMessage("time_signature", numerator=stated[0], denominator=stated[1])))
    signature = key_signature(key)
    if signature:
        meta.append((0, mido.MetaMessage("key_signature", key=signature)))
    for tick, bpm in tempo_changes:
        meta.append((tick, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))))
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    for index, data in enumerate(tracks):
        midi.tracks.append(_track(data, meta if index == 0 else []))
    return midi


def _meter(meter: str) -> tuple[int, int] | None:
    """``"6/8"`` -> (6, 8); None for a meter MIDI cannot state (readers then assume 4/4)."""
    try:
        numerator, denominator = (int(x) for x in meter.split("/"))
        mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator)
    except ValueError:
        return None
    return (numerator, denominator) if numerator > 0 and denominator > 0 else None


def write_midi(song: Song, path: Path) -> Path:
    """Write ``song`` as a type 1 MIDI file at its nominal tempo: one track per part, drums on channel 10.

    Events sit on the ticks of the nominal tempo, and the tempo is stated in microseconds per beat rounded to the
    nearest, as :func:`build_midi` states it.
    """
    path = Path(path)
    ticks_per_second = song.info.tempo_bpm / 60.0 * TICKS_PER_BEAT
    # pretty_midi writes int(60e6 / bpm): half a microsecond more per beat turns its truncation into rounding.
    stated_bpm = 60e6 / (mido.bpm2tempo(song.info.tempo_bpm) + 0.5)
    score = pretty_midi.PrettyMIDI(resolution=TICKS_PER_BEAT, initial_tempo=stated_bpm)
    seconds_per_tick = 60.0 / (stated_bpm * TICKS_PER_BEAT)  # pretty_midi's own scale: each tick comes back exact
    meter = _meter(song.info.meter)
    if meter:
        score.time_signature_changes.append(pretty_midi.TimeSignature(*meter, 0.0))
    if key_signature(song.info.key):  # a key MIDI can name; pretty_midi may write its enharmonic twin (C# as Db)
        number = pretty_midi.key_name_to_key_number(song.info.key)
        score.key_signature_changes.append(pretty_midi.KeySignature(number, 0.0))

    def tick(seconds: float) -> int:
        return round(seconds * ticks_per_second)

    def seconds(tick: int) -> float:
        return tick * seconds_per_tick

    for part in song.parts:
        drums = part.is_drum or part.session == Session.DRUMS
        instrument = pretty_midi.Instrument(program=part.program or 0, is_drum=drums, name=part.name or part.session.value)
        raw = [(tick(n.start), tick(n.end), n.pitch, n.velocity) for n in part.notes]
        instrument.notes = [pretty_midi.Note(velocity=v, pitch=p, start=seconds(s), end=seconds(e))
                            for s, e, p, v in _without_overlaps(_merged_unisons(raw))]
        instrument.control_changes = [pretty_midi.ControlChange(CC_PAN, pan_to_cc(part.pan), 0.0)]
        instrument.control_changes += [pretty_midi.ControlChange(CC_SUSTAIN, 127 if p.down else 0, seconds(tick(p.time)))
                                       for p in part.pedal]
        score.instruments.append(instrument)
    path.parent.mkdir(parents=True, exist_ok=True)
    score.write(str(path))
    return path
