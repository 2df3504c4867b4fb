"""The sampler: pitch, velocity, envelope, loops, pedal, pan, one-shots, choke and whole-song stems."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipeline.errors import WaveInputError
from pipeline.render import MAX_TAIL_S, Sampler, render_song
from pipeline.types import Envelope, Instrument, Note, Part, PedalEvent, Session, Song, SongInfo, Zone

SR = 44100


def sine(freq: float, seconds: float, sample_rate: int = SR, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def midi_hz(pitch: float) -> float:
    return 440.0 * 2 ** ((pitch - 69) / 12)


def make_instrument(
    directory: Path,
    zones: list[tuple[Zone, np.ndarray, int]],
    envelope: Envelope | None = None,
    amp_veltrack: float = 0.0,
    session: Session = Session.KEYBOARD,
) -> Instrument:
    directory.mkdir(parents=True, exist_ok=True)
    for zone, audio, sample_rate in zones:
        sf.write(directory / zone.sample, audio, sample_rate, subtype="FLOAT")
    return Instrument(
        session=session,
        name=f"test {session.value}",
        source_effect="test tone",
        sample_rate=SR,
        directory=directory,
        zones=[z for z, _, _ in zones],
        envelope=envelope or Envelope(attack_s=0.0, release_s=0.05),
        amp_veltrack=amp_veltrack,
    )


def looping_sine_zone(name: str, keycenter: int, lokey: int, hikey: int, mode: str = "loop_continuous"):
    """A sine at the key's pitch whose loop spans a whole number of periods (seamless)."""
    freq = midi_hz(keycenter)
    audio = sine(freq, 1.0)
    periods = int(0.5 * freq)
    loop_start = int(round(10 * SR / freq))
    # Choose the loop length so that it holds (almost exactly) a whole number of periods.
    loop_len = int(round(periods * SR / freq))
    zone = Zone(sample=name, lokey=lokey, hikey=hikey, pitch_keycenter=keycenter, loop_mode=mode,
                loop_start=loop_start, loop_end=loop_start + loop_len - 1)
    return zone, audio, SR


def peak_hz(audio: np.ndarray, sample_rate: int = SR) -> float:
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)), n=8 * len(mono)))
    return float(np.argmax(spectrum) * sample_rate / (8 * len(mono)))


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0


def part(notes: list[Note], **kwargs) -> Part:
    return Part(session=kwargs.pop("session", Session.KEYBOARD), notes=notes, **kwargs)


@pytest.fixture
def a440_piano(tmp_path: Path) -> Instrument:
    zone = Zone(sample="a4.wav", lokey=60, hikey=80, pitch_keycenter=69, loop_mode="no_loop")
    return make_instrument(tmp_path / "a440", [(zone, sine(440.0, 2.0), SR)])


@pytest.mark.parametrize("pitch", [62, 69, 74, 80])
def test_notes_are_played_at_their_pitch(a440_piano: Instrument, pitch: int) -> None:
    audio = Sampler(a440_piano).render(part([Note(start=0, end=1.0, pitch=pitch, velocity=100)]), SR)
    assert peak_hz(audio[1000:40000]) == pytest.approx(midi_hz(pitch), rel=0.002)


def test_tuning_and_the_sample_files_own_rate_are_honoured(tmp_path: Path) -> None:
    # The sample is stored at 22050 Hz and sounds 50 cents flat of its key; tune_cents corrects it.
    flat_a = sine(midi_hz(68.5), 1.0, sample_rate=22050)
    zone = Zone(sample="flat.wav", lokey=0, hikey=127, pitch_keycenter=69, tune_cents=50.0)
    instrument = make_instrument(tmp_path, [(zone, flat_a, 22050)])
    audio = Sampler(instrument).render(part([Note(start=0, end=0.8, pitch=72, velocity=100)]), SR)
    assert peak_hz(audio[1000:30000]) == pytest.approx(midi_hz(72), rel=0.002)


