"""Mastering: meters, loudness and true-peak targets on hard inputs, gain caps, exported files."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipeline.errors import WaveInputError, os_error_message
from pipeline.mix import (
    UPLOAD_LIMIT_BYTES,
    MasterResult,
    MixStyle,
    Role,
    integrated_lufs,
    master,
    stem_roles,
    true_peak_dbtp,
    write_mix,
)
from pipeline.mix.export import MP3_LEVEL_KBPS, fitting_level
from pipeline.mix.master import placed_stems
from pipeline.mix.meters import SILENCE_LUFS
from pipeline.mix.roles import ROLE_SOUND
from pipeline.mix.spectrum import OCTAVE_CENTRES_HZ, octave_band_levels, tilt_deviation
from pipeline.types import Session
from wave_testing.disk_faults import enospc

SR = 44100


def music_like(seconds: float, seed: int = 0, level: float = 0.3) -> dict[Session, np.ndarray]:
    """Drums (decaying noise bursts), bass (low tone), keys (chord stabs): a stand-in for rendered stems."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    beat = np.exp(-((t * 2) % 1) * 25)
    drums = rng.standard_normal(t.size) * beat
    bass = np.sin(2 * np.pi * 55 * t) + 0.3 * np.sin(2 * np.pi * 110 * t)
    keys = sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)) * np.exp(-((t * 1) % 1) * 3) / 3

    def stereo(x: np.ndarray, width: float) -> np.ndarray:
        return (np.stack([x * (1 - width), x * (1 + width)], axis=1) * level).astype(np.float32)

    return {Session.DRUMS: stereo(drums, 0.1), Session.BASS: stereo(bass, 0.0), Session.KEYBOARD: stereo(keys, 0.3)}


def assert_on_target(result: MasterResult) -> None:
    assert result.audio.dtype == np.float32 and result.audio.ndim == 2 and result.audio.shape[1] == 2
    assert np.isfinite(result.audio).all()
    measured_lufs = integrated_lufs(result.audio, SR)
    measured_tp = true_peak_dbtp(result.audio, SR)
    assert measured_lufs == pytest.approx(-14.0, abs=1.0)
    assert measured_tp <= -1.0
    assert result.loudness_lufs == pytest.approx(measured_lufs, abs=0.01)
    assert result.true_peak_dbtp == pytest.approx(measured_tp, abs=0.01)


def test_true_peak_finds_peaks_between_samples() -> None:
    # A quarter-rate sine sampled 45 degrees off its crests: every sample is at 0.707 of the real peak.
    n = np.arange(SR)
    x = 0.5 * np.sin(np.pi / 2 * n + np.pi / 4)
    stereo = np.stack([x, x], axis=1)
    assert 20 * np.log10(np.abs(stereo).max()) == pytest.approx(-9.03, abs=0.02)
    assert true_peak_dbtp(stereo, SR) == pytest.approx(20 * np.log10(0.5), abs=0.2)  # edges ring a little
    assert true_peak_dbtp(np.zeros((SR, 2)), SR) < -100


def test_integrated_loudness_follows_bs1770() -> None:
    t = np.arange(5 * SR) / SR
    tone = 0.1 * np.sin(2 * np.pi * 997 * t)
    # BS.1770: a 997 Hz sine at 0 dBFS in one channel reads -3.01 LKFS; here -20 dBFS in both channels.
    assert integrated_lufs(np.stack([tone, np.zeros_like(tone)], 1), SR) == pytest.approx(-23.01, abs=0.1)
    assert integrated_lufs(np.stack([tone, tone], 1), SR) == pytest.approx(-20.0, abs=0.1)
    assert integrated_lufs(np.zeros((SR, 2)), SR) == SILENCE_LUFS
    assert integrated_lufs(np.stack([tone, tone], 1)[:4410], SR) < -20.0  # short clips are measured, not refused


@pytest.mark.parametrize("level", [0.02, 0.3, 4.0], ids=["quiet", "normal", "loud"])
def test_master_meets_loudness_and_true_peak(level: float) -> None:
    result = master(music_like(8.0, level=level), SR)
    assert_on_target(result)


