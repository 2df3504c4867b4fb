"""Melodic instruments built from real recorded sounds: tuning, likeness to the source, loops, layers, files."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import librosa
import mido
import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, sosfiltfilt

from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.instruments import build_instrument
from pipeline.instruments.multisample import crossfade_loop, find_loop, key_spans, midi_to_hz
from pipeline.render.sampler import Sampler
from pipeline.types import (
    MELODIC_SESSIONS,
    SESSION_RANGES,
    EffectInput,
    Instrument,
    Note,
    Part,
    Session,
    Zone,
)

NOISE_LIKE = ["ambi_swoosh", "perc_swash", "vinyl_hiss", "perc_door"]
OTHERS = ["misc_crow", "elec_wood", "ambi_glass_rub", "bd_haus"]
SR = 44100
ANALYSIS_S = 0.4


# --------------------------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, sample):
    """build(sound, session) -> Instrument, built once per module."""
    cache: dict[tuple[str, Session], Instrument] = {}

    def build(sound: str, session: Session) -> Instrument:
        key = (sound, session)
        if key not in cache:
            out = tmp_path_factory.mktemp(f"{sound}_{session.value}")
            effect = EffectInput(id=sound, path=sample(sound), name=sound)
            cache[key] = build_instrument(effect, session, out, sample_rate=SR)
        return cache[key]

    return build


def read(instrument: Instrument, zone: Zone) -> np.ndarray:
    audio, sr = sf.read(instrument.sample_path(zone), dtype="float32")
    assert sr == instrument.sample_rate
    return audio


def play(audio: np.ndarray, semitones: float) -> np.ndarray:
    """What a sampler does to play a sample ``semitones`` away from its root: read it faster or slower."""
    ratio = 2.0 ** (semitones / 12.0)
    positions = np.arange(0.0, len(audio) - 1, ratio)
    return np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)


def measure_pitch(audio: np.ndarray, sr: int, f0: float) -> tuple[float, float]:
    """(voiced share, median error in cents) of pyin on the start of a note (ANALYSIS_S plus three frames).

    The search spans an octave and a semitone either side, so octave errors count. Harmonics above the fifth are
    filtered out first and the analysis stays at 44.1 kHz: with coarser lags pyin reports a spurious sub-octave
    for near-sinusoidal tones whose period is not a whole number of samples.
    """
    frame = 8192 if f0 < 70 else 4096 if f0 < 150 else 2048 if f0 < 600 else 1024
    # Low notes need long frames; the note is heard for longer so the attack weighs the same share of frames.
    clip = audio[: int((ANALYSIS_S + 3 * frame / sr) * sr)]
    clip = sosfiltfilt(butter(8, min(4.5 * f0, 0.45 * sr), fs=sr, output="sos"), clip)
    f, voiced, _ = librosa.pyin(
        clip, fmin=f0 * 2 ** (-13 / 12), fmax=f0 * 2 ** (13 / 12), sr=sr, frame_length=frame, hop_length=512,
        center=False,
    )
    if not voiced.any():
        return 0.0, float("inf")
    # pyin's pitch grid is 10 cents; rounding keeps one grid step from reading as 10.000000000000016.
    return float(np.mean(voiced)), round(float(np.median(1200 * np.log2(f[voiced] / f0))), 3)


def layer(instrument: Instrument, root: int, hard: bool) -> Zone:
    return next(z for z in instrument.zones if z.pitch_keycenter == root and (z.hivel == 127) == hard)


def roots(instrument: Instrument) -> list[int]:
    return sorted({z.pitch_keycenter for z in instrument.zones})


# ---------------------------------------------------------------------------------------------------- tuning


SOUNDS = NOISE_LIKE + OTHERS


@pytest.mark.parametrize("sound", SOUNDS)
def test_every_zone_plays_in_tune_at_its_root_and_a_semitone_away(built, sound: str) -> None:
    """Each zone once per sound, taking turns: hard layer at its root, soft layer a semitone down, soft a semitone
    up; the turn shifts with the sound, so over the sounds every zone is heard all three ways."""
    failures = []
    turns = [(True, 0), (False, -1), (False, 1)]
    for session in MELODIC_SESSIONS:
        instrument = built(sound, session)
        for index, root in enumerate(roots(instrument)):
            hard, semitones = turns[(index + SOUNDS.index(sound)) % len(turns)]
            audio = play(read(instrument, layer(instrument, root, hard)), semitones)
            voiced, cents = measure_pitch(audio, SR, midi_to_hz(root + semitones))
            if voiced < 0.9 or abs(cents) > 10:
                failures.append(f"{session.value} {root}{semitones:+d}: voiced {voiced:.0%}, {cents:+.1f} cents")
    assert not failures, failures


def peak_frequency(audio: np.ndarray, sr: int, near_hz: float) -> float:
    """Frequency of the strongest spectral peak within a semitone of ``near_hz`` (zero-padded FFT, 0.04 Hz bins)."""
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio)), 1 << 20))
    freqs = np.fft.rfftfreq(1 << 20, 1 / sr)
    band = (freqs > near_hz * 2 ** (-1 / 12)) & (freqs < near_hz * 2 ** (1 / 12))
    return float(freqs[band][np.argmax(spectrum[band])])


@pytest.mark.parametrize("session", MELODIC_SESSIONS)
def test_the_partials_sit_exactly_on_the_played_pitch(session: Session) -> None:
    """Finer than pyin can tell: made from white noise, every note's first three harmonics are within 1.5 cents of
    k * f0 at every root (partials at exact frequencies, not rounded to the analysis grid)."""
    from pipeline.instruments.crosssynth import harmonic_notes, short_time_spectrum
    from pipeline.instruments.melodic import SESSION_SOUNDS, ZONE_SPACING

    noise = np.random.default_rng(3).standard_normal(2 * SR).astype(np.float32)
    spectrum = short_time_spectrum(noise, 2 * SR)
    low, high = SESSION_RANGES[session]
    for root in key_spans(low, high, spacing=ZONE_SPACING)[::2]:
        f0 = midi_to_hz(root.root)
        audio, _ = harmonic_notes(spectrum, SR, f0, SESSION_SOUNDS[session].voicing, 0.0, 2 * SR, pitched=False)
        for k in (1, 2, 3):
            if k * f0 < 0.45 * SR:
                cents = 1200 * np.log2(peak_frequency(audio, SR, k * f0) / (k * f0))
                assert abs(cents) < 1.5, (root.root, k, cents)


@pytest.mark.parametrize("sound", ["vinyl_hiss", "bd_haus"])
def test_keyboard_sustain_loop_stays_in_tune(built, sound: str) -> None:
    instrument = built(sound, Session.KEYBOARD)
    for root in roots(instrument)[::4]:
        zone = layer(instrument, root, True)
        audio = read(instrument, zone)
        held = np.tile(audio[zone.loop_start : zone.loop_end + 1], 3)
        voiced, cents = measure_pitch(held, SR, midi_to_hz(root))
        assert voiced >= 0.9 and abs(cents) <= 10, (root, voiced, cents)


# --------------------------------------------------------------------------------------------- likeness


def colour(audio: np.ndarray, sr: int, seconds: float) -> np.ndarray:
    """Shape of the average mel spectrum in dB (level removed): how a sound is coloured, whatever its pitch."""
    clip = audio[: int(seconds * sr)]
    mel = librosa.feature.melspectrogram(y=clip, sr=sr, n_mels=24, fmin=150, fmax=10000, n_fft=4096)
    shape = 10 * np.log10(mel.mean(axis=1) + 1e-10)
    return shape - shape.mean()


@pytest.mark.xfail(
    strict=True,
    reason="a glass ring four octaves above the bass register still reads nearer to vinyl hiss than to itself in "
    "mel colour; bench/identity.py measures identity on real bands",
)
def test_each_instrument_sounds_more_like_its_own_source_than_the_others(built, sample) -> None:
    """For every source, of all the instruments, the one built from it is nearest in colour.

    Sources with clearly different colours; a kick drum is left out because its body lies below what a guitar or
    keyboard note can carry.
    """
    sounds = ["vinyl_hiss", "misc_crow", "ambi_glass_rub", "elec_wood", "ambi_swoosh", "perc_swash"]
    sources = {s: colour(librosa.load(sample(s), sr=SR, mono=True)[0], SR, 30.0) for s in sounds}
    for session in MELODIC_SESSIONS:
        notes = {}
        for sound in sounds:
            instrument = built(sound, session)
            middle = roots(instrument)[len(roots(instrument)) // 2]
            notes[sound] = colour(read(instrument, layer(instrument, middle, True)), SR, 0.3)
        for source in sounds:
            distance = {s: float(np.sqrt(np.mean((notes[s] - sources[source]) ** 2))) for s in sounds}
            nearest_other = min(d for s, d in distance.items() if s != source)
            assert distance[source] < nearest_other, (session.value, source, distance)


# -------------------------------------------------------------------------------------------------- loops


def seam_click(audio: np.ndarray, start: int, end_exclusive: int) -> float:
    """Largest high-passed jump where the loop wraps, relative to the largest one inside the loop body."""
    body = audio[start:end_exclusive]
    played = np.concatenate([body, body])
    jumps = np.abs(np.diff(played, n=2))
    seam = len(body)
    at_seam = jumps[seam - 3 : seam + 1].max()
    inside = np.concatenate([jumps[: seam - 8], jumps[seam + 8 :]]).max()
    return float(at_seam / inside)


def periodicity(audio: np.ndarray, period: float) -> float:
    """Normalised correlation of ``audio`` with itself one period later (1: periodic at that period)."""
    lag = round(period)
    a, b = audio[:-lag], audio[lag:]
    return float(np.dot(a, b) / (np.sqrt(np.dot(a, a) * np.dot(b, b)) + 1e-12))


@pytest.mark.parametrize("sound", ["vinyl_hiss", "misc_crow"])
def test_keyboard_loops_on_rising_zero_crossings_without_a_click(built, sound: str) -> None:
    instrument = built(sound, Session.KEYBOARD)
    for zone in instrument.zones:
        assert zone.loop_mode == "loop_sustain"
        audio = read(instrument, zone)
        start, end = zone.loop_start, zone.loop_end + 1
        assert audio[start - 1] <= 0 <= audio[start]
        period = SR / midi_to_hz(zone.pitch_keycenter)
        if periodicity(audio[start:end], period) >= 0.5:  # a held tone: the loop is whole periods of it
            periods = (end - start) / period
            assert abs(periods - round(periods)) < 0.05, periods
        assert seam_click(audio, start, end) <= 1.0, zone.sample
        assert end < len(audio)  # a release after the loop has something to play


def test_loop_search_and_crossfade_fix_a_badly_placed_loop() -> None:
    """On a tone with drifting phase, a careless loop clicks; find_loop + crossfade_loop does not."""
    rng = np.random.default_rng(1)
    f0, n = 220.0, SR
    t = np.arange(n) / SR
    drift = np.cumsum(rng.standard_normal(n)) * 2e-4
    tone = (np.sin(2 * np.pi * f0 * t + drift) + 0.3 * np.sin(2 * np.pi * 3 * f0 * t + 2 * drift)).astype(np.float32)
    careless = (10000, 10000 + 4410 + 37)
    assert seam_click(tone, *careless) > 2.0
    start, end = find_loop(tone, SR, f0, 10000, 4410)
    looped = crossfade_loop(tone, start, end, 0.02, SR)
    assert seam_click(looped, start, end) <= 1.0


# -------------------------------------------------------------------------------------------------- layers


def centroid(audio: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio[: int(0.5 * sr)]))
    freqs = np.fft.rfftfreq(int(0.5 * sr), 1 / sr)[: len(spectrum)]
    return float(np.sum(freqs * spectrum) / np.sum(spectrum))


@pytest.mark.parametrize("session", MELODIC_SESSIONS)
def test_two_velocity_layers_with_a_brighter_hard_layer(built, session: Session) -> None:
    instrument = built("perc_door", session)
    for root in roots(instrument):
        for position in (1, 2):
            zones = sorted(
                (z for z in instrument.zones if z.pitch_keycenter == root and z.seq_position == position),
                key=lambda z: z.lovel,
            )
            assert [(z.lovel, z.hivel) for z in zones] == [(1, zones[0].hivel), (zones[0].hivel + 1, 127)]
            soft, hard = (read(instrument, z) for z in zones)
            assert centroid(hard, SR) > 1.15 * centroid(soft, SR), root
            assert np.sqrt(np.mean(hard**2)) > np.sqrt(np.mean(soft**2))
    assert instrument.amp_veltrack > 0


# ---------------------------------------------------------------------------------------------------- files


def parse_sfz(path: Path) -> list[dict[str, str]]:
    regions = []
    for line in path.read_text().splitlines():
        if line.startswith("<region>"):
            regions.append(dict(re.findall(r"(\w+)=(\S+)", line)))
    return regions


@pytest.mark.parametrize("session", MELODIC_SESSIONS)
def test_sfz_regions_point_at_real_samples_and_cover_the_range(built, session: Session) -> None:
    instrument = built("elec_wood", session)
    regions = parse_sfz(instrument.sfz_path)
    assert len(regions) == len(instrument.zones)
    low, high = SESSION_RANGES[session]
    for velocity in (1, 64, 100, 127):
        keys = []
        for region in regions:
            if int(region["lovel"]) <= velocity <= int(region["hivel"]) and region["seq_position"] == "1":
                keys += range(int(region["lokey"]), int(region["hikey"]) + 1)
        assert sorted(keys) == sorted(set(keys)), "overlapping key ranges"
        assert set(range(low, high + 1)) <= set(keys), "gap in the key range"
    for region in regions:
        info = sf.info(instrument.directory / region["sample"])
        assert info.samplerate == SR and info.channels == 1 and info.subtype == "PCM_16"
        answered = range(max(low, int(region["lokey"])), min(high, int(region["hikey"])) + 1)
        assert all(abs(key - int(region["pitch_keycenter"])) <= 3 for key in answered)
        assert region["seq_length"] == "2" and region["seq_position"] in ("1", "2")
    reloaded = Instrument.load(instrument.directory)
    assert reloaded.zones == instrument.zones and reloaded.sf2 == "instrument.sf2"
    spacing = np.diff(roots(instrument))
    assert spacing.max() <= 6


def test_key_spans_are_contiguous_for_any_range() -> None:
    for low, high in [(28, 60), (36, 96), (60, 60), (60, 62), (0, 127)]:
        spans = key_spans(low, high)
        covered = [k for span in spans for k in range(span.lokey, span.hikey + 1)]
        assert covered == list(range(covered[0], covered[-1] + 1))
        assert covered[0] <= low and covered[-1] >= high
        assert all(span.lokey <= span.root <= span.hikey for span in spans)


def fluidsynth_note(sf2: Path, note: int, tmp_path: Path, program: int | None = None) -> np.ndarray:
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    if program is not None:
        track.append(mido.Message("program_change", program=program, time=0))
    track.append(mido.Message("note_on", note=note, velocity=110, time=0))
    track.append(mido.Message("note_off", note=note, velocity=0, time=1920))
    midi_path = tmp_path / f"n{note}.mid"
    wav_path = tmp_path / f"n{note}.wav"
    midi.save(midi_path)
    subprocess.run(
        ["fluidsynth", "-ni", "-R", "0", "-C", "0", "-g", "1.0", "-r", str(SR), "-F", str(wav_path)]
        + [str(sf2), str(midi_path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    audio, _ = sf.read(wav_path, dtype="float32", always_2d=True)
    return audio.mean(axis=1)


GM_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
GM_PROGRAMS = {Session.BASS: 33, Session.GUITAR: 25, Session.KEYBOARD: 0}


def level_db(audio: np.ndarray) -> float:
    """RMS level in dBFS of the first second after the onset."""
    onset = int(np.argmax(np.abs(audio) > 0.1 * np.abs(audio).max()))
    clip = audio[onset : onset + SR]
    return float(20 * np.log10(np.sqrt(np.mean(clip**2)) + 1e-12))


@pytest.mark.parametrize("session", MELODIC_SESSIONS)
def test_sf2_plays_in_fluidsynth_in_tune_at_a_usable_level(built, session: Session, tmp_path: Path) -> None:
    instrument = built("vinyl_hiss", session)
    sf2 = instrument.directory / instrument.sf2
    assert sf2.read_bytes()[8:12] == b"sfbk"
    low, high = SESSION_RANGES[session]
    for note in (low + 2, (low + high) // 2):  # one key a semitone off its zone's root, one on or near it
        audio = fluidsynth_note(sf2, note, tmp_path)
        assert np.abs(audio).max() > 0.01, "fluidsynth played nothing"
        onset = int(np.argmax(np.abs(audio) > 0.1 * np.abs(audio).max()))
        voiced, cents = measure_pitch(audio[onset:], SR, midi_to_hz(note))
        assert voiced >= 0.9 and abs(cents) <= 10, (note, voiced, cents)
    # A usable level: within 12 dB of the General MIDI bank's own instrument for the session, same note and player.
    note = (low + high) // 2
    ours = fluidsynth_note(sf2, note, tmp_path)
    general_midi = fluidsynth_note(GM_SOUNDFONT, note, tmp_path, program=GM_PROGRAMS[session])
    assert level_db(ours) >= level_db(general_midi) - 12.0, (level_db(ours), level_db(general_midi))


# ------------------------------------------------------------------------------------------------ bad input


def effect_file(tmp_path: Path, name: str, audio: np.ndarray, sr: int, subtype: str = "PCM_16") -> EffectInput:
    path = tmp_path / f"{name}.wav"
    sf.write(path, audio, sr, subtype=subtype)
    return EffectInput(id=name, path=path, name=name)


def odd_effects(tmp_path: Path, sample) -> dict[str, EffectInput]:
    swoosh, sr = sf.read(sample("perc_swash"), dtype="float32")
    swoosh = swoosh.mean(axis=1)
    with_nans = swoosh.copy()
    with_nans[::50] = np.nan
    ten_minutes = np.tile(np.random.default_rng(0).standard_normal(8000).astype(np.float32) * 0.1, 600)
    return {
        "silent": effect_file(tmp_path, "silent", np.zeros(SR), SR),
        "ten_ms": effect_file(tmp_path, "ten_ms", swoosh[2000 : 2000 + sr // 100], sr),
        "ten_minutes": effect_file(tmp_path, "ten_minutes", ten_minutes, 8000),
        "nan": effect_file(tmp_path, "nan", with_nans, sr, subtype="FLOAT"),
    }


@pytest.mark.parametrize(
    "kind,words", [("silent", "silent"), ("ten_ms", "ms long"), ("ten_minutes", "loudest"), ("nan", "NaN")]
)
def test_odd_effects_still_make_an_in_tune_instrument_and_say_what_happened(
    tmp_path: Path, sample, kind: str, words: str
) -> None:
    effect = odd_effects(tmp_path, sample)[kind]
    instrument = build_instrument(effect, Session.GUITAR, tmp_path / "out", sample_rate=SR)
    assert any(words in note for note in instrument.notes), instrument.notes
    zone = layer(instrument, roots(instrument)[len(roots(instrument)) // 2], True)
    voiced, cents = measure_pitch(read(instrument, zone), SR, midi_to_hz(zone.pitch_keycenter))
    assert voiced >= 0.9 and abs(cents) <= 10
    if kind == "silent":
        assert any("noise burst" in note for note in instrument.notes)


def test_bad_requests_get_plain_errors(tmp_path: Path, sample) -> None:
    good = EffectInput(id="door", path=sample("perc_door"))
    with pytest.raises(WaveInputError, match="not found"):
        build_instrument(EffectInput(id="x", path=tmp_path / "missing.wav"), Session.BASS, tmp_path / "a")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"definitely not audio" * 10)
    with pytest.raises(WaveInputError, match="not a sound file"):
        build_instrument(EffectInput(id="x", path=junk), Session.BASS, tmp_path / "b")
    with pytest.raises(WaveInputError, match="Unknown instrument engine"):
        build_instrument(good, Session.BASS, tmp_path / "c", engine="magic")
    with pytest.raises(WaveEngineError, match="RAVE model"):
        build_instrument(good, Session.BASS, tmp_path / "d", engine="rave", rave_model=None)


def test_same_seed_same_instrument_other_seed_other_texture(tmp_path: Path, sample) -> None:
    """A short effect's texture is carried on with its own grains, picked by the seed."""
    effect = EffectInput(id="snap", path=sample("perc_snap"))
    first, again, other = (
        build_instrument(effect, Session.KEYBOARD, tmp_path / name, seed=seed)
        for name, seed in (("a", 3), ("b", 3), ("c", 4))
    )
    zone = first.zones[10]
    assert np.array_equal(read(first, zone), read(again, again.zones[10]))
    assert not np.array_equal(read(first, zone), read(other, other.zones[10]))


