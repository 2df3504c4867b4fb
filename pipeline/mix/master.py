"""Mastering: balance the stems, sum them, shape the bus and deliver -14 LUFS with true peaks at or under -1 dBTP.

Order matters. Loudness is set before the final limiter, and the limiter pass is repeated with a corrected input
gain and a lower ceiling until both the loudness and the true peak land in range, so neither step undoes the other.
A last plain gain trim makes the peak ceiling hold even where the loop runs out of passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pedalboard import Compressor, HighpassFilter, Limiter, Pedalboard, Reverb

from pipeline.errors import WaveInputError
from pipeline.mix.meters import SILENCE_LUFS, integrated_lufs, true_peak_dbtp
from pipeline.render.sampler import check_sample_rate
from pipeline.types import Session

TARGET_LUFS = -14.0
LOUDNESS_TOLERANCE_LU = 0.5
TRUE_PEAK_CEILING_DBTP = -1.0
# Each stem is brought to its own loudness before the bus so that no session buries the others.
STEM_LUFS: dict[Session, float] = {
    Session.DRUMS: -20.0,
    Session.BASS: -21.0,
    Session.GUITAR: -22.0,
    Session.KEYBOARD: -22.0,
}
OTHER_STEM_LUFS = -22.0
BUS_LUFS = -20.0  # where the bus compressor's threshold is set for
# Gain caps, so that a nearly silent stem or mix is not blown up into loud noise: a stem is raised at most this
# much more than the stem that needs the least gain, and the mix's loudness rises by at most the total cap.
MAX_STEM_LIFT_DB = 30.0
MAX_TOTAL_GAIN_DB = 30.0
MAX_LIMITER_PASSES = 6
CEILING_MARGIN_DB = 0.2
# pedalboard's Limiter (JUCE's) is a maximiser: it drives the input by (3.75 dB - threshold) and holds the output
# under 0 dBFS. ``brickwall`` undoes that so that the caller chooses the gain and the ceiling directly.
LIMITER_MAKEUP_DB = 3.75
LIMITER_THRESHOLD_DB = -6.0


@dataclass
class MasterResult:
    audio: np.ndarray  # (n, 2) float32
    sample_rate: int
    loudness_lufs: float
    true_peak_dbtp: float
    gain_db: float = 0.0  # gain from the balanced bus to the master, limiter aside
    stem_gains_db: dict[Session, float] = field(default_factory=dict)
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


def _sum_of(stems: dict[Session, np.ndarray], gains_db: dict[Session, float], length: int) -> np.ndarray:
    """The stems, each raised by its gain, summed into one channel-first float32 ``(2, length)`` bus.

    Channel-first because pedalboard and the meters read each channel as one contiguous row (the renderer's stems
    are views of such buffers already).
    """
    bus = np.zeros((2, length), np.float32)
    scaled = np.empty_like(bus)
    for session, stem in stems.items():
        np.multiply(stem.T, np.float32(10 ** (gains_db[session] / 20)), out=scaled[:, : len(stem)])
        bus[:, : len(stem)] += scaled[:, : len(stem)]
    return bus


def balance_stems(
    stems: dict[Session, np.ndarray], sample_rate: int, notes: list[str]
) -> tuple[np.ndarray, dict[Session, float], float, float]:
    """Bring each stem to its session's loudness and sum them into one channel-first stereo bus ``(2, n)``.

    Silent stems add nothing.
    Also returns the loudness of the plain, unbalanced sum (how loud the mix was as it came) and of the bus.
    """
    if not stems:
        raise WaveInputError("There is nothing to mix: no session played anything.")
    ready = {session: _as_stereo(str(session), stem, notes) for session, stem in stems.items()}
    length = max(len(stem) for stem in ready.values())
    raw = _sum_of(ready, {session: 0.0 for session in ready}, length)
    raw_loudness = integrated_lufs(raw.T, sample_rate)
    del raw
    # A short stem is measured on its own with silence after it (integrated_lufs pads it to one gating block).
    loudness = {session: integrated_lufs(stem, sample_rate) for session, stem in ready.items()}
    wanted = {
        session: STEM_LUFS.get(session, OTHER_STEM_LUFS) - value
        for session, value in loudness.items()
        if value > SILENCE_LUFS
    }
    least = min(wanted.values(), default=0.0)
    gains: dict[Session, float] = {}
    for session in ready:
        gain = min(wanted.get(session, 0.0), least + MAX_STEM_LIFT_DB)
        if session in wanted and gain < wanted[session]:
            notes.append(
                f"The {session} part is much quieter than the others; it was raised by only {gain:.0f} dB."
            )
        gains[session] = round(gain, 2)
    bus = _sum_of(ready, gains, length)
    return bus, gains, raw_loudness, integrated_lufs(bus.T, sample_rate)


def bus_chain(bus: np.ndarray, sample_rate: int) -> np.ndarray:
    """High-pass against rumble, gentle glue compression, a little room. ``bus`` is channel-first ``(2, n)``."""
    board = Pedalboard([
        HighpassFilter(cutoff_frequency_hz=35.0),
        Compressor(threshold_db=-24.0, ratio=2.0, attack_ms=15.0, release_ms=150.0),
        # JUCE's reverb scales dry by 2 and wet by 3: dry 0.5 is unity, wet 0.04 is a wet path at -18 dB.
        Reverb(room_size=0.35, damping=0.6, wet_level=0.04, dry_level=0.5, width=0.9),
    ])
    return board(bus, sample_rate)


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


def master(stems: dict[Session, np.ndarray], sample_rate: int) -> MasterResult:
    """Mix and master the stems into a stereo track at -14 LUFS with true peaks at or below -1 dBTP."""
    sample_rate = check_sample_rate(sample_rate)
    notes: list[str] = []
    bus, stem_gains, raw_loudness, bus_loudness = balance_stems(stems, sample_rate, notes)
    if raw_loudness <= SILENCE_LUFS:
        notes.append("The mix is silent; it was left as it is.")
        audio, gain_db, loudness, peak = bus, 0.0, SILENCE_LUFS, true_peak_dbtp(bus.T, sample_rate)
    else:
        target = min(TARGET_LUFS, raw_loudness + MAX_TOTAL_GAIN_DB)
        if target < TARGET_LUFS:
            notes.append(
                f"The mix is very quiet ({raw_loudness:.0f} LUFS); "
                f"it was raised by only {MAX_TOTAL_GAIN_DB:.0f} dB."
            )
        bus_gain_db = BUS_LUFS - bus_loudness
        bus = bus_chain(bus * np.float32(10 ** (bus_gain_db / 20)), sample_rate)
        audio, limiter_gain_db, loudness, peak = limit_to_targets(bus, sample_rate, target)
        gain_db = bus_gain_db + limiter_gain_db
    return MasterResult(
        audio=np.ascontiguousarray(audio.T, dtype=np.float32),
        sample_rate=sample_rate,
        loudness_lufs=round(loudness, 2),
        true_peak_dbtp=round(peak, 2),
        gain_db=round(gain_db, 2),
        stem_gains_db=stem_gains,
        notes=notes,
    )