def test_master_handles_very_dynamic_music() -> None:
    # 6 s of a whisper, then 2 s of a roar 50 dB louder.
    stems = music_like(8.0, level=0.5)
    ramp = np.where(np.arange(8 * SR) < 6 * SR, 10 ** (-50 / 20), 1.0).astype(np.float32)[:, None]
    result = master({s: a * ramp for s, a in stems.items()}, SR)
    assert_on_target(result)
    assert np.abs(result.audio[: 5 * SR]).max() < 0.1  # the quiet part stays quiet


def test_stems_are_balanced_by_role_before_the_bus() -> None:
    stems = music_like(6.0)
    stems[Session.DRUMS] = stems[Session.DRUMS] * 10.0  # 20 dB too loud
    roles = stem_roles(list(stems), Session.KEYBOARD)
    assert roles == {Session.DRUMS: Role.DRUMS, Session.BASS: Role.BASS, Session.KEYBOARD: Role.MELODY}
    placed = placed_stems(stems, SR, [], roles)
    for session, stem in placed.stems.items():
        assert integrated_lufs(stem.T, SR) == pytest.approx(ROLE_SOUND[roles[session]].loudness_lufs, abs=0.1)
    result = master(stems, SR, roles)
    assert result.stem_gains_db == placed.gains_db
    assert_on_target(result)


def _two_parts(seconds: float = 8.0) -> dict[Session, np.ndarray]:
    """A quiet single line (guitar) over loud sustained chords (keyboard), as the renderer would hand them over."""
    t = np.arange(int(seconds * SR)) / SR
    line_pitch = 440 * 2 ** (np.array([0, 2, 4, 5, 7, 5, 4, 2])[(t * 2).astype(int) % 8] / 12)
    line = 0.05 * np.sin(2 * np.pi * np.cumsum(line_pitch) / SR) * np.exp(-((t * 2) % 1) * 2)
    chords = 0.5 * sum(np.sin(2 * np.pi * f * t) for f in (196.0, 246.9, 293.7, 392.0)) / 4
    return {Session.GUITAR: np.repeat(line[:, None], 2, 1).astype(np.float32),
            Session.KEYBOARD: np.repeat(chords[:, None], 2, 1).astype(np.float32)}


def _window_loudness(stem: np.ndarray) -> np.ndarray:
    size = int(0.4 * SR)
    return np.array([integrated_lufs(stem[:, i : i + size].T, SR) for i in range(0, stem.shape[1] - size, size)])


@pytest.mark.parametrize("melody", [Session.GUITAR, Session.KEYBOARD])
def test_the_melody_stem_is_the_loudest_in_a_two_part_mix(melody: Session) -> None:
    stems = _two_parts()
    placed = placed_stems(stems, SR, [], stem_roles(list(stems), melody))
    other = Session.KEYBOARD if melody == Session.GUITAR else Session.GUITAR
    margins = _window_loudness(placed.stems[melody]) - _window_loudness(placed.stems[other])
    assert (margins > 0).mean() >= 0.8
    assert np.median(margins) >= 2.0
    # The accompaniment sits out to one side, the melody near the centre.
    left, right = (np.abs(placed.stems[other][c]).mean() for c in (0, 1))
    assert abs(20 * np.log10(left / right)) > 3.0
    lead_left, lead_right = (np.abs(placed.stems[melody][c]).mean() for c in (0, 1))
    assert abs(20 * np.log10(lead_left / lead_right)) < 1.0


def test_bass_is_mono_below_120_hz_and_the_mix_is_not() -> None:
    from scipy.signal import butter, sosfilt

    stems = music_like(6.0)
    # A bass recorded wide: its two channels play different low notes.
    t = np.arange(6 * SR) / SR
    stems[Session.BASS] = np.stack([np.sin(2 * np.pi * 55 * t), np.sin(2 * np.pi * 73.4 * t)], 1).astype(np.float32) * 0.3
    audio = master(stems, SR, stem_roles(list(stems), Session.KEYBOARD)).audio.astype(np.float64)
    low = sosfilt(butter(4, 120, "lowpass", fs=SR, output="sos"), audio, axis=0)
    def side_mid(x: np.ndarray) -> float:
        return 10 * np.log10(np.mean((x[:, 0] - x[:, 1]) ** 2) / np.mean((x[:, 0] + x[:, 1]) ** 2))
    assert side_mid(low) < -25
    assert side_mid(audio) > side_mid(low) + 10


