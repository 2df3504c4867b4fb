"""Kit assembly: every GM key's piece from its family's material, in two velocity layers, as an Instrument."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from pipeline.audio import LoadedEffect, resample
from pipeline.dsp.filters import highpass, lowpass
from pipeline.errors import WaveInputError
from pipeline.instruments.drums.hits import HitClass, find_hits, from_attack
from pipeline.instruments.drums.kit import GM_KIT, KitPiece
from pipeline.instruments.drums.shaping import finish, normalised, repitch
from pipeline.instruments.drums.sources import FamilySource, family_sources
from pipeline.instruments.samplefiles import write_pcm16
from pipeline.types import Envelope, Instrument, Session, Zone

log = logging.getLogger(__name__)


def render_piece(piece: KitPiece, source: FamilySource, sample_rate: int) -> np.ndarray:
    """One GM key's sound at full velocity."""
    audio, detune = source.pick(piece.pick)
    semitones = piece.semitones + detune
    # Only what can still sound after pitching is processed: cymbal material is long, a closed hat is not.
    needed = int(piece.length_s * sample_rate * 2.0 ** (semitones / 12.0)) + 64
    audio = repitch(normalised(audio[:needed]), semitones, sample_rate)
    if piece.flams_ms:
        strikes = [0.0, *piece.flams_ms]
        n = len(audio) + int(max(strikes) / 1000 * sample_rate)
        out = np.zeros(n, np.float32)
        for i, ms in enumerate(strikes):
            at = int(ms / 1000 * sample_rate)
            out[at : at + len(audio)] += audio * (0.85**i)
        audio = out
    if piece.highpass_hz:
        audio = highpass(audio, piece.highpass_hz, sample_rate, order=2)
    if piece.lowpass_hz:
        audio = lowpass(audio, piece.lowpass_hz, sample_rate, order=2)
    # What is left of a lead-in after pitching down or filtering (a tabla's boom under a clap) would make it late.
    return finish(from_attack(audio, sample_rate), piece.length_s, sample_rate)


def soft_layer(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """A drum struck softly is darker, not just quieter (the level itself comes from amp_veltrack)."""
    return (normalised(lowpass(audio, 2500.0, sample_rate, order=1)) * 10 ** (-1.0 / 20)).astype(np.float32)


SOFT_VELOCITY_MAX = 72


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def build_drum_kit(loaded: LoadedEffect, out_dir: Path, *, name: str, source_effect: str, sample_rate: int,
                   seed: int = 0, engine: str = "dsp") -> Instrument:
    """Build a GM drum kit from one effect: write its WAVs under ``out_dir/samples`` and return the Instrument.

    Every GM key from 35 to 81 sounds. The caller writes the SFZ/SF2/JSON files
    (:func:`pipeline.instruments.files.write_instrument_files`). Raises WaveInputError when the effect is silent.
    """
    if loaded.silent or loaded.audio.size == 0 or not np.any(loaded.audio):
        raise WaveInputError(f"The sound '{source_effect}' is silent, so no drum kit can be made from it.")
    audio = resample(np.asarray(loaded.audio, dtype=np.float32), loaded.sample_rate, sample_rate)
    out_dir = Path(out_dir)
    (out_dir / "samples").mkdir(parents=True, exist_ok=True)

    hits = find_hits(audio, sample_rate)
    sources = family_sources(hits, audio, sample_rate, seed)
    zones: list[Zone] = []
    for piece in GM_KIT:
        hard = render_piece(piece, sources[piece.family], sample_rate)
        soft = soft_layer(hard, sample_rate)
        layers = (("soft", soft, 1, SOFT_VELOCITY_MAX), ("hard", hard, SOFT_VELOCITY_MAX + 1, 127))
        for layer, data, lovel, hivel in layers:
            rel = f"samples/{piece.key}_{_slug(piece.name)}_{layer}.wav"
            write_pcm16(out_dir / rel, data, sample_rate)
            zones.append(
                Zone(sample=rel, lokey=piece.key, hikey=piece.key, pitch_keycenter=piece.key, lovel=lovel,
                     hivel=hivel, loop_mode="one_shot", volume_db=piece.volume_db, pan=piece.pan)
            )

    counts = {c: sum(h.percussive and h.hit_class == c for h in hits) for c in HitClass}
    notes = list(loaded.notes)
    notes.append("hits: " + ", ".join(f"{n} {c.value}" for c, n in counts.items()) if hits else "hits: none")
    notes += [s.note for s in sources.values() if s.note]
    instrument = Instrument(
        session=Session.DRUMS,
        name=name,
        source_effect=source_effect,
        engine=engine,
        sample_rate=sample_rate,
        directory=out_dir,
        zones=zones,
        envelope=Envelope(attack_s=0.0, decay_s=0.0, sustain_level=1.0, release_s=0.05),
        amp_veltrack=80.0,
        notes=notes,
    )
    log.info("drum kit %s from %s: %s", name, source_effect, "; ".join(notes))
    return instrument
