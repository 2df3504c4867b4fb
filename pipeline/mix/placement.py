"""Placing each stem in the mix by its role: EQ, loudness, pan and width, and its send into a shared room.

Audio here is channel-first ``(2, n)`` float32, as pedalboard reads it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from pedalboard import (
    Distortion,
    Gain,
    LowpassFilter,
    Mix,
    Pedalboard,
    Reverb,
)
from scipy.ndimage import uniform_filter1d

from pipeline.digests import fields_digest
from pipeline.mix import filters
from pipeline.mix.meters import SILENCE_LUFS, loudness_and_window_levels, window_levels_db
from pipeline.mix.roles import ROLE_SOUND, Role
from pipeline.mix.spectrum import (
    OCTAVE_CENTRES_HZ,
    TILT_DB_PER_OCTAVE,
    band_filters,
    band_levels,
    fit_band_gains,
    power_spectrum,
)
from pipeline.render.stem_cache import StemCache
from pipeline.types import Session

HARSH_HZ = 4000.0
AIR_HZ = 9000.0
KICK_HZ = 55.0  # the bass steps aside here so the kick's fundamental comes through
KICK_ROOM_DB = -4.0
KICK_WEIGHT_DB = 2.0
BASS_DRIVE_DB = 18.0
BASS_GRIT_DB = -14.0
OCTAVE_HARMONIC_DB = -6.0
# Gain cap, so that a nearly silent stem is not blown up into loud noise: a stem is raised at most this much more
# than the stem that needs the least gain.
MAX_STEM_LIFT_DB = 30.0
MELODY_MARGIN_DB = 3.0  # the tune's median lead over the loudest other part while it plays
MAX_MELODY_RIDE_DB = 8.0
MELODY_WINDOW_S = 0.4
SHAPING_THREADS = 2
# (delay ms, gain) of the early reflections that make the spread; delays spaced so that no comb lines up.
SPREAD_TAPS = ((7.1, 0.42), (11.3, -0.38), (17.9, 0.34), (23.3, -0.3), (31.7, 0.26), (41.9, -0.22))
SPREAD_HIGHPASS_HZ = 300.0  # the low end stays in the centre
ROOM_HIGHPASS_HZ = 250.0  # the room carries no low end: the bass stays dry and mono
# The bass follows the band: where the other parts play some dB under their loud sections, the bass drops by
# BASS_FOLLOW times as many dB (at most BASS_FOLLOW_FLOOR_DB), so that sparse sections breathe instead of resting on
# a steady low end. Levels are K-weighted, 400 ms windows smoothed over BASS_FOLLOW_SMOOTH_S.
BASS_FOLLOW = 2.0
BASS_FOLLOW_FLOOR_DB = -12.0
BASS_FOLLOW_SMOOTH_S = 3.2
BASS_FOLLOW_WINDOW_S = MELODY_WINDOW_S  # the stems' window levels serve both
BASS_FOLLOW_LOUD_PERCENTILE = 90
# Each part's tonal shape: octave bands 63 Hz - 8 kHz in dB against the mix's target tilt, level with the middle of
# the bands the role carries (True in ROLE_BANDS). A part's own EQ pulls it towards its shape before the parts are
# summed, so that the bass brings the low end, the tune the middle and no part a strident top; recorded sounds
# stray far from what an instrument of the role would give. Bands the role does not carry are only ever cut.
ROLE_SHAPE_DB: dict[Role, tuple[float, ...]] = {
    Role.BASS: (0.0, 0.0, -2.0, -8.0, -16.0, -24.0, -30.0, -36.0),
    Role.DRUMS: (0.0, -3.0, -3.0, -3.0, -3.0, -3.0, -3.0, -3.0),
    Role.MELODY: (-24.0, -12.0, -3.0, 0.0, 0.0, 0.0, -2.0, -4.0),
    Role.ACCOMPANIMENT: (-24.0, -10.0, 0.0, 0.0, 0.0, -3.0, -6.0, -9.0),
}
ROLE_BANDS: dict[Role, tuple[bool, ...]] = {
    Role.BASS: (True, True, True, False, False, False, False, False),
    Role.DRUMS: (True,) * 8,
    Role.MELODY: (False, False, True, True, True, True, True, False),
    Role.ACCOMPANIMENT: (False, False, True, True, True, True, False, False),
}
PART_MAX_CUT_DB = 15.0
PART_MAX_BOOST_DB = 9.0
PART_CONTENT_RANGE_DB = 20.0
PART_ANALYSED_S = 30.0  # spread over the song, as the master's analysis
# JUCE's reverb scales its wet path by 3: a third is a wet path at unity.
ROOM_WET_LEVEL = 1.0 / 3.0


@dataclass(frozen=True)
class MixStyle:
    """How the production leans: brighter or darker, drier or roomier, narrower or wider."""

    brightness: float = 0.0  # dB per octave added to the master's target tilt (+ brighter, - darker)
    space: float = 1.0  # scales every reverb send
    width: float = 1.0  # scales how far accompaniment is spread
    room_size: float = 0.55


@dataclass
class PlacedStems:
    stems: dict[Session, np.ndarray]  # channel-first, gain applied: each stem as it enters the bus
    gains_db: dict[Session, float]
    room_send: np.ndarray  # mono sum (L + R) of the reverb sends: the room hears only the sum of its input
    spread_send: np.ndarray  # mono sum of what each stem sends to the shared early reflections (see spread_side)


def role_eq(role: Role, sample_rate: int) -> np.ndarray:
    """The role's linear EQ as one filter cascade (see :mod:`pipeline.mix.filters`)."""
    sound = ROLE_SOUND[role]
    sections = [
        filters.highpass(sample_rate, sound.highpass_hz),
        filters.peak(sample_rate, sound.body_hz, sound.body_db, 0.8),
        filters.peak(sample_rate, HARSH_HZ, sound.harshness_db, 0.6),
        filters.high_shelf(sample_rate, AIR_HZ, sound.air_db, 0.7),
    ]
    if role == Role.BASS:
        sections.append(filters.peak(sample_rate, KICK_HZ, KICK_ROOM_DB, 1.0))
    elif role == Role.DRUMS:
        sections.append(filters.low_shelf(sample_rate, 80.0, KICK_WEIGHT_DB, 0.7))
    return filters.chain(*sections)