def test_keys_outside_every_zone_use_the_nearest_zone(tmp_path: Path) -> None:
    low = Zone(sample="c3.wav", lokey=40, hikey=54, pitch_keycenter=48)
    high = Zone(sample="c5.wav", lokey=55, hikey=70, pitch_keycenter=72)
    instrument = make_instrument(
        tmp_path, [(low, sine(midi_hz(48), 2.0), SR), (high, sine(midi_hz(72), 2.0), SR)]
    )
    sampler = Sampler(instrument)
    for pitch in (30, 76):
        audio = sampler.render(part([Note(start=0, end=0.8, pitch=pitch, velocity=90)]), SR)
        assert peak_hz(audio[1000:30000]) == pytest.approx(midi_hz(pitch), rel=0.003)


def test_velocity_layers_pick_their_zone(tmp_path: Path) -> None:
    soft = Zone(sample="soft.wav", lokey=0, hikey=127, pitch_keycenter=69, hivel=63)
    loud = Zone(sample="loud.wav", lokey=0, hikey=127, pitch_keycenter=69, lovel=64)
    instrument = make_instrument(tmp_path, [(soft, sine(440, 1.0), SR), (loud, sine(880, 1.0), SR)])
    sampler = Sampler(instrument)
    quiet = sampler.render(part([Note(start=0, end=0.5, pitch=69, velocity=40)]), SR)
    strong = sampler.render(part([Note(start=0, end=0.5, pitch=69, velocity=120)]), SR)
    assert peak_hz(quiet[:20000]) == pytest.approx(440, rel=0.002)
    assert peak_hz(strong[:20000]) == pytest.approx(880, rel=0.002)


@pytest.mark.parametrize("veltrack", [0.0, 50.0, 100.0])
def test_velocity_sets_the_level_as_amp_veltrack_says(tmp_path: Path, veltrack: float) -> None:
    zone = Zone(sample="a.wav", lokey=0, hikey=127, pitch_keycenter=69)
    instrument = make_instrument(tmp_path, [(zone, sine(440, 1.0), SR)], amp_veltrack=veltrack)
    sampler = Sampler(instrument)
    levels = {
        v: rms(sampler.render(part([Note(start=0, end=0.5, pitch=69, velocity=v)]), SR)[2000:20000])
        for v in (32, 64, 127)
    }
    # SFZ: 100 % tracking is the concave curve (vel/127)^2 (-11.9 dB at 64), 0 % ignores velocity.
    for v in (32, 64):
        expected = (1 - veltrack / 100) + veltrack / 100 * (v / 127) ** 2
        assert levels[v] / levels[127] == pytest.approx(expected, rel=0.01)
    if veltrack == 100:
        assert 20 * np.log10(levels[64] / levels[127]) == pytest.approx(-11.9, abs=0.1)


def test_zone_volume_and_part_gain_scale_the_level(tmp_path: Path) -> None:
    zone = Zone(sample="a.wav", lokey=0, hikey=127, pitch_keycenter=69, volume_db=-6.0)
    instrument = make_instrument(tmp_path, [(zone, sine(440, 1.0), SR)])
    sampler = Sampler(instrument)
    plain = rms(sampler.render(part([Note(start=0, end=0.5, pitch=69, velocity=100)]), SR)[2000:20000])
    louder = rms(
        sampler.render(part([Note(start=0, end=0.5, pitch=69, velocity=100)], gain_db=6.0), SR)[2000:20000]
    )
    # A centred sine of amplitude 0.5 at -6 dB, -3 dB per channel from the pan law.
    assert plain == pytest.approx(0.5 / np.sqrt(2) * 10 ** (-6 / 20) / np.sqrt(2), rel=0.01)
    assert 20 * np.log10(louder / plain) == pytest.approx(6.0, abs=0.05)


