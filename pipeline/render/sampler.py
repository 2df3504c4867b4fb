"""A vectorised sampler: plays a :class:`~pipeline.types.Part` with an :class:`~pipeline.types.Instrument`.

Notes that share a zone and a pitch share one resampled copy of the zone's sample (computed once with numpy
and cached), so each note costs a few slice operations: envelope, gain and an add into the output. There are no
per-sample Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.audio import read_audio, to_mono
from pipeline.errors import WaveInputError
from pipeline.render.envelope import EnvelopeCurves, envelope_curves, pan_gains, velocity_gain
from pipeline.render.interpolate import cubic_read, looped_table, padded_table, wrap_into_loop
from pipeline.render.voices import CHOKE_FADE_S, NEVER, NoteTable, choose_zones, note_table
from pipeline.types import Instrument, Part, Zone

MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 192000
# Resampled zone copies kept per sampler; past this the cache starts over (a long song, a large instrument).
MAX_CACHED_FRAMES = 64 * 1024 * 1024 // 4


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


def _load_zone(instrument: Instrument, zone: Zone, cache: dict[str, tuple[np.ndarray, int]]) -> ZoneSample:
    if zone.sample not in cache:
        try:
            raw, sr = read_audio(instrument.sample_path(zone))
        except WaveInputError as exc:
            raise WaveInputError(
                f"Instrument '{instrument.name}' cannot use its sample {zone.sample}: {exc.user_message}"
            ) from exc
        audio = to_mono(raw)
        cache[zone.sample] = (np.where(np.isfinite(audio), audio, 0.0).astype(np.float32), sr)
    audio, sr = cache[zone.sample]
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
    """Plays parts with one instrument. Samples are read from disk once, when the sampler is made."""

    def __init__(self, instrument: Instrument) -> None:
        if not instrument.zones:
            raise WaveInputError(f"Instrument '{instrument.name}' has no zones to play.")
        self.instrument = instrument
        files: dict[str, tuple[np.ndarray, int]] = {}
        self.zones = [_load_zone(instrument, zone, files) for zone in instrument.zones]
        self._resampled: dict[tuple[int, int, int], np.ndarray] = {}
        self._curves: dict[int, EnvelopeCurves] = {}

    # ---------------------------------------------------------------------------------------------- planning

    def curves(self, sample_rate: int) -> EnvelopeCurves:
        if sample_rate not in self._curves:
            self._curves[sample_rate] = envelope_curves(self.instrument.envelope, sample_rate)
        return self._curves[sample_rate]

    def voices(self, part: Part, sample_rate: int) -> Voices:
        sample_rate = check_sample_rate(sample_rate)
        notes = note_table(part, sample_rate)
        zone = choose_zones(self.instrument.zones, notes.pitch, notes.velocity)
        keycenter = np.array([z.zone.pitch_keycenter for z in self.zones])[zone]
        cents = np.array([z.zone.tune_cents for z in self.zones])[zone]
        file_rate = np.array([z.sample_rate for z in self.zones], dtype=np.float64)[zone]
        ratio = 2.0 ** ((notes.pitch - keycenter + cents / 100.0) / 12.0) * file_rate / sample_rate
        zone_gain = np.array([z.gain for z in self.zones])[zone]
        part_gain = 10 ** (part.gain_db / 20)
        gain = velocity_gain(notes.velocity, self.instrument.amp_veltrack) * zone_gain * part_gain

        frames = np.array([len(z.audio) for z in self.zones])[zone]
        natural = np.ceil(frames / ratio).astype(np.int64)
        mode = np.array([z.mode for z in self.zones])[zone]
        released = notes.release + self.curves(sample_rate).release_frames
        length = np.where(mode == "one_shot", natural, np.minimum(natural, released))
        looping = np.isin(mode, ["loop_continuous", "loop_sustain"]) & np.array(
            [z.loop is not None for z in self.zones]
        )[zone]
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
        voices = voices or self.voices(part, sample_rate)
        key = voices.zone * 128 + voices.notes.pitch
        for group in np.unique(key):
            members = np.flatnonzero(key == group)
            zone_index = int(voices.zone[members[0]])
            pan = pan_gains(part.pan + self.zones[zone_index].zone.pan)
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
        zone = self.zones[zone_index]
        notes = voices.notes
        ratio = float(voices.ratio[members[0]])
        start = notes.start[members]
        length = np.minimum(voices.length[members], channels.shape[1] - start)
        if not (length > 0).any():
            return
        sustain_loop = zone.mode == "loop_sustain" and zone.loop is not None
        held = np.minimum(notes.release[members], length) if sustain_loop else length
        source = self._resampled_zone(zone_index, int(notes.pitch[members[0]]), ratio, int(held.max()))
        curves = self.curves(sample_rate)
        fade = np.linspace(1.0, 0.0, max(int(CHOKE_FADE_S * sample_rate), 1), dtype=np.float32)
        scratch = np.empty(int(length.max()), np.float32)
        left, right = pan
        for i, note in enumerate(members):
            n = int(length[i])
            if n <= 0:
                continue
            voice = scratch[:n]
            # Attack, decay and sustain while the key is held, the release after; one-shots ignore note-off.
            release = n if zone.mode == "one_shot" else min(int(notes.release[note]), n)
            np.multiply(source[:release], curves.held(release), out=voice[:release])
            if release < n:
                after = (self._after_loop(zone, ratio, release, n) if sustain_loop else source[release:n])
                np.multiply(after, curves.release[: n - release], out=voice[release:])
                voice[release:] *= curves.level_at(release)
            choke = int(notes.choke[note])
            if choke < n:
                voice[choke:] *= fade[: n - choke]
            s = int(start[i])
            gain = float(voices.gain[note])
            channels[0, s : s + n] += voice * np.float32(gain * left)
            channels[1, s : s + n] += voice * np.float32(gain * right)

    def _after_loop(self, zone: ZoneSample, ratio: float, held: int, n: int) -> np.ndarray:
        """A loop_sustain voice after note-off: play on from where the loop was, through the sample's end."""
        assert zone.loop is not None
        position = wrap_into_loop(np.array([held * ratio]), *zone.loop)[0]
        return cubic_read(zone.table, position + np.arange(n - held) * ratio)

    def _resampled_zone(self, zone_index: int, pitch: int, ratio: float, frames: int) -> np.ndarray:
        """The zone's sample played at ``ratio``: all of it, or (looping zones) at least ``frames`` long."""
        zone = self.zones[zone_index]
        cache_key = (zone_index, pitch, round(ratio * 1e9))
        cached = self._resampled.get(cache_key)
        if cached is not None and (zone.loop is None or len(cached) >= frames):
            return cached
        if zone.loop is None:
            positions = np.arange(int(np.ceil(len(zone.audio) / ratio))) * ratio
            resampled = cubic_read(zone.table, positions)
        else:
            frames = max(frames, 2 * len(cached) if cached is not None else 0)
            positions = wrap_into_loop(np.arange(frames) * ratio, *zone.loop)
            resampled = cubic_read(zone.loop_table, positions)
        if sum(len(a) for a in self._resampled.values()) + len(resampled) > MAX_CACHED_FRAMES:
            self._resampled.clear()
        self._resampled[cache_key] = resampled
        return resampled