def role_tonal_eq(stem: np.ndarray, role: Role, fixed: np.ndarray, sample_rate: int) -> np.ndarray:
    """The part's corrective EQ (an ``sos`` cascade run after ``fixed``, its role EQ): bands above the role's
    shape are cut, bands the role carries that the part plays in but that fall short are raised (see
    ``ROLE_SHAPE_DB``). A band counts as played in within ``PART_CONTENT_RANGE_DB`` of the part's strongest."""
    freqs, power = power_spectrum(stem, sample_rate, PART_ANALYSED_S)
    if not power.any():
        return filters.chain()
    power = power * filters.power_response(fixed, sample_rate, freqs)
    line = TILT_DB_PER_OCTAVE * np.log2(np.array(OCTAVE_CENTRES_HZ) / 1000.0) + np.array(ROLE_SHAPE_DB[role])
    off_shape = band_levels(freqs, power) - line
    carried = np.array(ROLE_BANDS[role])
    played = carried & (off_shape >= off_shape[carried].max() - PART_CONTENT_RANGE_DB)

    def error(levels: np.ndarray) -> np.ndarray:
        return levels - line - np.median((levels - line)[played])

    boost = np.where(played, PART_MAX_BOOST_DB, 0.0)
    return band_filters(fit_band_gains(freqs, power, sample_rate, error, PART_MAX_CUT_DB, boost), sample_rate)