def test_note_off_starts_the_release_and_the_tail_dies(tmp_path: Path) -> None:
    zone, audio, rate = looping_sine_zone("loop.wav", 69, 0, 127)
    envelope = Envelope(attack_s=0.01, decay_s=0.0, sustain_level=1.0, release_s=0.2)
    instrument = make_instrument(tmp_path, [(zone, audio, rate)], envelope=envelope)
    out = Sampler(instrument).render(part([Note(start=0.0, end=1.0, pitch=69, velocity=127)]), SR)
    off = SR
    release = int(0.2 * SR)
    assert len(out) == pytest.approx(off + release, abs=2)
    held = rms(out[off - 4410 : off])
    early_release = rms(out[off : off + 441])
    late_release = rms(out[off + release - 2205 :])
    assert early_release > 0.6 * held  # still sounding just after note-off
    assert late_release < 0.01 * held  # gone by the end of the release time
    # Decays all the way: level falls in every 20 ms step of the release.
    steps = [rms(out[off + i : off + i + 882]) for i in range(0, release - 882, 882)]
    assert all(b < a for a, b in zip(steps, steps[1:]))


def test_attack_and_decay_shape_the_held_note(tmp_path: Path) -> None:
    zone, audio, rate = looping_sine_zone("loop.wav", 69, 0, 127)
    envelope = Envelope(attack_s=0.1, decay_s=0.2, sustain_level=0.5, release_s=0.05)
    instrument = make_instrument(tmp_path, [(zone, audio, rate)], envelope=envelope)
    out = Sampler(instrument).render(part([Note(start=0.0, end=1.0, pitch=69, velocity=127)]), SR)[:, 0]
    assert rms(out[:441]) < 0.1 * rms(out[4410 - 441 : 4410])  # rising through the attack
    peak = np.abs(out[4410 - 441 : 4410 + 441]).max()
    assert peak == pytest.approx(0.5 / np.sqrt(2), rel=0.01)  # full level where the attack ends
    sustain = np.abs(out[int(0.5 * SR) : int(0.9 * SR)]).max()
    assert sustain / peak == pytest.approx(0.5, rel=0.01)


