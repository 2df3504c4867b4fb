"""A note's level after its peak: it fades without swelling back, and stops fading at the held level."""

from __future__ import annotations

import numpy as np

from pipeline.instruments.decay import apply_gain_db, held_note_gain_db

SR = 22050
NO_HOLD_DB = -200.0  # far below anything: only the swells are limited


def levels_db(audio: np.ndarray, frame_s: float = 0.02) -> np.ndarray:
    hop = int(frame_s * SR)
    frames = len(audio) // hop
    return 10 * np.log10(np.mean(audio[: frames * hop].reshape(frames, hop) ** 2, axis=1) + 1e-20)


def decaying_noise(seconds: float, t60: float, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    noise = np.random.default_rng(seed).standard_normal(len(t)).astype(np.float32)
    return noise * 10 ** (-3 * t / t60).astype(np.float32)


def test_a_swell_after_the_effect_is_turned_down_and_the_effect_itself_is_left_alone() -> None:
    audio = decaying_noise(2.0, t60=3.0)
    swell = slice(int(1.2 * SR), int(1.5 * SR))
    audio[swell] *= 1.0 + 30.0 * np.hanning(swell.stop - swell.start).astype(np.float32)  # up to +30 dB
    audio[int(0.2 * SR) : int(0.3 * SR)] *= 10.0  # the effect's own accent, before its end
    effect_end = int(0.5 * SR)

    out = apply_gain_db(audio, SR, held_note_gain_db(audio, SR, effect_end, NO_HOLD_DB))

    assert np.array_equal(out[:effect_end], audio[:effect_end])
    after = levels_db(out[effect_end:])
    assert np.max(after - np.minimum.accumulate(after)) < 6.0  # was about 30 dB
    assert levels_db(audio[swell]).mean() - levels_db(out[swell]).mean() > 15.0


def test_a_falling_sound_stops_at_the_held_level_and_never_rises_to_it() -> None:
    audio = decaying_noise(2.0, t60=3.0)  # 40 dB down at its end
    out = apply_gain_db(audio, SR, held_note_gain_db(audio, SR, len(audio), -24.0))

    level = levels_db(out)
    peak = int(np.argmax(level))
    assert level[-5:].mean() > level[peak] - 27.0  # held (the source ends 40 dB down)
    rise = level[peak:] - np.minimum.accumulate(level[peak:])
    assert rise.max() < 3.0
    # Above the held level nothing changes.
    early = slice(0, int(0.05 * SR))
    assert np.allclose(out[early], audio[early])


def test_a_steady_sound_is_unchanged_and_silence_is_not_blown_up() -> None:
    steady = decaying_noise(1.0, t60=100.0)
    assert np.array_equal(apply_gain_db(steady, SR, held_note_gain_db(steady, SR, 0, -24.0)), steady)

    click_then_silence = np.zeros(SR, np.float32)
    click_then_silence[100:200] = 1.0
    held = apply_gain_db(click_then_silence, SR, held_note_gain_db(click_then_silence, SR, 300, -24.0))
    assert np.max(np.abs(held[SR // 2 :])) == 0.0
