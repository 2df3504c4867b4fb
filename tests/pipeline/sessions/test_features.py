"""Effect features measure what they claim on real recorded sounds and on signals with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipeline.errors import WaveInputError
from pipeline.sessions import analyse_file, descriptors
from pipeline.sessions.features import ANALYSIS_RATE


def _write(path: Path, audio: np.ndarray, sr: int = ANALYSIS_RATE) -> Path:
    sf.write(str(path), audio.astype(np.float32), sr)
    return path


def test_pure_tone_has_clear_pitch_at_its_frequency(tmp_path: Path) -> None:
    t = np.arange(int(2.0 * ANALYSIS_RATE)) / ANALYSIS_RATE
    features = analyse_file(_write(tmp_path / "tone.wav", 0.5 * np.sin(2 * np.pi * 220.0 * t)))
    assert features.pitch_clarity > 0.95
    assert features.f0_hz == pytest.approx(220.0, rel=0.01)
    assert features.sustain_s > 1.5
    assert features.flatness < 0.01


def test_low_tone_is_low_and_noise_is_noisy_and_unpitched(tmp_path: Path) -> None:
    t = np.arange(int(1.5 * ANALYSIS_RATE)) / ANALYSIS_RATE
    low = analyse_file(_write(tmp_path / "low.wav", 0.5 * np.sin(2 * np.pi * 55.0 * t)))
    assert low.low_share > 0.9 and low.f0_hz == pytest.approx(55.0, rel=0.02)
    noise = np.random.default_rng(0).standard_normal(len(t)) * 0.3
    hiss = analyse_file(_write(tmp_path / "noise.wav", noise))
    assert hiss.f0_hz is None and hiss.pitch_clarity < 0.5
    assert hiss.flatness > 0.2 and hiss.centroid_hz > 3000


def test_decay_time_follows_the_envelope(tmp_path: Path) -> None:
    t = np.arange(int(2.0 * ANALYSIS_RATE)) / ANALYSIS_RATE
    tone = np.sin(2 * np.pi * 330.0 * t)
    quick = analyse_file(_write(tmp_path / "quick.wav", tone * np.exp(-t / 0.05)))
    slow = analyse_file(_write(tmp_path / "slow.wav", tone * np.exp(-t / 0.3)))
    # -20 dB of an exp(-t/tau) envelope is reached at tau * ln(10)
    assert quick.sustain_s == pytest.approx(0.05 * np.log(10), abs=0.04)
    assert slow.sustain_s == pytest.approx(0.3 * np.log(10), abs=0.08)


def test_real_snare_is_percussive_and_real_bass_is_low_and_held(sample) -> None:
    snare = descriptors(analyse_file(sample("sn_generic")))
    bass = descriptors(analyse_file(sample("bass_thick_c")))
    assert snare["sharp attack"] > 0.9 and snare["short"] > 0.8 and snare["noisy"] > 0.5
    assert bass["low"] > 0.9 and bass["sustained"] > 0.9 and bass["short"] == 0.0
    assert bass["clear pitch"] > bass["noisy"]


def test_loop_has_more_onsets_than_single_hit(sample) -> None:
    loop = analyse_file(sample("loop_compus"))
    hit = analyse_file(sample("drum_snare_hard"))
    assert loop.onset_rate > 3 * hit.onset_rate


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "not_audio.wav"
    bad.write_bytes(b"this is not a wave file at all" * 10)
    with pytest.raises(WaveInputError, match="not_audio.wav"):
        analyse_file(bad)


def test_silent_effect_is_flagged_with_a_note(tmp_path: Path) -> None:
    features = analyse_file(_write(tmp_path / "quiet.wav", np.zeros(ANALYSIS_RATE)))
    assert features.silent and features.f0_hz is None
    assert any("silent" in note for note in features.notes)


def _partials(path: Path, f0: float, ratios: list[float], seconds: float = 1.5) -> Path:
    t = np.arange(int(seconds * ANALYSIS_RATE)) / ANALYSIS_RATE
    tone = sum(np.sin(2 * np.pi * f0 * r * t) / (k + 1) for k, r in enumerate(ratios))
    return _write(path, 0.3 * tone)


def test_harmonic_partials_read_harmonic_and_bell_partials_do_not(tmp_path: Path) -> None:
    string = analyse_file(_partials(tmp_path / "string.wav", 220.0, [1, 2, 3, 4, 5, 6]))
    # A free bar / bell: partials at 1, 2.76, 5.40 and 8.93 times the lowest.
    bell = analyse_file(_partials(tmp_path / "bell.wav", 220.0, [1, 2.76, 5.40, 8.93]))
    assert string.f0_hz == pytest.approx(220.0, rel=0.02)
    assert bell.pitched  # a bell has a pitch, just not whole-number partials above it
    assert string.harmonicity > 0.9  # window leakage outside the comb keeps even a perfect series a little under 1
    assert bell.harmonicity < 0.7
    assert descriptors(bell)["inharmonic"] > descriptors(string)["inharmonic"]


def test_a_low_sine_is_a_thump_and_a_low_note_with_overtones_is_not(tmp_path: Path) -> None:
    sine = analyse_file(_partials(tmp_path / "sine.wav", 60.0, [1]))
    note = analyse_file(_partials(tmp_path / "note.wav", 60.0, [1, 2, 3, 4, 5]))
    assert sine.overtone_share < 0.05 and note.overtone_share > 0.3
    assert descriptors(sine)["thump"] == 1.0 and descriptors(note)["thump"] == 0.0
    assert descriptors(note)["overtones"] == 1.0


def test_decay_rate_is_zero_for_a_held_tone_and_follows_an_exponential_ring(tmp_path: Path) -> None:
    t = np.arange(int(2.0 * ANALYSIS_RATE)) / ANALYSIS_RATE
    tone = np.sin(2 * np.pi * 330.0 * t)
    held = analyse_file(_write(tmp_path / "held.wav", 0.5 * tone))
    ring = analyse_file(_write(tmp_path / "ring.wav", tone * np.exp(-t / 0.3)))
    assert held.decay_db_per_s < 1.0
    # exp(-t/tau) falls 20 * log10(e) / tau dB per second
    assert ring.decay_db_per_s == pytest.approx(20 * np.log10(np.e) / 0.3, rel=0.15)
    assert descriptors(held)["held"] == 1.0 and descriptors(ring)["ringing"] == 1.0


def test_a_falling_sweep_glides_down_and_a_steady_note_does_not(tmp_path: Path) -> None:
    seconds = 0.6
    t = np.arange(int(seconds * ANALYSIS_RATE)) / ANALYSIS_RATE
    # An exponential sweep from 110 Hz to 55 Hz (one octave down), like a drum machine's kick or tom.
    freq = 110.0 * 0.5 ** (t / seconds)
    sweep = analyse_file(_write(tmp_path / "sweep.wav", 0.5 * np.sin(2 * np.pi * np.cumsum(freq) / ANALYSIS_RATE)))
    steady = analyse_file(_partials(tmp_path / "steady.wav", 110.0, [1, 2, 3]))
    assert sweep.pitch_glide_st < -4.0
    assert abs(steady.pitch_glide_st) < 0.3
    assert descriptors(sweep)["falling pitch"] == 1.0 and descriptors(steady)["falling pitch"] == 0.0


def test_real_kick_is_a_thump_real_tom_is_inharmonic_and_real_bass_has_overtones(sample) -> None:
    kick = descriptors(analyse_file(sample("bd_haus")))
    tom = analyse_file(sample("drum_tom_mid_hard"))
    bass = analyse_file(sample("bass_thick_c"))
    assert kick["thump"] > 0.9 and kick["falling pitch"] > 0.5
    assert tom.harmonicity < 0.6 < bass.harmonicity
    assert descriptors(bass)["overtones"] > 0.5 and descriptors(bass)["thump"] == 0.0


def test_synth_bass_down_to_c1_is_pitched(sample) -> None:
    assert analyse_file(sample("bass_hard_c")).f0_hz == pytest.approx(32.7, rel=0.03)
