"""Mastering: balance the stems, sum them, shape the bus and deliver -14 LUFS with true peaks at or under -1 dBTP.

Order matters. Loudness is set before the final limiter, and the limiter pass is repeated with a corrected input
gain and a lower ceiling until both the loudness and the true peak land in range, so neither step undoes the other.
A last plain gain trim makes the peak ceiling hold even where the loop runs out of passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pedalboard import (
    Compressor,
    Limiter,
    Pedalboard,
)

from pipeline.errors import WaveInputError
from pipeline.mix import filters
from pipeline.mix.meters import SILENCE_LUFS, integrated_lufs, true_peak_dbtp
from pipeline.mix.placement import MixStyle, PlacedStems, place_stems, room, spread_side
from pipeline.mix.roles import Role, stem_roles
from pipeline.mix.spectrum import (
    OCTAVE_CENTRES_HZ,
    TILT_DB_PER_OCTAVE,
    band_filters,
    fit_band_gains,
    power_spectrum,
    tilt_deviation,
)
from pipeline.render.sampler import check_sample_rate
from pipeline.render.stem_cache import StemCache
from pipeline.types import Session

TARGET_LUFS = -14.0
LOUDNESS_TOLERANCE_LU = 0.5
TRUE_PEAK_CEILING_DBTP = -1.0
BUS_LUFS = -20.0  # where the bus compressor's threshold is set for
# The mix's loudness rises by at most this much, so that a nearly silent mix is not blown up into loud noise.
MAX_TOTAL_GAIN_DB = 30.0
MAX_LIMITER_PASSES = 6
CEILING_MARGIN_DB = 0.2
# pedalboard's Limiter (JUCE's) is a maximiser: it drives the input by (3.75 dB - threshold) and holds the output
# under 0 dBFS. ``brickwall`` undoes that so that the caller chooses the gain and the ceiling directly.
LIMITER_MAKEUP_DB = 3.75
LIMITER_THRESHOLD_DB = -6.0
ROOM_RETURN_DB = 4.0
BASS_MONO_HZ = 120.0
# Tonal balance: octave bands that stray from the target tilt are pulled back, by at most these amounts each.
MAX_BAND_BOOST_DB = 12.0
MAX_BAND_CUT_DB = 20.0  # cutting a strident band is safer than boosting a missing one
BAND_DEADZONE_DB = 1.0
TONAL_PASSES = 4


@dataclass
class MasterResult:
    audio: np.ndarray  # (n, 2) float32
    sample_rate: int
    loudness_lufs: float
    true_peak_dbtp: float
    gain_db: float = 0.0  # gain from the balanced bus to the master, limiter aside
    stem_gains_db: dict[Session, float] = field(default_factory=dict)
    roles: dict[Session, Role] = field(default_factory=dict)
    tonal_eq_db: dict[int, float] = field(default_factory=dict)  # octave band (Hz) -> correction applied
    notes: list[str] = field(default_factory=list)  # what could not be done as asked, in plain words

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate


def _as_stereo(name: str, stem: np.ndarray, notes: list[str]) -> np.ndarray:
    stem = np.asarray(stem, dtype=np.float32)
    if stem.ndim == 1:
        stem = np.repeat(stem[:, None], 2, axis=1)
    if stem.ndim != 2 or stem.shape[1] not in (1, 2):
        raise WaveInputError(f"The {name} stem is not mono or stereo audio (shape {stem.shape}).")
    if stem.shape[1] == 1:
        stem = np.repeat(stem, 2, axis=1)
    broken = ~np.isfinite(stem)
    if broken.any():
        notes.append(f"The {name} stem had {int(broken.sum())} broken samples; they were silenced.")
        stem = np.where(broken, 0.0, stem).astype(np.float32)
    return stem


def plain_sum(stems: dict[Session, np.ndarray], notes: list[str]) -> np.ndarray:
    """The stems as they came, summed into one channel-first ``(2, n)`` buffer (shorter ones padded)."""
    if not stems:
        raise WaveInputError("There is nothing to mix: no session played anything.")
    ready = [_as_stereo(str(session), stem, notes) for session, stem in stems.items()]
    total = np.zeros((2, max(len(stem) for stem in ready)), np.float32)
    for stem in ready:
        total[:, : len(stem)] += stem.T
    return total


def balance_stems(
    stems: dict[Session, np.ndarray], sample_rate: int, notes: list[str],
    roles: dict[Session, Role] | None = None, style: MixStyle | None = None,
    cache: StemCache | None = None, stem_keys: dict[Session, str] | None = None,
) -> tuple[np.ndarray, dict[Session, float]]:
    """Place each stem by its role (EQ, pan, width, role loudness), add the shared room and the early reflections
    and sum them into one channel-first stereo bus ``(2, n)``. Silent stems add nothing."""
    style = style or MixStyle()
    placed = placed_stems(stems, sample_rate, notes, roles, style, cache, stem_keys)
    bus = room(placed.room_send, style, sample_rate) * np.float32(10 ** (ROOM_RETURN_DB / 20))
    side = spread_side(placed.spread_send, sample_rate)
    bus[0] += side
    bus[1] -= side
    for stem in placed.stems.values():
        bus[:, : stem.shape[1]] += stem
    return bus, placed.gains_db


def _channel_first(stem: np.ndarray) -> np.ndarray:
    """``(n, 2)`` as ``(2, n)``; a stem whose channels are equal as ``(1, n)`` (it is placed as one channel)."""
    if np.array_equal(stem[:, 0], stem[:, 1]):
        return np.ascontiguousarray(stem[:, 0])[None, :]
    return np.ascontiguousarray(stem.T)


def placed_stems(
    stems: dict[Session, np.ndarray], sample_rate: int, notes: list[str],
    roles: dict[Session, Role] | None = None, style: MixStyle | None = None,
    cache: StemCache | None = None, stem_keys: dict[Session, str] | None = None,
) -> PlacedStems:
    """Each stem, checked and made stereo, as it enters the bus (see :func:`pipeline.mix.placement.place_stems`)."""
    if not stems:
        raise WaveInputError("There is nothing to mix: no session played anything.")
    ready = {session: _channel_first(_as_stereo(str(session), stem, notes)) for session, stem in stems.items()}
    roles = roles or stem_roles(list(ready), None)
    roles = {session: roles.get(session, Role.ACCOMPANIMENT) for session in ready}
    return place_stems(ready, roles, style or MixStyle(), sample_rate, notes, cache, stem_keys)


def tonal_balance(bus: np.ndarray, sample_rate: int, tilt_db_per_octave: float) -> tuple[np.ndarray, dict[int, float]]:
    """Pull octave bands that stray from the target tilt back towards it (see
    :func:`pipeline.mix.spectrum.fit_band_gains`)."""
    freqs, power = power_spectrum(bus, sample_rate)
    total = fit_band_gains(freqs, power, sample_rate, lambda levels: tilt_deviation(levels, tilt_db_per_octave),
                           MAX_BAND_CUT_DB, MAX_BAND_BOOST_DB, BAND_DEADZONE_DB, TONAL_PASSES)
    bus = filters.apply(band_filters(total, sample_rate), bus)
    return bus, {int(c): round(float(g), 1) for c, g in zip(OCTAVE_CENTRES_HZ, total)}


def bass_mono(bus: np.ndarray, sample_rate: int) -> np.ndarray:
    """Fold everything under ``BASS_MONO_HZ`` to the centre: the side signal is high-passed (24 dB/octave)."""
    mid = (bus[0] + bus[1]) * np.float32(0.5)
    side = (bus[0] - bus[1]) * np.float32(0.5)
    side = filters.apply(filters.chain(filters.highpass(sample_rate, BASS_MONO_HZ),
                                       filters.highpass(sample_rate, BASS_MONO_HZ)), side)
    return np.stack([mid + side, mid - side])


def bus_chain(bus: np.ndarray, sample_rate: int, tilt_db_per_octave: float = TILT_DB_PER_OCTAVE
              ) -> tuple[np.ndarray, dict[int, float]]:
    """High-pass against rumble, slow gentle glue compression (no pumping), tonal balance, bass in mono.

    ``bus`` is channel-first ``(2, n)``.
    """
    bus = filters.apply(filters.chain(filters.highpass(sample_rate, 30.0)), bus)
    glue = Pedalboard([Compressor(threshold_db=-18.0, ratio=1.6, attack_ms=30.0, release_ms=300.0)])
    bus, corrections = tonal_balance(glue(bus, sample_rate), sample_rate, tilt_db_per_octave)
    return bass_mono(bus, sample_rate), corrections


def brickwall(audio: np.ndarray, sample_rate: int, gain_db: float, ceiling_db: float) -> np.ndarray:
    """Raise channel-first ``audio`` by ``gain_db`` with its sample peaks held at ``ceiling_db`` dBFS."""
    pre_gain_db = gain_db - ceiling_db + LIMITER_THRESHOLD_DB - LIMITER_MAKEUP_DB
    limiter = Pedalboard([Limiter(threshold_db=LIMITER_THRESHOLD_DB, release_ms=80.0)])
    limited = limiter(audio * np.float32(10 ** (pre_gain_db / 20)), sample_rate, reset=True)
    return limited * np.float32(10 ** (ceiling_db / 20))


def _trim_db(peak_dbtp: float) -> float:
    """The plain gain (<= 0 dB) that brings a true peak this high safely under the ceiling."""
    return TRUE_PEAK_CEILING_DBTP - 0.05 - peak_dbtp if peak_dbtp > TRUE_PEAK_CEILING_DBTP - 0.02 else 0.0


def limit_to_targets(
    audio: np.ndarray, sample_rate: int, target_lufs: float = TARGET_LUFS
) -> tuple[np.ndarray, float, float, float]:
    """Set the loudness of channel-first ``audio`` to ``target_lufs`` and hold true peaks under the ceiling.

    Returns the audio, the gain applied (dB), and the result's loudness (LUFS) and true peak (dBTP).
    """
    loudness = integrated_lufs(audio.T, sample_rate)
    if loudness <= SILENCE_LUFS:
        return audio, 0.0, loudness, true_peak_dbtp(audio.T, sample_rate)
    gain_db = target_lufs - loudness
    # Sample-peak ceiling of the limiter; true peaks sit a little above sample peaks, hence the margin.
    ceiling_db = TRUE_PEAK_CEILING_DBTP - 0.3
    for _ in range(MAX_LIMITER_PASSES):
        limited = brickwall(audio, sample_rate, gain_db, ceiling_db)
        loudness = integrated_lufs(limited.T, sample_rate)
        peak = true_peak_dbtp(limited.T, sample_rate)
        loud_ok = abs(loudness - target_lufs) <= LOUDNESS_TOLERANCE_LU
        if loud_ok and peak <= TRUE_PEAK_CEILING_DBTP:
            break
        # A peak just over the ceiling is cheaper to fix with the final trim than with another limiter pass,
        # as long as the trim keeps the loudness in range.
        if abs(loudness + _trim_db(peak) - target_lufs) <= LOUDNESS_TOLERANCE_LU:
            break
        if not loud_ok:
            gain_db += target_lufs - loudness
        if peak > TRUE_PEAK_CEILING_DBTP:
            # The limiter overshoots more as it works harder: aim a little under the plain difference.
            ceiling_db -= peak - TRUE_PEAK_CEILING_DBTP + CEILING_MARGIN_DB
    trim_db = _trim_db(peak)
    if trim_db < 0:
        # A plain trim holds the ceiling (a gain shifts loudness and true peak by the same dB).
        limited = limited * np.float32(10 ** (trim_db / 20))
        loudness, peak, gain_db = loudness + trim_db, peak + trim_db, gain_db + trim_db
    return limited.astype(np.float32, copy=False), gain_db, loudness, peak


def master(
    stems: dict[Session, np.ndarray], sample_rate: int, roles: dict[Session, Role] | None = None,
    style: MixStyle | None = None, *, cache: StemCache | None = None, stem_keys: dict[Session, str] | None = None,
) -> MasterResult:
    """Mix the stems by their roles and master them into a stereo track at -14 LUFS, true peaks <= -1 dBTP.

    ``roles`` says which stem carries the melody (see :func:`pipeline.mix.roles.stem_roles`); without it every
    melodic stem but the bass accompanies. ``style`` leans the production brighter, roomier or wider. With
    ``cache`` and ``stem_keys`` (each stem's content key, see :func:`pipeline.render.render_stems`), each stem's
    own shaping is reused from an earlier mix of the same stem; the result is the same.
    """
    sample_rate = check_sample_rate(sample_rate)
    style = style or MixStyle()
    notes: list[str] = []
    roles = {session: (roles or stem_roles(list(stems), None)).get(session, Role.ACCOMPANIMENT) for session in stems}
    raw = plain_sum(stems, [])
    raw_loudness = integrated_lufs(raw.T, sample_rate)
    corrections: dict[int, float] = {}
    stem_gains = {session: 0.0 for session in stems}
    if raw_loudness <= SILENCE_LUFS:
        notes.append("The mix is silent; it was left as it is.")
        audio, gain_db, loudness, peak = raw, 0.0, SILENCE_LUFS, true_peak_dbtp(raw.T, sample_rate)
    else:
        del raw
        bus, stem_gains = balance_stems(stems, sample_rate, notes, roles, style, cache, stem_keys)
        bus_loudness = integrated_lufs(bus.T, sample_rate)
        target = min(TARGET_LUFS, raw_loudness + MAX_TOTAL_GAIN_DB)
        if target < TARGET_LUFS:
            notes.append(
                f"The mix is very quiet ({raw_loudness:.0f} LUFS); "
                f"it was raised by only {MAX_TOTAL_GAIN_DB:.0f} dB."
            )
        bus_gain_db = BUS_LUFS - bus_loudness
        bus, corrections = bus_chain(bus * np.float32(10 ** (bus_gain_db / 20)), sample_rate,
                                     TILT_DB_PER_OCTAVE + style.brightness)
        audio, limiter_gain_db, loudness, peak = limit_to_targets(bus, sample_rate, target)
        gain_db = bus_gain_db + limiter_gain_db
    return MasterResult(
        audio=np.ascontiguousarray(audio.T, dtype=np.float32),
        sample_rate=sample_rate,
        loudness_lufs=round(loudness, 2),
        true_peak_dbtp=round(peak, 2),
        gain_db=round(gain_db, 2),
        stem_gains_db=stem_gains,
        roles=roles,
        tonal_eq_db=corrections,
        notes=notes,
    )