# ---------------------------------------------------------------------------------------------------- speed


# ------------------------------------------------------------------------------------------------------ rave


def tiny_rave(path: Path) -> Path:
    """A small TorchScript model with RAVE's interface (``sr``, ``encode``, ``decode``) and random weights."""
    torch = pytest.importorskip("torch")

    class TinyRave(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.sr = 22050
            self.encoder = torch.nn.Conv1d(1, 8, kernel_size=16, stride=4, padding=6)
            self.decoder = torch.nn.ConvTranspose1d(8, 1, kernel_size=16, stride=4, padding=6)

        @torch.jit.export
        def encode(self, x: torch.Tensor) -> torch.Tensor:
            return torch.tanh(self.encoder(x))

        @torch.jit.export
        def decode(self, z: torch.Tensor) -> torch.Tensor:
            return self.decoder(z)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.decode(self.encode(x))

    torch.manual_seed(0)
    torch.jit.script(TinyRave()).save(str(path))
    return path


def test_rave_engine_revoices_the_effect_and_stays_in_tune(tmp_path: Path, sample) -> None:
    effect = EffectInput(id="swash", path=sample("perc_swash"))
    model = tiny_rave(tmp_path / "tiny.ts")
    rave = build_instrument(effect, Session.GUITAR, tmp_path / "rave", engine="rave", rave_model=model)
    dsp = build_instrument(effect, Session.GUITAR, tmp_path / "dsp")
    assert rave.engine == "rave" and "(rave)" in rave.sfz_path.read_text()
    for root in roots(rave)[::3]:
        zone = layer(rave, root, True)
        assert not np.array_equal(read(rave, zone), read(dsp, layer(dsp, root, True)))
        voiced, cents = measure_pitch(read(rave, zone), SR, midi_to_hz(root))
        assert voiced >= 0.9 and abs(cents) <= 10, (root, voiced, cents)


# ------------------------------------------------------------------------------------------------ identity


def harmonic_levels_db(audio: np.ndarray, sr: int, f0: float, count: int) -> np.ndarray:
    """Level of harmonics 1..count in dB (peak of a Hann-windowed spectrum within a quarter tone of each)."""
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    freqs = np.fft.rfftfreq(len(audio), 1 / sr)
    levels = []
    for k in range(1, count + 1):
        band = (freqs > k * f0 * 2 ** (-0.5 / 12)) & (freqs < k * f0 * 2 ** (0.5 / 12))
        levels.append(20 * np.log10(spectrum[band].max() + 1e-12))
    return np.array(levels)


def test_a_pitched_source_keeps_its_partial_pattern(tmp_path: Path) -> None:
    """A tone with an odd partial pattern (strong 3rd and 5th, weak 2nd and 4th) is played by itself: on its own
    root and half an octave up (resampled) its partials 2..6 keep their levels relative to one another (at the raw
    end of the character control; towards the clean end the colour leans to a musical slope)."""
    f0 = midi_to_hz(57)
    pattern_db = np.array([0.0, -20.0, -4.0, -24.0, -8.0, -16.0])
    t = np.arange(int(2.0 * SR)) / SR
    tone = sum(10 ** (db / 20) * np.sin(2 * np.pi * (k + 1) * f0 * t) for k, db in enumerate(pattern_db))
    tone *= np.exp(-t / 1.5) * np.minimum(1.0, t / 0.01)
    effect = effect_file(tmp_path, "tone", (0.5 * tone / np.abs(tone).max()).astype(np.float32), SR)
    instrument = build_instrument(effect, Session.KEYBOARD, tmp_path / "keys", sample_rate=SR, character=1.0)
    assert any("pitched at 220" in note for note in instrument.notes), instrument.notes
    for root in (57, 63):
        audio = read(instrument, layer(instrument, root, True))[int(0.05 * SR) : int(0.85 * SR)]
        levels = harmonic_levels_db(audio, SR, midi_to_hz(root), 6)
        relative = levels[1:] - levels[2]
        expected = pattern_db[1:] - pattern_db[2]
        assert np.all(np.abs(relative - expected) <= 4.0), (root, relative.round(1), expected)


def off_harmonic_share(audio: np.ndarray, sr: int, f0: float) -> float:
    """Share of the energy between 0.8 f0 and 8 kHz lying more than a quarter tone away from every harmonic."""
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio)))) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / sr)
    band = (freqs >= 0.8 * f0) & (freqs <= 8000)
    ratio = freqs[band] / f0
    near = np.abs(1200 * np.log2(ratio / np.maximum(np.round(ratio), 1))) <= 50
    return float(spectrum[band][~near].sum() / spectrum[band].sum())