def test_tonal_balance_tames_a_harsh_top() -> None:
    rng = np.random.default_rng(5)
    stems = music_like(6.0)
    hiss = rng.standard_normal((6 * SR, 2)).astype(np.float32)
    stems[Session.DRUMS] = stems[Session.DRUMS] + np.diff(hiss, axis=0, prepend=0) * 0.3  # rising to the top
    plain = np.ascontiguousarray(sum(stems.values()).T)
    before = tilt_deviation(octave_band_levels(plain, SR))
    result = master(stems, SR, stem_roles(list(stems), Session.KEYBOARD))
    after = tilt_deviation(octave_band_levels(np.ascontiguousarray(result.audio.T), SR))
    top = OCTAVE_CENTRES_HZ.index(8000.0)
    assert before[top] > 8 and after[top] < before[top] - 6
    assert result.tonal_eq_db[8000] < 0
    assert_on_target(result)


def test_silent_and_near_silent_mixes_are_not_blown_up() -> None:
    silent = master({Session.DRUMS: np.zeros((3 * SR, 2), np.float32), Session.BASS: np.zeros(3 * SR)}, SR)
    assert not silent.audio.any() and silent.loudness_lufs == SILENCE_LUFS and silent.notes
    # Hiss under the BS.1770 gate (about -88 LUFS) is left alone rather than raised by 74 dB.
    rng = np.random.default_rng(3)
    hiss = (rng.standard_normal((4 * SR, 2)) * 2e-5).astype(np.float32)
    assert np.abs(master({Session.KEYBOARD: hiss}, SR).audio).max() <= np.abs(hiss).max() * 1.01
    # Hiss at about -68 LUFS rises by the 30 dB cap, not by the 54 dB that -14 LUFS would take.
    louder_hiss = hiss * 10
    raised = master({Session.KEYBOARD: louder_hiss}, SR)
    assert raised.loudness_lufs == pytest.approx(integrated_lufs(louder_hiss, SR) + 30, abs=1.0)
    # Quiet music at about -62 LUFS: raised, but only by the total cap, and the result says so.
    faint = master(music_like(6.0, level=0.0008), SR)
    assert integrated_lufs(faint.audio, SR) < -20
    assert faint.true_peak_dbtp <= -1.0
    assert any("quiet" in note for note in faint.notes)


def test_one_real_stem_beside_silent_ones() -> None:
    stems = music_like(5.0)
    result = master({Session.BASS: stems[Session.BASS], Session.GUITAR: np.zeros((SR, 2), np.float32)}, SR)
    assert result.stem_gains_db[Session.GUITAR] == 0.0
    assert len(result.audio) == 5 * SR  # shorter stems are padded to the longest
    assert_on_target(result)


def test_bad_stems_give_plain_errors_or_notes() -> None:
    with pytest.raises(WaveInputError, match="nothing to mix"):
        master({}, SR)
    with pytest.raises(WaveInputError, match="not mono or stereo"):
        master({Session.DRUMS: np.zeros((SR, 5), np.float32)}, SR)
    broken = music_like(4.0)
    broken[Session.BASS][100:200] = np.nan
    result = master(broken, SR)
    assert np.isfinite(result.audio).all() and any("broken" in note for note in result.notes)


@pytest.mark.slow
def test_mix_files_fit_the_upload_limit_for_three_minutes(tmp_path: Path) -> None:
    stems = music_like(180.0, seed=1, level=0.25)
    audio = sum(stems.values())
    audio = audio / np.abs(audio).max() * 0.8
    result = MasterResult(audio=audio.astype(np.float32), sample_rate=SR, loudness_lufs=-14.0, true_peak_dbtp=-1.0)
    wav, mp3 = write_mix(result, tmp_path)
    assert wav.name == "mix.wav" and mp3.name == "mix.mp3"
    info = sf.info(wav)
    assert (info.channels, info.subtype, info.frames) == (2, "PCM_24", len(audio))
    assert mp3.stat().st_size < UPLOAD_LIMIT_BYTES
    decoded, rate = sf.read(mp3, dtype="float32")
    assert rate == SR and decoded.shape[1] == 2
    assert len(decoded) / SR == pytest.approx(180.0, abs=0.2)


