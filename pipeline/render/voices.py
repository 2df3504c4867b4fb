"""Turning a part's notes into voices: which zone plays each note, when its release starts, when it is cut.

Polyphony policy: a key that is struck again cuts its previous voice with a short fade (a piano damper, a drum
machine's retrigger), and on drum parts the three General MIDI hi-hat keys cut one another as one real hi-hat
would (a closed hat stops a ringing open hat). Nothing else limits the number of voices: rendering cost grows
with the total sounding time, not with the number of simultaneous voices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.types import Part, Zone

CHOKE_FADE_S = 0.010
NEVER = np.iinfo(np.int64).max // 4  # a frame offset that no voice reaches

# General MIDI drum keys: closed hi-hat, pedal hi-hat, open hi-hat.
HIHAT_CHOKE_GROUP = (42, 44, 46)


@dataclass(frozen=True)
class NoteTable:
    """A part's notes as arrays, sorted by start, times in frames."""

    start: np.ndarray
    release: np.ndarray  # frames after start at which the key (and the pedal) let go
    choke: np.ndarray  # frames after start at which a later note cuts this voice, or NEVER
    pitch: np.ndarray
    velocity: np.ndarray

    def __len__(self) -> int:
        return len(self.start)


def choose_zones(zones: list[Zone], pitch: np.ndarray, velocity: np.ndarray) -> np.ndarray:
    """Index of the zone that plays each note.

    A zone whose key and velocity ranges hold the note wins (the first one, where zones overlap); otherwise the
    zone nearest in key, then nearest in velocity, so every note sounds even outside the mapped range.
    """
    lokey = np.array([z.lokey for z in zones])[None, :]
    hikey = np.array([z.hikey for z in zones])[None, :]
    lovel = np.array([z.lovel for z in zones])[None, :]
    hivel = np.array([z.hivel for z in zones])[None, :]
    p = pitch[:, None]
    v = velocity[:, None]
    key_distance = np.maximum(np.maximum(lokey - p, p - hikey), 0)
    vel_distance = np.maximum(np.maximum(lovel - v, v - hivel), 0)
    chosen = np.argmin(key_distance * 1000 + vel_distance, axis=1)
    return _take_turns(zones, chosen)


def _take_turns(zones: list[Zone], chosen: np.ndarray) -> np.ndarray:
    """SFZ round robins: the n-th note (in time order) that lands on a set of zones sharing key and velocity
    ranges plays the set's zone whose ``seq_position`` is ``n % seq_length + 1``."""
    if all(z.seq_length == 1 for z in zones):
        return chosen
    sets: dict[tuple[int, int, int, int], dict[int, int]] = {}
    for index, z in enumerate(zones):
        sets.setdefault((z.lokey, z.hikey, z.lovel, z.hivel), {}).setdefault(z.seq_position, index)
    played: dict[tuple[int, int, int, int], int] = {}
    turned = chosen.copy()
    for note, index in enumerate(chosen):
        z = zones[index]
        if z.seq_length == 1:
            continue
        key = (z.lokey, z.hikey, z.lovel, z.hivel)
        turn = played.get(key, 0)
        played[key] = turn + 1
        turned[note] = sets[key].get(turn % z.seq_length + 1, index)
    return turned


def pedal_release_times(part: Part, note_end: np.ndarray) -> np.ndarray:
    """Note-off times after the sustain pedal: a note let go while the pedal is down rings until the pedal lifts.

    A pedal that never lifts holds its notes until the part's last note ends.
    """
    if not part.pedal or len(note_end) == 0:
        return note_end
    events = sorted(part.pedal, key=lambda e: e.time)
    times = np.array([e.time for e in events])
    down = np.array([e.down for e in events])
    last_event = np.searchsorted(times, note_end, side="right") - 1
    held = (last_event >= 0) & down[np.maximum(last_event, 0)]
    lifts = times[~down]
    part_end = float(note_end.max())
    if len(lifts):
        next_lift = np.searchsorted(lifts, note_end, side="right")
        lift_time = np.where(next_lift < len(lifts), lifts[np.minimum(next_lift, len(lifts) - 1)], part_end)
    else:
        lift_time = np.full_like(note_end, part_end)
    return np.where(held, np.maximum(lift_time, note_end), note_end)


def choke_offsets(pitch: np.ndarray, start: np.ndarray, is_drum: bool) -> np.ndarray:
    """Frames after each note's start at which the next note of the same key (or choke group) cuts it."""
    group = pitch.copy()
    if is_drum:
        group[np.isin(pitch, HIHAT_CHOKE_GROUP)] = HIHAT_CHOKE_GROUP[0]
    choke = np.full(len(pitch), NEVER, np.int64)
    order = np.lexsort((start, group))  # by group, then by start
    same_group_next = group[order][1:] == group[order][:-1]
    gap = start[order][1:] - start[order][:-1]
    choke[order[:-1][same_group_next]] = gap[same_group_next]
    return choke


def note_table(part: Part, sample_rate: int) -> NoteTable:
    notes = sorted(part.notes, key=lambda n: (n.start, n.pitch))
    start_s = np.array([n.start for n in notes], dtype=np.float64)
    end_s = np.array([n.end for n in notes], dtype=np.float64)
    pitch = np.array([n.pitch for n in notes], dtype=np.int64)
    velocity = np.array([n.velocity for n in notes], dtype=np.int64)
    release_s = pedal_release_times(part, end_s)
    start = np.round(start_s * sample_rate).astype(np.int64)
    release = np.maximum(np.round(release_s * sample_rate).astype(np.int64) - start, 1)
    choke = choke_offsets(pitch, start, part.is_drum)
    return NoteTable(start, release, choke, pitch, velocity)
