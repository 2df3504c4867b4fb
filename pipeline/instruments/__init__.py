"""Instruments: one effect + one session -> a playable multisample (WAV samples, SFZ, SF2, instrument.json).

:func:`build_instrument` is the stage's entry point. Drums are sliced into a kit by
:mod:`pipeline.instruments.drums`; bass, guitar and keyboard are played in tune by the effect itself
(:mod:`pipeline.instruments.melodic`), with a per-session ``character`` from 0 (clean instrument) to 1 (raw
sound). The ``rave`` engine first re-voices the effect with a RAVE model, then builds the same way, so the in-tune
guarantee holds for both engines. Each builder writes its samples and returns an :class:`~pipeline.types.Instrument`;
:mod:`pipeline.instruments.files` then writes its SFZ, SF2 and JSON.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

from pipeline.audio import LoadedEffect, condition_effect, load_effect
from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.instruments.files import write_instrument_files
from pipeline.instruments.melodic import build_melodic_instrument
from pipeline.session_table import row
from pipeline.types import EffectInput, Instrument, Session

log = logging.getLogger(__name__)

ENGINES = ("dsp", "rave")

__all__ = ["ENGINES", "build_instrument"]


def _revoice_with_rave(loaded: LoadedEffect, model_path: Path | None, name: str) -> LoadedEffect:
    if model_path is None:
        raise WaveEngineError("The rave engine needs a RAVE model file for this session, and none is configured.")
    from pipeline.instruments.rave import apply_rave

    audio = np.asarray(apply_rave(loaded.audio, loaded.sample_rate, Path(model_path)), dtype=np.float32)
    revoiced = condition_effect(audio, loaded.sample_rate, loaded.sample_rate, name=f"{name} (RAVE)")
    revoiced.notes = list(loaded.notes) + revoiced.notes
    return revoiced


def _build_drums(
    loaded: LoadedEffect, out_dir: Path, *, name: str, source_effect: str, sample_rate: int, seed: int, engine: str
) -> Instrument:
    try:
        from pipeline.instruments.drums import build_drum_kit
    except ImportError as exc:
        raise WaveEngineError("The drum kit builder is not available in this installation.") from exc
    fallback_note = None
    if loaded.silent:
        loaded = LoadedEffect(_noise_burst(sample_rate, seed), sample_rate, list(loaded.notes))
        fallback_note = "the effect is silent: the kit was built from a neutral noise burst instead"
    instrument = build_drum_kit(
        loaded, out_dir, name=name, source_effect=source_effect, sample_rate=sample_rate, seed=seed, engine=engine
    )
    if fallback_note:
        instrument.notes.append(fallback_note)
    return instrument


def _noise_burst(sample_rate: int, seed: int) -> np.ndarray:
    """A short, decaying noise hit: something neutral to build a kit from when the effect gives nothing."""
    n = int(0.4 * sample_rate)
    noise = np.random.default_rng(seed).standard_normal(n)
    burst = noise * np.exp(-np.arange(n) / (0.06 * sample_rate))
    return (0.9 * burst / np.max(np.abs(burst))).astype(np.float32)


@cache
def _thread_pools() -> ThreadpoolController:
    return ThreadpoolController()


def build_instrument(
    effect: EffectInput,
    session: Session,
    out_dir: Path,
    *,
    sample_rate: int = 44100,
    engine: str = "dsp",
    rave_model: Path | None = None,
    seed: int = 0,
    character: float | None = None,
) -> Instrument:
    """Build ``session``'s instrument from ``effect`` into ``out_dir`` and return it.

    ``character`` (melodic sessions; 0 clean instrument .. 1 raw sound) defaults to the session's measured default.

    Writes the samples, ``instrument.sfz``, ``instrument.sf2`` and ``instrument.json``. Repairs made to the
    effect (silence, NaNs, length) and fallbacks taken are listed in ``Instrument.notes``.
    """
    if engine not in ENGINES:
        raise WaveInputError(f"Unknown instrument engine '{engine}'; choose one of: {', '.join(ENGINES)}.")
    if character is not None and not (np.isfinite(character) and 0.0 <= character <= 1.0):
        raise WaveInputError(f"Character {character} is outside 0 (clean instrument) .. 1 (raw sound).")
    if not 8000 <= sample_rate <= 192000:
        raise WaveInputError(f"Sample rate {sample_rate} Hz is outside 8000..192000 Hz.")
    session = Session(session)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = effect.name or effect.id
    loaded = load_effect(effect.path, sample_rate)
    if engine == "rave" and not loaded.silent:
        loaded = _revoice_with_rave(loaded, rave_model, name)

    # The builders' matrix products are small (onset envelopes): more BLAS threads only spin between them, which
    # costs CPU time and gains no speed.
    with _thread_pools().limit(limits=1, user_api="blas"):
        if row(session).drum_kit:
            instrument = _build_drums(
                loaded, out_dir, name=name, source_effect=effect.id, sample_rate=sample_rate, seed=seed,
                engine=engine,
            )
        else:
            instrument = build_melodic_instrument(
                loaded, session, out_dir, name=name, source_effect=effect.id, sample_rate=sample_rate, seed=seed,
                engine=engine, character=character,
            )
        write_instrument_files(instrument)
    log.info("built %s instrument from %s in %s (%d zones)", session.value, effect.id, out_dir, len(instrument.zones))
    return instrument
