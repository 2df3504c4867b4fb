"""Melodic instruments (bass, guitar, keyboard) built from one effect.

Bass and guitar are plucked strings excited by the effect's attack; keyboard rings the attack into a steady,
looped tone coloured like the effect (see :mod:`pipeline.instruments.synthesis`). Every zone's root is synthesised
directly at its pitch, so each sample is exactly in tune; the sampler only stretches it by a semitone either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.audio import LoadedEffect
from pipeline.errors import WaveInputError
from pipeline.instruments.excitation import Excitation, extract_excitation
from pipeline.instruments.samplefiles import write_pcm16
from pipeline.instruments.multisample import (
    LOOP_CROSSFADE_S,
    VELOCITY_LAYERS,
    crossfade_loop,
    find_loop,
    key_spans,
    midi_to_hz,
    zone_gains,
)
from pipeline.instruments.synthesis import Voicing, plucked_notes, sustained_notes
from pipeline.types import SESSION_RANGES, Envelope, Instrument, Session, Zone

SAMPLES_DIR = "samples"
SOFT_LAYER_DB = -3.0
LOOP_S = 0.25  # length of the keyboard's steady loop
TAIL_AFTER_LOOP_S = 0.08


@dataclass(frozen=True)
class SessionSound:
    voicing: Voicing
    envelope: Envelope
    amp_veltrack: float
    sustained: bool


SESSION_SOUNDS: dict[Session, SessionSound] = {
    Session.BASS: SessionSound(
        voicing=Voicing(
            seconds=2.4, decay_s=2.2, damping_hz=3000.0, excitation_s=0.06, colour_share=0.8, colour_range_db=-40.0,
            tilt_db_per_octave=9.0, transient_share=0.4, transient_s=0.08, soft_cutoff_harmonic=5.0,
        ),
        envelope=Envelope(attack_s=0.002, decay_s=0.0, sustain_level=1.0, release_s=0.12),
        amp_veltrack=70.0,
        sustained=False,
    ),
    Session.GUITAR: SessionSound(
        voicing=Voicing(
            seconds=2.0, decay_s=1.8, damping_hz=6000.0, excitation_s=0.04, colour_share=0.8, colour_range_db=-36.0,
            tilt_db_per_octave=6.0, transient_share=0.4, transient_s=0.06, soft_cutoff_harmonic=7.0,
        ),
        envelope=Envelope(attack_s=0.001, decay_s=0.0, sustain_level=1.0, release_s=0.25),
        amp_veltrack=75.0,
        sustained=False,
    ),
    Session.KEYBOARD: SessionSound(
        voicing=Voicing(
            seconds=0.5, decay_s=0.35, damping_hz=6000.0, excitation_s=0.05, colour_share=0.8, colour_range_db=-30.0,
            tilt_db_per_octave=6.0, transient_share=0.2, transient_s=0.03, soft_cutoff_harmonic=6.0,
        ),
        envelope=Envelope(attack_s=0.004, decay_s=1.5, sustain_level=0.7, release_s=0.35),
        amp_veltrack=80.0,
        sustained=True,
    ),
}


@dataclass
class _Sample:
    audio: np.ndarray
    loop: tuple[int, int] | None  # [start, end) in frames


def _render_zone(excitation: Excitation, sound: SessionSound, root: int, seed: int) -> tuple[_Sample, _Sample]:
    """The (hard, soft) velocity layers of one zone, synthesised at the zone's root."""
    f0 = midi_to_hz(root)
    if not sound.sustained:
        hard, soft = plucked_notes(excitation, f0, sound.voicing)
        return _Sample(hard, None), _Sample(soft, None)
    rng = np.random.default_rng([seed, root])
    notes, loop_length = sustained_notes(excitation, f0, sound.voicing, loop_s=LOOP_S, rng=rng)
    sr = excitation.sample_rate
    tail = int(TAIL_AFTER_LOOP_S * sr)
    samples = []
    for note in notes:
        start, end = find_loop(note, sr, f0, int(sound.voicing.seconds * sr), int(0.9 * loop_length))
        audio = crossfade_loop(note, start, end, LOOP_CROSSFADE_S, sr)[: end + tail]
        audio[-tail:] *= np.linspace(1.0, 0.0, tail, dtype=np.float32)
        samples.append(_Sample(audio, (start, end)))
    return samples[0], samples[1]


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
) -> Instrument:
    """Synthesise every zone and velocity layer, write the WAVs under ``out_dir/samples`` and describe them.

    The caller writes the SFZ/SF2/JSON files; this returns the :class:`Instrument` with its zones.
    """
    if session not in SESSION_SOUNDS:
        raise WaveInputError(f"{session.value} is not a melodic session.")
    if loaded.sample_rate != sample_rate:
        raise WaveInputError(f"effect is at {loaded.sample_rate} Hz but the instrument is built at {sample_rate} Hz.")
    sound = SESSION_SOUNDS[session]
    excitation = extract_excitation(loaded, seed=seed)
    low, high = SESSION_RANGES[session]
    spans = key_spans(low, high)
    rendered = {span.root: _render_zone(excitation, sound, span.root, seed) for span in spans}
    gains = dict(zip(rendered, zone_gains([hard.audio for hard, _ in rendered.values()], sample_rate)))

    samples_dir = Path(out_dir) / SAMPLES_DIR
    samples_dir.mkdir(parents=True, exist_ok=True)
    zones: list[Zone] = []
    for span in spans:
        for layer in VELOCITY_LAYERS:
            sample = rendered[span.root][1 if layer.soft else 0]
            gain = gains[span.root] * (10 ** (SOFT_LAYER_DB / 20) if layer.soft else 1.0)
            file_name = f"{session.value}_{span.root:03d}_{layer.name}.wav"
            write_pcm16(samples_dir / file_name, sample.audio * gain, sample_rate)
            zones.append(
                Zone(
                    sample=f"{SAMPLES_DIR}/{file_name}",
                    lokey=span.lokey,
                    hikey=span.hikey,
                    pitch_keycenter=span.root,
                    lovel=layer.lovel,
                    hivel=layer.hivel,
                    loop_mode="loop_sustain" if sample.loop else "no_loop",
                    loop_start=sample.loop[0] if sample.loop else None,
                    loop_end=sample.loop[1] - 1 if sample.loop else None,
                )
            )
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
        notes=list(loaded.notes) + excitation.notes,
    )