def test_long_songs_get_a_lower_bitrate_that_still_fits() -> None:
    for minutes in (3, 8, 15):
        _, kbps = fitting_level(MP3_LEVEL_KBPS, minutes * 60)
        assert kbps * 1000 / 8 * minutes * 60 < UPLOAD_LIMIT_BYTES
    assert fitting_level(MP3_LEVEL_KBPS, 180)[1] >= 160  # a normal song keeps good quality


def test_ogg_copy_and_unknown_formats(tmp_path: Path) -> None:
    result = master(music_like(3.0), SR)
    _, ogg = write_mix(result, tmp_path, compressed_format="ogg")
    decoded, rate = sf.read(ogg, dtype="float32")
    assert ogg.suffix == ".ogg" and rate == SR and abs(len(decoded) - len(result.audio)) < SR // 10
    with pytest.raises(WaveInputError, match="flac"):
        write_mix(result, tmp_path / "x", compressed_format="flac")


def test_a_full_disk_while_writing_the_mix_is_named(tmp_path: Path, monkeypatch) -> None:
    result = master(music_like(2.0), SR)
    real_write_bytes = Path.write_bytes

    def write_bytes(self: Path, data) -> int:
        if self.name == "mix.wav":
            raise enospc(self)
        return real_write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    with pytest.raises(OSError) as failed:
        write_mix(result, tmp_path)
    assert failed.value.errno == errno.ENOSPC
    message = os_error_message(failed.value)
    assert "The disk is full" in message and "mix.wav" in message
    assert (tmp_path / "mix.mp3").stat().st_size > 0  # the compressed copy, written beside it, is unharmed


def _recorded_stereo(sample, name: str) -> np.ndarray:
    audio, rate = sf.read(sample(name), dtype="float32", always_2d=True)
    assert rate == SR
    return audio if audio.shape[1] == 2 else np.repeat(audio, 2, axis=1)


