"""Melodic instruments (bass, guitar, keyboard) played by the effect itself.

Every zone's sample is the effect itself (from one of its events) with its fine structure made harmonic at the
zone's root and its time-frequency envelope kept (:mod:`pipeline.instruments.crosssynth`); an effect with a pitch of
its own is first resampled onto the note's pitch class. Each zone has two velocity layers and two round robins cut
from different events of the effect. Samples end in a seamless loop at a steady level, so a note rings for as long
as it is held; plucked sessions fade it with their amplitude envelope. ``character`` runs from 0 (only in-tune
partials, with the effect's envelope) to 1 (half of the energy is the raw sound, still in tune).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.audio import LoadedEffect
from pipeline.errors import WaveInputError
from pipeline.instruments.crosssynth import HOP, Voicing, harmonic_notes, short_time_spectrum
from pipeline.instruments.decay import apply_gain_db, held_note_gain_db
from pipeline.instruments.multisample import (
    VELOCITY_LAYERS,
    KeySpan,
    key_spans,
    loop_at_steady_level,
    midi_to_hz,
    zone_gains,
)
from pipeline.instruments.pitching import folded_shift, pitch_to
from pipeline.instruments.samplefiles import write_pcm16
from pipeline.instruments.source import Source, prepare_source
from pipeline.instruments.texture import continue_texture
from pipeline.types import SESSION_RANGES, Envelope, Instrument, Session, Zone

SAMPLES_DIR = "samples"
SOFT_LAYER_DB = -3.0
ROUND_ROBINS = 2
ZONE_SPACING = 6  # semitones between roots: a sample is never resampled by more than three semitones
RING_S = 1.0  # how long a sample rings past the end of the effect before its loop
MIN_SAMPLE_S = 1.2
MAX_SAMPLE_S = 2.5
LOOP_S = 0.4
TAIL_AFTER_LOOP_S = 0.05
HELD_LEVEL_DB = -24.0  # a held note falls no further than this below the sample's loudest moment


@dataclass(frozen=True)
class SessionSound:
    voicing: Voicing
    envelope: Envelope
    amp_veltrack: float
    character: float  # the default, chosen by measurement (bench/identity.py)


SESSION_SOUNDS: dict[Session, SessionSound] = {
    Session.BASS: SessionSound(
        voicing=Voicing(decay_s=1.5, damping_hz=2500.0,
                        soft_cutoff_harmonic=5.0, fundamental_within_db=-10.0,
                        tilt_db_per_octave=9.0),
        envelope=Envelope(attack_s=0.002, decay_s=14.0, sustain_level=0.0, release_s=0.12),
        amp_veltrack=70.0,
        character=0.6,
    ),
    Session.GUITAR: SessionSound(
        voicing=Voicing(decay_s=1.5, damping_hz=5000.0,
                        soft_cutoff_harmonic=7.0, fundamental_within_db=-10.0,
                        tilt_db_per_octave=6.0),
        envelope=Envelope(attack_s=0.001, decay_s=16.0, sustain_level=0.0, release_s=0.25),
        amp_veltrack=75.0,
        character=0.6,
    ),
    Session.KEYBOARD: SessionSound(
        voicing=Voicing(decay_s=2.0, damping_hz=6000.0,
                        soft_cutoff_harmonic=6.0, fundamental_within_db=-6.0,
                        tilt_db_per_octave=6.0),
        envelope=Envelope(attack_s=0.004, decay_s=1.5, sustain_level=0.7, release_s=0.35),
        amp_veltrack=80.0,
        character=0.5,
    ),
}


def default_character(session: Session) -> float:
    return SESSION_SOUNDS[session].character


@dataclass
class _Sample:
    audio: np.ndarray
    loop: tuple[int, int]  # [start, end) in frames


@dataclass
class _Segment:
    audio: np.ndarray  # the effect from one event on, its texture carried on past its end
    seconds: float  # how long the effect itself lasts in it


def _segments(source: Source, seed: int) -> list[_Segment]:
    sr = source.sample_rate
    room = int(1.5 * (MAX_SAMPLE_S + 2 * LOOP_S + 0.2) * sr)  # enough for a sample after a shift down
    segments = []
    for round_robin in range(ROUND_ROBINS):
        own = source.segment(round_robin)[: int(MAX_SAMPLE_S * sr)]
        audio = continue_texture(own, sr, room, np.random.default_rng([seed, round_robin]))
        segments.append(_Segment(audio, len(own) / sr))
    return segments


def _render_zone(
    source: Source,
    segments: list[_Segment],
    sound: SessionSound,
    root: int,
    character: float,
    spectra: dict[tuple[int, float], np.ndarray],
) -> list[tuple[_Sample, _Sample]]:
    """For each round robin, the (hard, soft) velocity layers of one zone, made at the zone's root.

    ``spectra`` keeps the short-time spectra of drives already analysed, for the zones that follow.
    """
    sr = source.sample_rate
    f0 = midi_to_hz(root)
    loop_length = int(LOOP_S * sr)
    tail = int(TAIL_AFTER_LOOP_S * sr)
    rendered = []
    for segment in segments:
        length = int(np.clip(segment.seconds + RING_S, MIN_SAMPLE_S, MAX_SAMPLE_S) * sr)
        room = 2 * loop_length + int(3 * sr / f0) + tail
        # A pitched effect is moved onto the note's pitch class. Zones an octave apart, and every zone of an
        # unpitched sound, share one drive and so one analysis.
        shift = 0.0 if source.root_hz is None else round(folded_shift(source.root_hz, f0), 4)
        key = (id(segment), shift)
        if key not in spectra or spectra[key].shape[1] < 1 + (length + room) // HOP:
            spectra[key] = short_time_spectrum(pitch_to(segment.audio, shift), length + room)
        effect_end = int(segment.seconds * sr / 2 ** (shift / 12))
        layers = harmonic_notes(
            spectra[key], sr, f0, sound.voicing, character, length + room, pitched=source.root_hz is not None,
            raw_until=effect_end,
        )
        gain_db = held_note_gain_db(layers[0], sr, effect_end, HELD_LEVEL_DB)
        pair = []
        for note in layers:
            note = apply_gain_db(note, sr, gain_db)
            audio, loop = loop_at_steady_level(note, sr, f0, earliest=length, min_length=loop_length, tail=tail)
            pair.append(_Sample(audio, loop))
        rendered.append((pair[0], pair[1]))
    return rendered


def _zones_for(span: KeySpan, session: Session, files: list[list[str]], loops: list[list[tuple[int, int]]]) -> list[Zone]:
    zones = []
    for layer_index, layer in enumerate(VELOCITY_LAYERS):
        for round_robin in range(ROUND_ROBINS):
            loop = loops[round_robin][layer_index]
            zones.append(
                Zone(
                    sample=files[round_robin][layer_index],
                    lokey=span.lokey,
                    hikey=span.hikey,
                    pitch_keycenter=span.root,
                    lovel=layer.lovel,
                    hivel=layer.hivel,
                    loop_mode="loop_sustain",
                    loop_start=loop[0],
                    loop_end=loop[1] - 1,
                    seq_length=ROUND_ROBINS,
                    seq_position=round_robin + 1,
                )
            )
    return zones


def build_melodic_instrument(
    loaded: LoadedEffect,
    session: Session,
    out_dir: Path,
    *,
    name: str,
    source_effect: str,
    sample_rate: int,
    seed: int = 0,
    engine: str = "dsp",
    character: float | None = None,
) -> Instrument:
    """Make every zone, layer and round robin, write the WAVs under ``out_dir/samples`` and describe them.

    The caller writes the SFZ/SF2/JSON files; this returns the :class:`Instrument` with its zones.
    """
    if session not in SESSION_SOUNDS:
        raise WaveInputError(f"{session.value} is not a melodic session.")
    if loaded.sample_rate != sample_rate:
        raise WaveInputError(f"effect is at {loaded.sample_rate} Hz but the instrument is built at {sample_rate} Hz.")
    sound = SESSION_SOUNDS[session]
    character = sound.character if character is None else float(np.clip(character, 0.0, 1.0))
    source = prepare_source(loaded, seed=seed)
    low, high = SESSION_RANGES[session]
    spans = key_spans(low, high, spacing=ZONE_SPACING)
    segments = _segments(source, seed)
    spectra: dict[tuple[int, float], np.ndarray] = {}
    rendered = {span.root: _render_zone(source, segments, sound, span.root, character, spectra) for span in spans}
    hard_samples = [rr[0].audio for zone in rendered.values() for rr in zone]
    gains = zone_gains(hard_samples, sample_rate)

    samples_dir = Path(out_dir) / SAMPLES_DIR
    samples_dir.mkdir(parents=True, exist_ok=True)
    zones: list[Zone] = []
    gain_index = 0
    for span in spans:
        files: list[list[str]] = []
        loops: list[list[tuple[int, int]]] = []
        for round_robin, (hard, soft) in enumerate(rendered[span.root]):
            gain = float(gains[gain_index])
            gain_index += 1
            names, layer_loops = [], []
            for layer in VELOCITY_LAYERS:
                sample = soft if layer.soft else hard
                level = gain * (10 ** (SOFT_LAYER_DB / 20) if layer.soft else 1.0)
                file_name = f"{session.value}_{span.root:03d}_{layer.name}_rr{round_robin + 1}.wav"
                write_pcm16(samples_dir / file_name, sample.audio * level, sample_rate)
                names.append(f"{SAMPLES_DIR}/{file_name}")
                layer_loops.append(sample.loop)
            files.append(names)
            loops.append(layer_loops)
        zones += _zones_for(span, session, files, loops)
    notes = list(loaded.notes) + source.notes
    pitch = f"pitched at {source.root_hz:.1f} Hz" if source.root_hz is not None else "no clear pitch"
    notes.append(f"played by the effect itself ({pitch}), character {character:.2f}")
    return Instrument(
        session=session,
        name=name,
        source_effect=source_effect,
        engine=engine,
        sample_rate=sample_rate,
        directory=Path(out_dir),
        zones=zones,
        envelope=sound.envelope,
        amp_veltrack=sound.amp_veltrack,
        character=character,
        notes=notes,
    )
