"""Writing standard MIDI files: one track per part, tempo and meter in the first track."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import mido

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
    try:
        numerator, denominator = (int(x) for x in meter.split("/"))
        meta.append((0, mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator)))
    except ValueError:
        pass  # a meter MIDI cannot state is left out; readers assume 4/4
    signature = key_signature(key)
    if signature:
        meta.append((0, mido.MetaMessage("key_signature", key=signature)))
    for tick, bpm in tempo_changes:
        meta.append((tick, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))))
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    for index, data in enumerate(tracks):
        midi.tracks.append(_track(data, meta if index == 0 else []))
    return midi


def write_midi(song: Song, path: Path) -> Path:
    """Write ``song`` as a type 1 MIDI file at its nominal tempo: one track per part, drums on channel 10."""
    path = Path(path)
    bpm = song.info.tempo_bpm
    ticks_per_second = bpm / 60.0 * TICKS_PER_BEAT

    def tick(seconds: float) -> int:
        return round(seconds * ticks_per_second)

    melodic_channels = iter(c for c in range(16) if c != DRUM_CHANNEL)
    tracks = []
    for part in song.parts:
        drums = part.is_drum or part.session == Session.DRUMS
        channel = DRUM_CHANNEL if drums else next(melodic_channels, 15)
        tracks.append(TrackData(
            name=part.name or part.session.value,
            channel=channel,
            program=part.program if part.program is not None else (None if drums else 0),
            pan=part.pan,
            notes=[(tick(n.start), tick(n.end), n.pitch, n.velocity) for n in part.notes],
            pedal=[(tick(p.time), p.down) for p in part.pedal],
        ))
    path.parent.mkdir(parents=True, exist_ok=True)
    build_midi(tracks, [(0, bpm)], song.info.meter, song.info.key).save(path)
    return path