def bass_grit(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Parallel saturation: harmonics a twelfth up let the bass line be heard on small speakers."""
    return Pedalboard([Mix([Pedalboard([]), Pedalboard([
        Distortion(drive_db=BASS_DRIVE_DB), LowpassFilter(cutoff_frequency_hz=900.0), Gain(gain_db=BASS_GRIT_DB),
    ])])])(audio, sample_rate)


def spread_side(mid: np.ndarray, sample_rate: int) -> np.ndarray:
    """A side signal made of early reflections of the parts (sparse taps 7-42 ms, signs alternating): added as
    +side/-side, it widens the mix without changing its mono sum. One shared pass serves every stem (the
    reflections of a sum are the sum of theirs)."""
    source = filters.apply(filters.chain(filters.highpass(sample_rate, SPREAD_HIGHPASS_HZ),
                                         filters.high_shelf(sample_rate, 5000.0, -6.0, 0.7)), mid)
    side = np.zeros_like(source)
    for delay_ms, gain in SPREAD_TAPS:
        delay = int(delay_ms * sample_rate / 1000)
        if delay < len(source):
            side[delay:] += source[: len(source) - delay] * np.float32(gain)
    return side


def octave_harmonic(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Add the bass line's second harmonic (even-order saturation, ``x|x|``) at ``OCTAVE_HARMONIC_DB`` under it.

    pedalboard's saturators are symmetric and make odd harmonics only; the octave is what gives a low line body.
    """
    low = filters.apply(filters.chain(filters.lowpass(sample_rate, 220.0)), audio)
    rms = float(np.sqrt(np.mean(low**2))) or 1.0
    band = filters.chain(filters.highpass(sample_rate, 90.0), filters.highpass(sample_rate, 90.0),
                         filters.lowpass(sample_rate, 500.0))
    harmonic = filters.apply(band, low * np.abs(low) / np.float32(rms))
    level = float(np.sqrt(np.mean(harmonic**2))) or 1.0
    return audio + harmonic * np.float32(rms / level * 10 ** (OCTAVE_HARMONIC_DB / 20))


def follow_band(bass: np.ndarray, band: np.ndarray, sample_rate: int) -> np.ndarray:
    """The channel-first bass with its level riding the band's: unchanged where the band is at its loud sections'
    level, lower where the band thins out (see ``BASS_FOLLOW``)."""
    return follow_levels(bass, window_levels_db(band, sample_rate, BASS_FOLLOW_WINDOW_S), sample_rate)


def follow_levels(bass: np.ndarray, levels: np.ndarray, sample_rate: int) -> np.ndarray:
    """:func:`follow_band` given the band's K-weighted level (dB) per ``BASS_FOLLOW_WINDOW_S`` window."""
    sounding = levels > levels.max() - 40 if len(levels) else levels.astype(bool)
    if not sounding.any():
        return bass
    smooth = uniform_filter1d(levels, max(1, round(BASS_FOLLOW_SMOOTH_S / BASS_FOLLOW_WINDOW_S)), mode="nearest")
    loud = np.percentile(smooth[sounding], BASS_FOLLOW_LOUD_PERCENTILE)
    gain_db = np.clip((smooth - loud) * BASS_FOLLOW, BASS_FOLLOW_FLOOR_DB, 0.0)
    # Window gains interpolated between window centres (every 32 samples: steps of at most hundredths of a dB).
    size = int(BASS_FOLLOW_WINDOW_S * sample_rate)
    centres = (np.arange(len(gain_db)) + 0.5) * size
    hop = 32
    coarse = np.interp(np.arange(0, bass.shape[1], hop), centres, 10 ** (gain_db / 20)).astype(np.float32)
    return bass * np.repeat(coarse, hop)[: bass.shape[1]]


def pan_and_width(audio: np.ndarray, pan: float, width: float) -> np.ndarray:
    """Scale the side signal by ``width``, then pan with a constant-power law (unity in the centre).

    ``audio`` is ``(2, n)``, or ``(1, n)`` for a part without a side signal.
    """
    angle = (np.clip(pan, -1.0, 1.0) + 1.0) * np.pi / 4
    gains = np.array([[np.cos(angle)], [np.sin(angle)]]) * np.sqrt(2)
    if len(audio) == 1:
        return gains.astype(np.float32) * audio
    # left = (mid + side) * gain_left, right = (mid - side) * gain_right, as one 2 x 2 matrix on the channels
    # (one pass over the audio instead of five).
    keep, swap = 0.5 * (1 + width), 0.5 * (1 - width)
    matrix = gains * np.array([[keep, swap], [swap, keep]])
    return matrix.astype(np.float32) @ audio


def pans(roles: dict[Session, Role]) -> dict[Session, float]:
    """Role pans; accompanying parts alternate sides so that two of them do not stack on one side."""
    placed: dict[Session, float] = {}
    side = -1.0
    for session, role in roles.items():
        pan = ROLE_SOUND[role].pan
        if role == Role.ACCOMPANIMENT:
            pan, side = pan * side, -side
        placed[session] = pan
    return placed


def place_stems(
    stems: dict[Session, np.ndarray], roles: dict[Session, Role], style: MixStyle, sample_rate: int,
    notes: list[str], cache: StemCache | None = None, stem_keys: dict[Session, str] | None = None,
) -> PlacedStems:
    """EQ, pan and widen each channel-first stem (``(2, n)``, or ``(1, n)`` for a mono part) by its role, then
    bring it to its role's loudness.

    ``stem_keys`` name the stems' content (equal keys, equal audio): with ``cache``, a stem shaped before the same
    way is taken from it instead of shaped again. What follows the shaping depends on every stem and is redone."""
    where = pans(roles)

    def shape(session: Session) -> tuple[np.ndarray, float, np.ndarray]:
        role = roles[session]
        width = ROLE_SOUND[role].width * (style.width if role == Role.ACCOMPANIMENT else 1.0)
        pan = where[session] * min(style.width, 1.5)
        key = None
        if cache is not None and stem_keys and session in stem_keys:
            key = fields_digest({"kind": "shaped stem", "stem": stem_keys[session], "role": role.value, "pan": pan,
                                 "width": width, "sample_rate": int(sample_rate)})
            found = cache.get(key)
            if found is not None:
                placed, loudness_lufs, levels = found
                return placed.copy(), loudness_lufs, levels  # a copy: the gain is applied in place below
        shaped = shape_stem(stems[session], role, pan, width)
        if cache is not None and key is not None:
            cache.put(key, shaped)
        return shaped

    def shape_stem(stem: np.ndarray, role: Role, pan: float, width: float) -> tuple[np.ndarray, float, np.ndarray]:
        # A part with no side signal (or folded to mono) is processed as one channel: half the work.
        if len(stem) == 2 and (width == 0 or np.array_equal(stem[0], stem[1])):
            stem = ((stem[0] + stem[1]) * np.float32(0.5))[None, :]
        fixed = role_eq(role, sample_rate)
        equalised = filters.apply(np.concatenate([fixed, role_tonal_eq(stem, role, fixed, sample_rate)]), stem)
        if role == Role.BASS:
            equalised = octave_harmonic(bass_grit(equalised, sample_rate), sample_rate)
        placed = pan_and_width(equalised, pan, width)
        # K-weighted level per window of each shaped stem, from the pass that measures its loudness.
        loudness_lufs, levels = loudness_and_window_levels(placed.T, sample_rate, MELODY_WINDOW_S)
        return placed, loudness_lufs, levels

    # Each part is shaped on its own, and the filters release the GIL: two threads shape the band in about half
    # the time, with the same result.
    with ThreadPoolExecutor(max_workers=SHAPING_THREADS, thread_name_prefix="wave-mix") as pool:
        results = dict(zip(stems, pool.map(shape, stems)))
    shaped = {session: placed for session, (placed, _, _) in results.items()}
    loudness = {session: value for session, (_, value, _) in results.items()}
    window_db = {session: levels for session, (_, _, levels) in results.items()}
    wanted = {
        session: ROLE_SOUND[roles[session]].loudness_lufs - value
        for session, value in loudness.items()
        if value > SILENCE_LUFS
    }
    band = [session for session in wanted if roles[session] != Role.BASS]
    basses = [session for session in wanted if roles[session] == Role.BASS]
    if band and basses:
        # The band's level as it will sound, every other part at its role's loudness: the power sum of the parts'
        # window levels (parts that do not play in unison add as powers).
        count = max(len(window_db[other]) for other in band)
        power = np.zeros(count)
        for other in band:
            power[: len(window_db[other])] += 10 ** ((window_db[other] + wanted[other]) / 10)
        for session in basses:
            shaped[session] = follow_levels(shaped[session], 10 * np.log10(power + 1e-12), sample_rate)
            loudness[session], window_db[session] = loudness_and_window_levels(shaped[session].T, sample_rate,
                                                                               MELODY_WINDOW_S)
            if loudness[session] > SILENCE_LUFS:
                wanted[session] = ROLE_SOUND[Role.BASS].loudness_lufs - loudness[session]
    wanted = ride_melody(shaped, wanted, roles, sample_rate, window_db)
    least = min(wanted.values(), default=0.0)
    gains: dict[Session, float] = {}
    length = max(stem.shape[1] for stem in shaped.values())
    room_send = np.zeros(length, np.float32)
    spread_send = np.zeros(length, np.float32)
    for session, stem in shaped.items():
        gain = min(wanted.get(session, 0.0), least + MAX_STEM_LIFT_DB)
        if session in wanted and gain < wanted[session]:
            notes.append(f"The {session} part is much quieter than the others; it was raised by only {gain:.0f} dB.")
        gains[session] = round(gain, 2)
        stem *= np.float32(10 ** (gain / 20))
        send = ROLE_SOUND[roles[session]].reverb_send * style.space
        spread = ROLE_SOUND[roles[session]].spread * style.width
        if send > 0 or spread > 0:
            both = stem[0] + stem[1]
            room_send[: stem.shape[1]] += both * np.float32(send)
            spread_send[: stem.shape[1]] += both * np.float32(0.5 * spread)
    return PlacedStems(shaped, gains, room_send, spread_send)


def ride_melody(shaped: dict[Session, np.ndarray], wanted: dict[Session, float], roles: dict[Session, Role],
                sample_rate: int, window_db: dict[Session, np.ndarray] | None = None) -> dict[Session, float]:
    """Raise the melody until it leads the loudest other part by :data:`MELODY_MARGIN_DB` in the median window
    where it sounds (at most :data:`MAX_MELODY_RIDE_DB`), as an engineer rides the lead: equal loudness over a
    whole song leaves a tune of short, decaying notes under parts that sustain. ``window_db`` holds each stem's
    level per :data:`MELODY_WINDOW_S` window where it is known already."""
    melodies = [s for s in wanted if roles[s] == Role.MELODY]
    others = [s for s in wanted if roles[s] != Role.MELODY]
    if len(melodies) != 1 or not others:
        return wanted
    melody = melodies[0]

    def levels(session: Session) -> np.ndarray:
        if window_db is not None and session in window_db:
            return window_db[session] + wanted[session]
        return window_levels_db(shaped[session], sample_rate, MELODY_WINDOW_S) + wanted[session]

    tune = levels(melody)
    count = len(tune)
    rest = np.max([np.pad(lv[:count], (0, max(0, count - len(lv))), constant_values=-120.0)
                   for lv in map(levels, others)], axis=0)
    sounding = tune > tune.max() - 30.0
    if not sounding.any():
        return wanted
    shortfall = MELODY_MARGIN_DB - float(np.median(tune[sounding] - rest[sounding]))
    if shortfall <= 0:
        return wanted
    return {**wanted, melody: wanted[melody] + min(shortfall, MAX_MELODY_RIDE_DB)}


def room(send: np.ndarray, style: MixStyle, sample_rate: int) -> np.ndarray:
    """The shared room: a full-width reverb with no low end, fed by the sum of every stem's send.

    JUCE's reverb feeds its combs with ``left + right``, so the summed send on the left channel alone (and the
    high-pass on that one channel) gives the same room as the stereo send at half the filtering.
    """
    source = filters.apply(filters.chain(filters.highpass(sample_rate, ROOM_HIGHPASS_HZ)), send)
    reverb = Pedalboard([
        Reverb(room_size=style.room_size, damping=0.55, wet_level=ROOM_WET_LEVEL, dry_level=0.0, width=1.0),
    ])(np.stack([source, np.zeros_like(source)]), sample_rate)
    return filters.apply(filters.chain(filters.high_shelf(sample_rate, 6000.0, -6.0, 0.7)), reverb)