@pytest.mark.parametrize("mode", ["loop_continuous", "loop_sustain"])
def test_loops_sustain_long_notes_without_clicks(tmp_path: Path, mode: str) -> None:
    zone, audio, rate = looping_sine_zone("loop.wav", 69, 0, 127, mode=mode)
    instrument = make_instrument(tmp_path, [(zone, audio, rate)], envelope=Envelope(attack_s=0.0, release_s=0.1))
    pitch = 72
    out = Sampler(instrument).render(part([Note(start=0.0, end=4.0, pitch=pitch, velocity=127)]), SR)[:, 0]
    body = out[SR // 10 : int(3.9 * SR)]  # the sample itself is 1 s long: this is all loop
    amplitude = np.abs(body).max()
    # The steepest step a clean sine of this pitch and level can take; a click at the loop seam is far steeper.
    steepest = amplitude * 2 * np.sin(np.pi * midi_hz(pitch) / SR)
    assert np.abs(np.diff(body)).max() < 1.02 * steepest
    windows = body[: len(body) // 4410 * 4410].reshape(-1, 4410)
    levels = np.sqrt(np.mean(windows.astype(np.float64) ** 2, axis=1))
    assert levels.max() / levels.min() < 1.01
    assert peak_hz(body) == pytest.approx(midi_hz(pitch), rel=0.001)


def test_loop_sustain_plays_on_past_the_loop_after_note_off(tmp_path: Path) -> None:
    # Loop a 440 Hz stretch, then the sample goes on at 880 Hz: that part is heard only after note-off.
    head = sine(440, 0.5)
    tail = sine(880, 0.5)
    loop_len = int(round(100 * SR / 440))
    zone = Zone(sample="two.wav", lokey=0, hikey=127, pitch_keycenter=69, loop_mode="loop_sustain",
                loop_start=0, loop_end=loop_len - 1)
    instrument = make_instrument(tmp_path, [(zone, np.concatenate([head, tail]), SR)],
                                 envelope=Envelope(attack_s=0.0, release_s=1.5))
    out = Sampler(instrument).render(part([Note(start=0.0, end=1.0, pitch=69, velocity=127)]), SR)
    assert peak_hz(out[int(0.3 * SR) : SR]) == pytest.approx(440, rel=0.003)
    assert peak_hz(out[SR + int(0.55 * SR) : SR + int(1.0 * SR)]) == pytest.approx(880, rel=0.003)


def test_pedal_holds_notes_until_it_lifts(tmp_path: Path) -> None:
    zone, audio, rate = looping_sine_zone("loop.wav", 69, 0, 127)
    instrument = make_instrument(tmp_path, [(zone, audio, rate)], envelope=Envelope(attack_s=0.0, release_s=0.05))
    notes = [Note(start=0.0, end=0.5, pitch=69, velocity=100), Note(start=0.2, end=0.6, pitch=64, velocity=100)]
    pedal = [PedalEvent(time=0.1, down=True), PedalEvent(time=1.5, down=False)]
    sampler = Sampler(instrument)
    dry = sampler.render(part(notes), SR)
    pedalled = sampler.render(part(notes, pedal=pedal), SR)
    assert len(dry) < 0.7 * SR
    assert len(pedalled) == pytest.approx(1.55 * SR, abs=2)
    held = rms(pedalled[int(1.0 * SR) : int(1.4 * SR)])
    assert held == pytest.approx(rms(pedalled[int(0.3 * SR) : int(0.45 * SR)]), rel=0.02)
    assert rms(pedalled[int(1.545 * SR) :]) < 0.01 * held
    # Lifting before a note-off changes nothing for that note.
    early = sampler.render(part(notes, pedal=[PedalEvent(time=0.0, down=True), PedalEvent(time=0.3, down=False)]), SR)
    assert len(early) == len(dry)


@pytest.mark.parametrize(("pan", "left_share"), [(-1.0, 1.0), (1.0, 0.0), (0.0, 0.5), (-0.5, 0.853553)])
def test_constant_power_pan(a440_piano: Instrument, pan: float, left_share: float) -> None:
    out = Sampler(a440_piano).render(part([Note(start=0, end=0.5, pitch=69, velocity=100)], pan=pan), SR)
    left, right = (float(np.sum(out[:, c].astype(np.float64) ** 2)) for c in (0, 1))
    assert left / (left + right) == pytest.approx(left_share, abs=1e-4)
    centred = Sampler(a440_piano).render(part([Note(start=0, end=0.5, pitch=69, velocity=100)]), SR)
    assert left + right == pytest.approx(float(np.sum(centred.astype(np.float64) ** 2)), rel=1e-4)


def test_zone_pan_adds_to_the_part_pan(tmp_path: Path) -> None:
    zone = Zone(sample="a.wav", lokey=0, hikey=127, pitch_keycenter=69, pan=0.5)
    instrument = make_instrument(tmp_path, [(zone, sine(440, 1.0), SR)])
    out = Sampler(instrument).render(part([Note(start=0, end=0.5, pitch=69, velocity=100)], pan=0.5), SR)
    assert rms(out[:, 0]) < 1e-6 < rms(out[:, 1])


def test_one_shot_plays_the_whole_sample_whatever_the_note_length(tmp_path: Path, sample) -> None:
    cymbal, rate = sf.read(sample("drum_cymbal_open"), dtype="float32")
    cymbal = cymbal.mean(axis=1) if cymbal.ndim == 2 else cymbal
    zone = Zone(sample="cymbal.wav", lokey=49, hikey=49, pitch_keycenter=49, loop_mode="one_shot")
    instrument = make_instrument(tmp_path, [(zone, cymbal, rate)], session=Session.DRUMS)
    out = Sampler(instrument).render(
        Part(session=Session.DRUMS, is_drum=True, notes=[Note(start=0.0, end=0.01, pitch=49, velocity=127)]), rate
    )
    assert len(out) == len(cymbal)
    # Played at its own key and rate, the stereo pair is the sample at -3 dB per channel.
    np.testing.assert_allclose(out[:, 0], cymbal / np.sqrt(2), atol=2e-3)
    # The same sample as no_loop stops with the release after the short note.
    plain = Zone(sample="cymbal.wav", lokey=49, hikey=49, pitch_keycenter=49, loop_mode="no_loop")
    cut = Sampler(make_instrument(tmp_path / "cut", [(plain, cymbal, rate)])).render(
        part([Note(start=0.0, end=0.01, pitch=49, velocity=127)]), rate
    )
    assert len(cut) < 0.1 * len(cymbal)


def test_a_struck_key_cuts_its_previous_voice(tmp_path: Path, sample) -> None:
    hat, rate = sf.read(sample("drum_cymbal_open"), dtype="float32")
    hat = hat.mean(axis=1) if hat.ndim == 2 else hat
    zones = [
        (Zone(sample="open.wav", lokey=46, hikey=46, pitch_keycenter=46, loop_mode="one_shot"), hat, rate),
        (Zone(sample="closed.wav", lokey=42, hikey=42, pitch_keycenter=42, loop_mode="one_shot"), hat[:4000], rate),
    ]
    instrument = make_instrument(tmp_path, zones, session=Session.DRUMS)
    sampler = Sampler(instrument)
    second = int(0.5 * rate)

    def drums(*notes: Note) -> Part:
        return Part(session=Session.DRUMS, is_drum=True, notes=list(notes))

    for later_key in (46, 42):  # the same key again, or the closed hat of the same choke group
        both = sampler.render(drums(Note(start=0, end=0.1, pitch=46, velocity=100),
                                    Note(start=0.5, end=0.6, pitch=later_key, velocity=100)), rate)
        alone = sampler.render(drums(Note(start=0.5, end=0.6, pitch=later_key, velocity=100)), rate)
        after = second + int(0.011 * rate)
        np.testing.assert_allclose(both[after : len(alone)], alone[after:], atol=1e-6)
        assert len(both) == len(alone)
    # Other keys ring on together.
    snare_zone = Zone(sample="snare.wav", lokey=38, hikey=38, pitch_keycenter=38, loop_mode="one_shot")
    kit = make_instrument(tmp_path / "kit", zones + [(snare_zone, hat, rate)], session=Session.DRUMS)
    layered = Sampler(kit).render(drums(Note(start=0, end=0.1, pitch=46, velocity=100),
                                        Note(start=0.5, end=0.6, pitch=38, velocity=100)), rate)
    assert len(layered) == second + len(hat)


def _song(parts: list[Part], seconds: float) -> Song:
    info = SongInfo(id="t", title="Test", composer="WAVE", public_domain_basis="written for tests",
                    tempo_bpm=120, key="A minor", duration_s=seconds)
    return Song(info=info, parts=parts)


def test_render_song_makes_equal_length_stems_per_session(tmp_path: Path, sample) -> None:
    kick, rate = sf.read(sample("bd_haus"), dtype="float32")
    kick = kick.mean(axis=1) if kick.ndim == 2 else kick
    drum_zone = Zone(sample="kick.wav", lokey=35, hikey=36, pitch_keycenter=36, loop_mode="one_shot")
    drums = make_instrument(tmp_path / "drums", [(drum_zone, kick, rate)], session=Session.DRUMS)
    bass_zone, audio, _ = looping_sine_zone("bass.wav", 45, 28, 60)
    bass = make_instrument(tmp_path / "bass", [(bass_zone, audio, SR)], session=Session.BASS,
                           envelope=Envelope(release_s=10.0))
    beats = [Note(start=0.5 * i, end=0.5 * i + 0.1, pitch=36, velocity=110) for i in range(8)]
    line = [Note(start=0.0, end=2.0, pitch=40, velocity=100), Note(start=2.0, end=4.0, pitch=45, velocity=100)]
    second_line = [Note(start=1.0, end=3.0, pitch=52, velocity=80)]
    song = _song([
        Part(session=Session.DRUMS, is_drum=True, notes=beats),
        Part(session=Session.BASS, notes=line, pan=-0.3),
        Part(session=Session.BASS, notes=second_line, pan=0.3),
        Part(session=Session.GUITAR, notes=line),  # no guitar instrument: no guitar stem
        Part(session=Session.KEYBOARD, notes=[]),
    ], 4.0)
    progress: list[tuple[str, float]] = []
    stems = render_song(song, {Session.DRUMS: drums, Session.BASS: bass}, SR,
                        progress=lambda m, f: progress.append((m, f)))
    assert set(stems) == {Session.DRUMS, Session.BASS}
    lengths = {len(s) for s in stems.values()}
    assert len(lengths) == 1
    # The 10 s bass release is cut at the tail limit, with a fade to silence.
    assert lengths.pop() == int(4.0 * SR + MAX_TAIL_S * SR)
    assert np.abs(stems[Session.BASS][-10:]).max() < 1e-3
    assert all(s.dtype == np.float32 and s.shape[1] == 2 for s in stems.values())
    # Both bass parts are in the bass stem.
    only_first = Sampler(bass).render(Part(session=Session.BASS, notes=line, pan=-0.3), SR, len(stems[Session.BASS]))
    assert rms(stems[Session.BASS][int(1.2 * SR) : int(1.8 * SR)]) > 1.2 * rms(only_first[int(1.2 * SR) : int(1.8 * SR)])
    assert progress[-1][1] == 1.0 and [f for _, f in progress] == sorted(f for _, f in progress)


def test_render_song_without_playable_parts_gives_no_stems(a440_piano: Instrument) -> None:
    assert render_song(_song([Part(session=Session.KEYBOARD, notes=[])], 0.0), {Session.KEYBOARD: a440_piano}) == {}


def test_broken_instruments_and_rates_give_plain_errors(tmp_path: Path, a440_piano: Instrument) -> None:
    missing = a440_piano.model_copy(update={"zones": [Zone(sample="gone.wav", lokey=0, hikey=127, pitch_keycenter=60)]})
    with pytest.raises(WaveInputError, match="gone.wav"):
        Sampler(missing)
    with pytest.raises(WaveInputError, match="no zones"):
        Sampler(a440_piano.model_copy(update={"zones": []}))
    with pytest.raises(WaveInputError, match="Sample rate"):
        Sampler(a440_piano).render(part([Note(start=0, end=1, pitch=60, velocity=60)]), 100)


def test_empty_part_and_explicit_length(a440_piano: Instrument) -> None:
    sampler = Sampler(a440_piano)
    assert sampler.render(part([]), SR).shape == (0, 2)
    assert sampler.render(part([]), SR, 1000).shape == (1000, 2)
    notes = [Note(start=0.0, end=0.5, pitch=69, velocity=100), Note(start=2.0, end=3.0, pitch=69, velocity=100)]
    clipped = sampler.render(part(notes), SR, length=SR)
    assert clipped.shape == (SR, 2)
    np.testing.assert_array_equal(clipped, sampler.render(part(notes), SR)[:SR])


def _reference_render(sampler: Sampler, part_: Part, sample_rate: int) -> np.ndarray:
    """The sampler's rules written plainly, one note at a time in numpy, to check the compiled loops against."""
    from pipeline.render.envelope import pan_gains
    from pipeline.render.interpolate import cubic_read, wrap_into_loop
    from pipeline.render.voices import CHOKE_FADE_S

    voices = sampler.voices(part_, sample_rate)
    curves = sampler.curves(sample_rate)
    out = np.zeros((2, voices.end), np.float32)
    fade = np.linspace(1.0, 0.0, max(int(CHOKE_FADE_S * sample_rate), 1), dtype=np.float32)
    for note in range(len(voices.length)):
        zone = sampler.zone(int(voices.zone[note]))
        ratio = float(voices.ratio[note])
        n = int(voices.length[note])
        frames = np.arange(n) * ratio
        if zone.loop is not None:
            source = cubic_read(zone.loop_table, wrap_into_loop(frames, *zone.loop))
        else:
            source = cubic_read(zone.table, frames)
        release = n if zone.mode == "one_shot" else min(int(voices.notes.release[note]), n)
        voice = source[:release] * curves.held(release)
        if release < n:
            after = source[release:]
            if zone.mode == "loop_sustain" and zone.loop is not None:
                position = wrap_into_loop(np.array([release * ratio]), *zone.loop)[0]
                after = cubic_read(zone.table, position + np.arange(n - release) * ratio)
            tail = after * curves.release[: n - release] * np.float32(curves.level_at(release))
            voice = np.concatenate([voice, tail])
        choke = int(voices.notes.choke[note])
        if choke < n:
            voice[choke:] *= fade[: n - choke]
        left, right = pan_gains(part_.pan + zone.zone.pan)
        start = int(voices.notes.start[note])
        out[0, start : start + n] += voice * np.float32(voices.gain[note] * left)
        out[1, start : start + n] += voice * np.float32(voices.gain[note] * right)
    return out.T


@pytest.mark.parametrize("mode", ["no_loop", "one_shot", "loop_continuous", "loop_sustain"])
def test_compiled_voices_match_the_plain_rules(tmp_path: Path, sample, mode: str) -> None:
    glass, rate = sf.read(sample("ambi_glass_rub"), dtype="float32")
    glass = glass.mean(axis=1) if glass.ndim == 2 else glass
    glass = glass[: rate]
    zones = [
        (Zone(sample="low.wav", lokey=0, hikey=59, pitch_keycenter=55, loop_mode=mode, loop_start=2000,
              loop_end=9000), glass, rate),
        (Zone(sample="high.wav", lokey=60, hikey=127, pitch_keycenter=67, loop_mode=mode, tune_cents=-20,
              volume_db=-3.0, pan=0.2), glass[::-1].copy(), 22050),
    ]
    envelope = Envelope(attack_s=0.01, decay_s=0.2, sustain_level=0.6, release_s=0.3)
    instrument = make_instrument(tmp_path, zones, envelope=envelope, amp_veltrack=80.0)
    rng = np.random.default_rng(7)
    notes = [Note(start=float(t), end=float(t + d), pitch=int(p), velocity=int(v))
             for t, d, p, v in zip(rng.uniform(0, 3, 40), rng.uniform(0.05, 1.5, 40), rng.integers(45, 80, 40),
                                   rng.integers(20, 127, 40))]
    notes += [Note(start=1.0, end=1.2, pitch=60, velocity=90), Note(start=1.05, end=1.5, pitch=60, velocity=90)]
    pedal = [PedalEvent(time=0.5, down=True), PedalEvent(time=2.2, down=False)]
    played = part(notes, pedal=pedal, pan=-0.4, gain_db=-2.0)
    sampler = Sampler(instrument)
    compiled = sampler.render(played, SR)
    reference = _reference_render(sampler, played, SR)
    assert compiled.shape == reference.shape
    assert rms(compiled) > 0.01
    np.testing.assert_allclose(compiled, reference, atol=1e-6, rtol=0)


def test_samples_load_when_first_played_and_reload_when_rewritten(tmp_path: Path) -> None:
    used = Zone(sample="a.wav", lokey=0, hikey=80, pitch_keycenter=69)
    unused = Zone(sample="broken.wav", lokey=81, hikey=127, pitch_keycenter=90)
    instrument = make_instrument(tmp_path, [(used, sine(440, 0.5), SR), (unused, sine(880, 0.5), SR)])
    (tmp_path / "broken.wav").write_bytes(b"not a sound file at all")
    low = part([Note(start=0, end=0.3, pitch=69, velocity=100)])
    first = Sampler(instrument).render(low, SR)  # the broken zone is never read
    assert peak_hz(first[1000:12000]) == pytest.approx(440, rel=0.003)
    with pytest.raises(WaveInputError, match="broken.wav"):
        Sampler(instrument).render(part([Note(start=0, end=0.3, pitch=90, velocity=100)]), SR)
    # A rebuilt sample (new contents, new modification time) is read afresh by the next sampler.
    sf.write(tmp_path / "a.wav", sine(660, 0.5), SR, subtype="FLOAT")
    second = Sampler(instrument).render(low, SR)
    assert peak_hz(second[1000:12000]) == pytest.approx(660, rel=0.003)