def test_a_noisy_source_stays_noisy_around_a_clear_pitch(built, sample, tmp_path: Path) -> None:
    """Vinyl hiss as a guitar: pyin hears the written pitch, yet much of the energy stays between the harmonics
    (the hiss itself), unlike the clean end of the character control."""
    instrument = built("vinyl_hiss", Session.GUITAR)
    root = roots(instrument)[len(roots(instrument)) // 2]
    f0 = midi_to_hz(root)
    audio = read(instrument, layer(instrument, root, True))
    voiced, cents = measure_pitch(audio, SR, f0)
    assert voiced >= 0.9 and abs(cents) <= 10, (voiced, cents)
    noisy = off_harmonic_share(audio[:SR], SR, f0)
    clean = build_instrument(
        EffectInput(id="vinyl_hiss", path=sample("vinyl_hiss")), Session.GUITAR, tmp_path / "clean", character=0.0
    )
    clean_share = off_harmonic_share(read(clean, layer(clean, root, True))[: SR], SR, f0)
    assert noisy >= 0.05 and noisy > 2 * clean_share, (noisy, clean_share)


def test_round_robins_differ_and_the_sampler_takes_turns(built) -> None:
    from pipeline.render.sampler import Sampler
    from pipeline.types import Note, Part

    instrument = built("perc_door", Session.BASS)
    root = roots(instrument)[2]
    first, second = (
        read(instrument, next(z for z in instrument.zones if z.pitch_keycenter == root and z.hivel == 127
                              and z.seq_position == position))
        for position in (1, 2)
    )
    n = min(len(first), len(second), SR // 2)
    assert np.corrcoef(first[:n], second[:n])[0, 1] < 0.9
    for audio in (first, second):
        voiced, cents = measure_pitch(audio, SR, midi_to_hz(root))
        assert voiced >= 0.9 and abs(cents) <= 10
    part = Part(session=Session.BASS, notes=[Note(start=s, end=s + 0.4, pitch=root, velocity=110) for s in (0, 1, 2)])
    rendered = Sampler(instrument).render(part, SR)[:, 0]
    hits = [rendered[int(s * SR) : int(s * SR) + SR // 4] for s in (0, 1, 2)]
    assert not np.allclose(hits[0], hits[1], atol=1e-4)
    assert np.allclose(hits[0], hits[2], atol=1e-4)  # two round robins: the third note is the first again


def test_character_runs_from_clean_to_raw_and_is_recorded(tmp_path: Path, sample) -> None:
    effect = EffectInput(id="swoosh", path=sample("ambi_swoosh"))
    clean = build_instrument(effect, Session.KEYBOARD, tmp_path / "clean", character=0.0)
    raw = build_instrument(effect, Session.KEYBOARD, tmp_path / "raw", character=1.0)
    assert (clean.character, raw.character) == (0.0, 1.0)
    assert Instrument.load(raw.directory).character == 1.0
    source = colour(librosa.load(sample("ambi_swoosh"), sr=SR, mono=True)[0], SR, 30.0)
    root = roots(clean)[len(roots(clean)) // 2]
    distance = {
        name: float(np.sqrt(np.mean((colour(read(i, layer(i, root, True)), SR, 0.8) - source) ** 2)))
        for name, i in (("clean", clean), ("raw", raw))
    }
    assert distance["raw"] < distance["clean"], distance
    with pytest.raises(WaveInputError, match="outside 0"):
        build_instrument(effect, Session.KEYBOARD, tmp_path / "bad", character=1.5)


def test_character_settings_from_words() -> None:
    from pipeline.instruments.character import parse_character

    assert parse_character(["0.7"]) == {s: 0.7 for s in MELODIC_SESSIONS}
    assert parse_character(["0.7", "bass=0.2"])[Session.BASS] == 0.2
    assert parse_character(["Keyboard=1"]) == {Session.KEYBOARD: 1.0}
    for bad in (["loud"], ["bass=2"], ["drums=0.5"], ["flute=0.5"], ["nan"]):
        with pytest.raises(WaveInputError, match="character"):
            parse_character(bad)


# ------------------------------------------------------------------------------------------------ held notes


@pytest.mark.parametrize("sound", ["perc_snap", "elec_wood", "perc_bell"])
def test_a_struck_sound_held_fades_without_swelling_back_and_is_heard_to_its_end(built, sound: str) -> None:
    """A held note of a single hit never comes back up after it has decayed (a listener would hear a second,
    unplayed note), and at the end of a 4 s note it is still within 40 dB of its peak. The loop's own texture may
    move a few dB."""
    instrument = built(sound, Session.GUITAR)
    hop = int(0.02 * SR)
    for pitch in (45, 52, 64):
        part = Part(session=Session.GUITAR, notes=[Note(start=0.0, end=4.0, pitch=pitch, velocity=100)])
        audio = Sampler(instrument).render(part, SR).mean(axis=1)[: int(4.0 * SR)]
        frames = len(audio) // hop
        level = 10 * np.log10(np.mean(audio[: frames * hop].reshape(frames, hop) ** 2, axis=1) + 1e-20)
        peak = int(np.argmax(level))
        after = level[peak:]
        assert np.max(after - np.minimum.accumulate(after)) < 10.0, (sound, pitch)
        assert level[-3:].mean() > level[peak] - 40.0, (sound, pitch)


@pytest.mark.parametrize("sound", ["perc_swash", "elec_bell", "vinyl_hiss"])
def test_keys_keep_the_fundamental_within_6_db_of_the_strongest_partial(built, sound: str) -> None:
    """A keyboard note is heard at its written octave: no partial of the first eight stands more than 6 dB over
    the fundamental (a bright effect played plainly puts its 2nd-4th partials far above it)."""
    instrument = built(sound, Session.KEYBOARD)
    for pitch in (52, 64, 76):
        part = Part(session=Session.KEYBOARD, notes=[Note(start=0.0, end=1.0, pitch=pitch, velocity=100)])
        audio = Sampler(instrument).render(part, SR).mean(axis=1)[int(0.05 * SR) : int(0.95 * SR)]
        f0 = midi_to_hz(pitch)
        spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio)), 1 << 17))
        freqs = np.fft.rfftfreq(1 << 17, 1 / SR)
        levels = [spectrum[np.abs(freqs - k * f0) <= k * f0 * (2 ** (1 / 48) - 1)].max() for k in range(1, 9)]
        assert 20 * np.log10(levels[0] / max(levels)) >= -6.05, (sound, pitch)
