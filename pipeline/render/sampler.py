"""A sampler: plays a :class:`~pipeline.types.Part` with an :class:`~pipeline.types.Instrument`.

Notes that share a zone and a pitch share one resampled copy of the zone's sample (computed once and cached), so
each note costs one pass of a compiled loop (:mod:`pipeline.render.kernels`) that applies the envelope, the gain
and the pan while adding the voice into the output. Zones are read from disk only when a note uses them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.errors import WaveInputError
from pipeline.render.envelope import EnvelopeCurves, envelope_curves, pan_gains, velocity_gain
from pipeline.render.interpolate import looped_table, padded_table, wrap_into_loop
from pipeline.render.kernels import add_voices, resample_into
from pipeline.render.samples import load_sample
from pipeline.render.voices import CHOKE_FADE_S, NEVER, NoteTable, choose_zones, note_table
from pipeline.types import Instrument, Part, Zone

MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 192000
# Resampled zone copies kept per sampler; past this the cache starts over (a long song, a large instrument).
MAX_CACHED_FRAMES = 64 * 1024 * 1024 // 4
_NO_POSITIONS = np.zeros(0, np.float64)


def check_sample_rate(sample_rate: int) -> int:
    if not MIN_SAMPLE_RATE <= int(sample_rate) <= MAX_SAMPLE_RATE:
        raise WaveInputError(
            f"Sample rate {sample_rate} Hz is not supported (use {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz)."
        )
    return int(sample_rate)


@dataclass(frozen=True)
class ZoneSample:
    """A zone with its sample in memory, ready to be read at any position."""

    zone: Zone
    audio: np.ndarray  # mono float32
    sample_rate: int
    table: np.ndarray  # for straight reads
    loop: tuple[int, int] | None  # inclusive loop frames, for the looping modes
    loop_table: np.ndarray | None

    @property
    def mode(self) -> str:
        return self.zone.loop_mode

    @property
    def gain(self) -> float:
        return float(10 ** (self.zone.volume_db / 20))


@dataclass(frozen=True)
class Voices:
    """What a part will play: the notes plus, per note, the zone, the resampling ratio, gain and length."""

    notes: NoteTable
    zone: np.ndarray
    ratio: np.ndarray
    gain: np.ndarray
    length: np.ndarray  # frames the voice sounds for, release and choke fade included

    @property
    def end(self) -> int:
        return int((self.notes.start + self.length).max()) if len(self.length) else 0


def _missing_sample_error(instrument: Instrument, zone: Zone, reason: str) -> WaveInputError:
    return WaveInputError(f"Instrument '{instrument.name}' cannot use its sample {zone.sample}: {reason}")


def _load_zone(instrument: Instrument, zone: Zone) -> ZoneSample:
    try:
        audio, sr = load_sample(instrument.sample_path(zone))
    except WaveInputError as exc:
        raise _missing_sample_error(instrument, zone, exc.user_message) from exc
    loop = None
    loop_table = None
    if zone.loop_mode in ("loop_continuous", "loop_sustain") and len(audio) >= 2:
        # SFZ defaults: the loop spans the whole sample. Points outside the sample are pulled inside.
        start = int(np.clip(zone.loop_start if zone.loop_start is not None else 0, 0, len(audio) - 2))
        end = zone.loop_end if zone.loop_end is not None else len(audio) - 1
        end = int(np.clip(end, start + 1, len(audio) - 1))
        loop = (start, end)
        loop_table = looped_table(audio, start, end)
    return ZoneSample(zone, audio, sr, padded_table(audio), loop, loop_table)


class Sampler:
    """Plays parts with one instrument. A zone's sample is read from disk the first time a note needs it."""

    def __init__(self, instrument: Instrument) -> None:
        if not instrument.zones:
            raise WaveInputError(f"Instrument '{instrument.name}' has no zones to play.")
        for zone in instrument.zones:  # fail now, not halfway through a song
            if not instrument.sample_path(zone).is_file():
                raise _missing_sample_error(instrument, zone, f"Sound file not found: {zone.sample}")
        self.instrument = instrument
        self._zones: dict[int, ZoneSample] = {}
        self._resampled: dict[tuple[int, int, int], np.ndarray] = {}
        self._curves: dict[int, EnvelopeCurves] = {}

    def zone(self, index: int) -> ZoneSample:
        if index not in self._zones:
            self._zones[index] = _load_zone(self.instrument, self.instrument.zones[index])
        return self._zones[index]

    # ---------------------------------------------------------------------------------------------- planning

    def curves(self, sample_rate: int) -> EnvelopeCurves:
        if sample_rate not in self._curves:
            self._curves[sample_rate] = envelope_curves(self.instrument.envelope, sample_rate)
        return self._curves[sample_rate]

    def voices(self, part: Part, sample_rate: int) -> Voices:
        sample_rate = check_sample_rate(sample_rate)
        notes = note_table(part, sample_rate)
        zone = choose_zones(self.instrument.zones, notes.pitch, notes.velocity)
        # Per-zone facts for the zones this part uses only, looked up per note through ``slot``.
        used, slot = np.unique(zone, return_inverse=True)
        samples = [self.zone(int(i)) for i in used]
        keycenter = np.array([z.zone.pitch_keycenter for z in samples])[slot]
        cents = np.array([z.zone.tune_cents for z in samples])[slot]
        file_rate = np.array([z.sample_rate for z in samples], dtype=np.float64)[slot]
        ratio = 2.0 ** ((notes.pitch - keycenter + cents / 100.0) / 12.0) * file_rate / sample_rate
        zone_gain = np.array([z.gain for z in samples])[slot]
        part_gain = 10 ** (part.gain_db / 20)
        gain = velocity_gain(notes.velocity, self.instrument.amp_veltrack) * zone_gain * part_gain

        frames = np.array([len(z.audio) for z in samples], dtype=np.int64)[slot]
        natural = np.ceil(frames / ratio).astype(np.int64)
        mode = np.array([z.mode for z in samples] or [""])[slot]
        released = notes.release + self.curves(sample_rate).release_frames
        length = np.where(mode == "one_shot", natural, np.minimum(natural, released))
        looping = np.isin(mode, ["loop_continuous", "loop_sustain"]) & np.array(
            [z.loop is not None for z in samples] or [False]
        )[slot]
        length = np.where(looping, released, length)
        fade = int(CHOKE_FADE_S * sample_rate)
        length = np.where(notes.choke < NEVER, np.minimum(length, notes.choke + fade), length)
        return Voices(notes, zone, ratio, gain.astype(np.float64), np.maximum(length, 0))

    def length(self, part: Part, sample_rate: int) -> int:
        """Frames until the last voice of ``part`` falls silent."""
        return self.voices(part, sample_rate).end

    # ---------------------------------------------------------------------------------------------- rendering

    def render(self, part: Part, sample_rate: int, length: int | None = None) -> np.ndarray:
        """The part as stereo float32 ``(length, 2)``; by default as long as its last release tail."""
        voices = self.voices(part, sample_rate)
        length = voices.end if length is None else max(int(length), 0)
        channels = np.zeros((2, length), np.float32)
        self.render_into(channels, part, sample_rate, voices)
        return np.ascontiguousarray(channels.T)

    def render_into(
        self, channels: np.ndarray, part: Part, sample_rate: int, voices: Voices | None = None
    ) -> None:
        """Add the part into ``channels``, a channel-first ``(2, n)`` float32 buffer (cut at its end)."""
        if channels.dtype != np.float32 or channels.ndim != 2 or channels.shape[0] != 2:
            raise ValueError("render_into needs a (2, n) float32 buffer")
        voices = voices or self.voices(part, sample_rate)
        key = voices.zone * 128 + voices.notes.pitch
        order = np.argsort(key, kind="stable")
        bounds = np.flatnonzero(np.diff(key[order])) + 1
        for members in np.split(order, bounds) if len(order) else []:
            zone_index = int(voices.zone[members[0]])
            pan = pan_gains(part.pan + self.zone(zone_index).zone.pan)
            self._play_group(channels, zone_index, members, voices, sample_rate, pan)

    def _play_group(
        self,
        channels: np.ndarray,
        zone_index: int,
        members: np.ndarray,
        voices: Voices,
        sample_rate: int,
        pan: tuple[float, float],
    ) -> None:
        """Add every note of one (zone, pitch) group into ``channels``."""
        zone = self.zone(zone_index)
        notes = voices.notes
        ratio = float(voices.ratio[members[0]])
        start = notes.start[members]
        length = np.minimum(voices.length[members], channels.shape[1] - start)
        playing = length > 0
        if not playing.any():
            return
        members, start, length = members[playing], start[playing], length[playing]
        sustain_loop = zone.mode == "loop_sustain" and zone.loop is not None
        held = np.minimum(notes.release[members], length) if sustain_loop else length
        source = self._resampled_zone(zone_index, int(notes.pitch[members[0]]), ratio, int(held.max()))
        curves = self.curves(sample_rate)
        # Attack, decay and sustain while the key is held, the release after; one-shots ignore note-off.
        release = length if zone.mode == "one_shot" else np.minimum(notes.release[members], length)
        # The envelope's level where the release begins (it scales the release curve).
        levels = np.append(curves.attack_decay, np.float32(curves.sustain_level))
        level = levels[np.minimum(release, len(curves.attack_decay))]
        after = _NO_POSITIONS
        if sustain_loop:
            # After note-off a loop_sustain voice plays on from where the loop was, through the sample's end.
            after = wrap_into_loop(release.astype(np.float64) * ratio, *zone.loop)
        left, right = pan
        gain = voices.gain[members]
        fade = np.linspace(1.0, 0.0, max(int(CHOKE_FADE_S * sample_rate), 1), dtype=np.float32)
        add_voices(
            channels,
            source,
            start.astype(np.int64),
            length.astype(np.int64),
            release.astype(np.int64),
            np.minimum(notes.choke[members], length).astype(np.int64),
            level,
            (gain * left).astype(np.float32),
            (gain * right).astype(np.float32),
            curves.attack_decay,
            np.float32(curves.sustain_level),
            curves.release,
            fade,
            zone.table,
            after,
            ratio,
        )

    def _resampled_zone(self, zone_index: int, pitch: int, ratio: float, frames: int) -> np.ndarray:
        """The zone's sample played at ``ratio``: all of it, or (looping zones) at least ``frames`` long."""
        zone = self.zone(zone_index)
        cache_key = (zone_index, pitch, round(ratio * 1e9))
        cached = self._resampled.get(cache_key)
        if cached is not None and (zone.loop is None or len(cached) >= frames):
            return cached
        if zone.loop is None:
            resampled = np.empty(int(np.ceil(len(zone.audio) / ratio)), np.float32)
            resample_into(resampled, zone.table, ratio, 0, -1)
        else:
            frames = max(frames, 2 * len(cached) if cached is not None else 0)
            resampled = np.empty(frames, np.float32)
            resample_into(resampled, zone.loop_table, ratio, *zone.loop)
        if sum(len(a) for a in self._resampled.values()) + len(resampled) > MAX_CACHED_FRAMES:
            self._resampled.clear()
        self._resampled[cache_key] = resampled
        return resampled