@pytest.mark.parametrize("name", ["loop_amen", "ambi_glass_rub", "bd_haus"])
def test_meters_agree_with_pyloudnorm_and_resample_poly(sample, name: str) -> None:
    import warnings

    import pyloudnorm
    from scipy.signal import resample_poly

    audio = _recorded_stereo(sample, name)
    audio = audio * np.float32(0.9 / np.abs(audio).max())
    for clip in (audio, audio[:, 0]):  # stereo and mono
        short = int(0.4 * SR) + 1 - len(clip)
        padded = np.concatenate([clip, np.zeros((max(short, 0),) + clip.shape[1:], np.float32)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected_lufs = pyloudnorm.Meter(SR).integrated_loudness(padded.astype(np.float64))
        assert integrated_lufs(clip, SR) == pytest.approx(expected_lufs, abs=1e-6)
        oversampled = resample_poly(clip, 4, 1, axis=0)
        expected_peak = 20 * np.log10(max(np.abs(oversampled).max(), np.abs(clip).max()))
        assert true_peak_dbtp(clip, SR) == pytest.approx(expected_peak, abs=1e-4)


def test_mp3_copy_sounds_like_the_master(tmp_path: Path, sample) -> None:
    audio = np.tile(_recorded_stereo(sample, "loop_amen"), (3, 1)) * np.float32(0.5)
    result = MasterResult(audio=audio, sample_rate=SR, loudness_lufs=-14.0, true_peak_dbtp=-1.0)
    _, mp3 = write_mix(result, tmp_path)
    decoded, rate = sf.read(mp3, dtype="float32", always_2d=True)
    assert rate == SR and decoded.shape[1] == 2
    # 192 kbit/s constant bitrate for a short song.
    assert mp3.stat().st_size * 8 / (len(audio) / SR) == pytest.approx(192_000, rel=0.05)
    # LAME adds a short delay at the start; line the decoded copy up with the master before comparing.
    reference = audio[:SR, 0]
    lags = [np.dot(decoded[lag : lag + SR, 0], reference) for lag in range(3000)]
    lag = int(np.argmax(lags))
    aligned = decoded[lag : lag + len(audio)]
    correlation = np.corrcoef(aligned[: 2 * SR, 0], audio[: len(aligned[: 2 * SR]), 0])[0, 1]
    assert correlation > 0.98


def test_true_peak_skips_only_blocks_that_cannot_hold_the_peak(sample) -> None:
    import importlib

    from scipy.signal import resample_poly

    from pipeline.mix.meters import PEAK_BLOCK

    # Real program material driven into a brickwall limiter: many blocks sit near the ceiling, a few spikes
    # between samples stand out, and quiet stretches are skipped by the bound.
    brickwall = importlib.import_module("pipeline.mix.master").brickwall
    amen = _recorded_stereo(sample, "loop_amen")
    quiet = amen * np.float32(0.05)
    program = np.concatenate([quiet, amen, quiet, amen[::-1]])
    limited = brickwall(np.ascontiguousarray(program.T), SR, gain_db=12.0, ceiling_db=-1.3).T
    assert len(limited) > 8 * PEAK_BLOCK
    oversampled = resample_poly(limited, 4, 1, axis=0)
    expected = 20 * np.log10(max(np.abs(oversampled).max(), np.abs(limited).max()))
    assert expected > 20 * np.log10(np.abs(limited).max()) + 0.01  # the peak lies between samples
    assert true_peak_dbtp(limited, SR) == pytest.approx(expected, abs=1e-4)


def test_brightness_tilts_the_mix_in_the_direction_asked() -> None:
    stems = music_like(6.0)
    roles = stem_roles(list(stems), Session.KEYBOARD)

    def slope(brightness: float) -> float:
        audio = master(stems, SR, roles, MixStyle(brightness=brightness)).audio
        levels = octave_band_levels(np.ascontiguousarray(audio.T), SR)
        return float(np.polyfit(np.log2(OCTAVE_CENTRES_HZ), levels, 1)[0])

    dark, neutral, bright = slope(-1.0), slope(0.0), slope(1.0)
    assert dark < neutral - 0.4 and bright > neutral + 0.4


def test_filter_cascades_sound_as_pedalboards_plugins() -> None:
    from pedalboard import (
        HighpassFilter,
        HighShelfFilter,
        LowpassFilter,
        LowShelfFilter,
        PeakFilter,
        Pedalboard,
    )

    from pipeline.mix import filters

    noise = np.random.default_rng(3).normal(0.0, 0.1, (2, SR)).astype(np.float32)
    plugins = Pedalboard([
        HighpassFilter(cutoff_frequency_hz=32.0), PeakFilter(cutoff_frequency_hz=130.0, gain_db=4.0, q=0.8),
        PeakFilter(cutoff_frequency_hz=4000.0, gain_db=-10.0, q=0.6), LowShelfFilter(cutoff_frequency_hz=80.0, gain_db=2.0, q=0.7),
        HighShelfFilter(cutoff_frequency_hz=9000.0, gain_db=-9.0, q=0.7), LowpassFilter(cutoff_frequency_hz=900.0),
    ])
    cascade = filters.chain(
        filters.highpass(SR, 32.0), filters.peak(SR, 130.0, 4.0, 0.8), filters.peak(SR, 4000.0, -10.0, 0.6),
        filters.low_shelf(SR, 80.0, 2.0, 0.7), filters.high_shelf(SR, 9000.0, -9.0, 0.7), filters.lowpass(SR, 900.0),
    )
    expected = plugins(noise, SR)
    # float32 rounding through six sections stays 60 dB down; a wrong design would be off by whole dB
    assert np.abs(filters.apply(cascade, noise) - expected).max() < 1e-3 * np.abs(expected).max()


def test_the_bass_drops_where_the_band_thins_out() -> None:
    from pipeline.mix.placement import BASS_FOLLOW_FLOOR_DB, follow_band

    rng = np.random.default_rng(5)
    seconds = 20
    band = rng.normal(0.0, 0.1, (2, seconds * SR)).astype(np.float32)
    band[:, seconds * SR // 2 :] *= np.float32(10 ** (-6 / 20))  # the second half is 6 dB quieter
    bass = np.sin(2 * np.pi * 55.0 * np.arange(seconds * SR) / SR).astype(np.float32)[None, :] * np.float32(0.3)
    followed = follow_band(bass, band, SR)

    def level(audio: np.ndarray, start_s: float, end_s: float) -> float:
        part = audio[:, int(start_s * SR) : int(end_s * SR)]
        return 10 * np.log10(np.mean(part**2))

    assert level(followed, 2, 7) == pytest.approx(level(bass, 2, 7), abs=0.5)  # loud sections keep their bass
    drop = level(bass, 13, 18) - level(followed, 13, 18)
    assert 9.0 <= drop <= -BASS_FOLLOW_FLOOR_DB + 0.5  # twice the band's drop, held at the floor
    gain = follow_band(np.ones_like(bass), band, SR)[0]
    assert np.abs(np.diff(gain)).max() < 1e-3  # the gain glides between windows: no step reaches 0.01 dB


def test_an_empty_stem_beside_real_ones_is_mixed_as_silence() -> None:
    stems = music_like(3.0)
    stems[Session.BASS] = np.zeros((0, 2), np.float32)
    result = master(stems, SR, stem_roles(list(stems), Session.KEYBOARD))
    assert len(result.audio) == 3 * SR and np.isfinite(result.audio).all()
    assert abs(result.loudness_lufs + 14.0) <= 0.5


def test_a_tune_of_short_decaying_notes_is_ridden_above_a_sustained_part():
    from pipeline.mix.meters import window_levels_db
    from pipeline.mix.placement import MELODY_MARGIN_DB, MELODY_WINDOW_S, ride_melody
    from pipeline.mix.roles import Role

    rate = 16_000
    t = np.arange(rate * 8) / rate
    pings = np.sin(2 * np.pi * 660 * t) * np.exp(-12 * (t % 0.5))  # a bell every half second, gone in 0.2 s
    pad = 0.25 * np.sin(2 * np.pi * 220 * t)  # a part that never lets go
    shaped = {Session.KEYBOARD: pings[None, :].astype(np.float32), Session.GUITAR: pad[None, :].astype(np.float32)}
    roles = {Session.KEYBOARD: Role.MELODY, Session.GUITAR: Role.ACCOMPANIMENT}

    def margin(wanted):
        tune = window_levels_db(shaped[Session.KEYBOARD], rate, MELODY_WINDOW_S) + wanted[Session.KEYBOARD]
        rest = window_levels_db(shaped[Session.GUITAR], rate, MELODY_WINDOW_S) + wanted[Session.GUITAR]
        return float(np.median(tune - rest))

    level = {Session.KEYBOARD: 0.0, Session.GUITAR: 0.0}
    assert margin(level) < MELODY_MARGIN_DB
    ridden = ride_melody(shaped, level, roles, rate)
    assert ridden[Session.GUITAR] == 0.0 and ridden[Session.KEYBOARD] > 0.0
    assert margin(ridden) == pytest.approx(MELODY_MARGIN_DB, abs=0.01)
    # A tune that already leads is left where it is.
    leading = {Session.KEYBOARD: 0.0, Session.GUITAR: -20.0}
    assert ride_melody(shaped, leading, roles, rate) == leading


def test_each_part_is_pulled_towards_its_roles_tonal_shape() -> None:
    from pipeline.mix import filters
    from pipeline.mix.placement import role_eq, role_tonal_eq

    t = np.arange(6 * SR) / SR
    rng = np.random.default_rng(3)
    # A "bass" whose weight sits at 500 Hz with a faint fundamental, and a tune under a loud hiss above 5 kHz.
    drone = (0.05 * np.sin(2 * np.pi * 70 * t) + 0.5 * np.sin(2 * np.pi * 500 * t)).astype(np.float32)[None, :]
    hiss = filters.apply(filters.chain(*[filters.highpass(SR, 5000.0)] * 4), rng.standard_normal(t.size))
    bright = (0.2 * np.sin(2 * np.pi * 880 * t) + 0.5 * hiss).astype(np.float32)[None, :]

    def bands(audio: np.ndarray) -> dict[int, float]:
        return dict(zip((int(c) for c in OCTAVE_CENTRES_HZ), octave_band_levels(audio, SR)))

    for audio, role, low, high, wanted in ((drone, Role.BASS, 63, 500, 6.0), (bright, Role.MELODY, 1000, 8000, 6.0)):
        fixed = role_eq(role, SR)
        before = bands(filters.apply(fixed, audio))
        after = bands(filters.apply(np.concatenate([fixed, role_tonal_eq(audio, role, fixed, SR)]), audio))
        assert (after[low] - after[high]) - (before[low] - before[high]) >= wanted
