"""The drum kit builder on real recorded sounds (Debian's sonic-pi-samples)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from pipeline.audio import LoadedEffect, load_effect
from pipeline.errors import WaveInputError
from pipeline.instruments.drums import (
    GM_KEYS,
    HitClass,
    build_drum_kit,
    classify,
    describe,
    find_hits,
)
from pipeline.instruments.drums.shaping import own_grains
from pipeline.instruments.files import write_instrument_files
from pipeline.render.sampler import Sampler
from pipeline.types import Instrument, Note, Part, Session

SR = 44100
LOOPS = ["loop_amen", "loop_breakbeat"]
SINGLE_HITS = ["bd_haus", "sn_dolf", "perc_door", "elec_wood"]
NOISE_LIKE = ["ambi_swoosh", "vinyl_hiss"]
KICK, SNARE, CLOSED_HAT = 36, 38, 42
TOMS = (41, 43, 45, 47, 48, 50)


def read(path: Path) -> np.ndarray:
    rate, data = wavfile.read(path)
    return data.astype(np.float32) / 32768.0


def spectrum(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    power = np.abs(np.fft.rfft(audio)) ** 2
    return np.fft.rfftfreq(len(audio), 1.0 / SR), power


def centroid(audio: np.ndarray) -> float:
    freqs, power = spectrum(audio)
    return float((freqs * power).sum() / power.sum())


def band_share(audio: np.ndarray, lo: float, hi: float) -> float:
    freqs, power = spectrum(audio)
    return float(power[(freqs >= lo) & (freqs < hi)].sum() / power.sum())


def hard_pieces(kit: Instrument) -> dict[int, np.ndarray]:
    return {z.lokey: read(kit.sample_path(z)) for z in kit.zones if z.hivel == 127}


@pytest.fixture(scope="module")
def kits(sample, tmp_path_factory) -> dict[str, Instrument]:
    built = {}
    for name in LOOPS + SINGLE_HITS + NOISE_LIKE:
        out = tmp_path_factory.mktemp(name)
        built[name] = build_drum_kit(load_effect(sample(name)), out, name=f"{name} kit", source_effect=name,
                                     sample_rate=SR, seed=3)
    return built


@pytest.mark.parametrize("name", LOOPS)
def test_loop_is_sliced_into_hits(sample, name):
    hits = find_hits(load_effect(sample(name)).audio, SR)
    assert sum(h.percussive for h in hits) >= 4
    starts = [h.start_s for h in hits]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


@pytest.mark.parametrize("name", LOOPS)
def test_loop_kit_kick_is_darkest_and_hat_brightest(kits, name):
    pieces = hard_pieces(kits[name])
    centroids = {key: centroid(audio) for key, audio in pieces.items()}
    others = {key: c for key, c in centroids.items() if key not in (35, KICK)}
    assert centroids[KICK] < min(others.values())
    drums = [centroids[k] for k in (KICK, SNARE, *TOMS)]
    assert centroids[CLOSED_HAT] > max(drums)


@pytest.mark.parametrize("name", LOOPS + SINGLE_HITS + NOISE_LIKE)
def test_kick_is_low_and_hat_is_high(kits, name):
    pieces = hard_pieces(kits[name])
    assert band_share(pieces[KICK], 0, 200) > 0.5
    assert band_share(pieces[CLOSED_HAT], 5000, SR / 2) > 0.5
    assert band_share(pieces[SNARE], 150, 10000) > 0.5


@pytest.mark.parametrize("name", SINGLE_HITS + NOISE_LIKE)
def test_missing_pieces_are_derived_and_the_kit_is_full(kits, name):
    kit = kits[name]
    assert any("derived" in note for note in kit.notes)
    assert {z.lokey for z in kit.zones} >= set(range(35, 60))
    assert {z.lokey for z in kit.zones} == set(GM_KEYS) == set(range(35, 82))


@pytest.mark.parametrize("name", NOISE_LIKE)
def test_noise_like_effects_have_no_hits(sample, kits, name):
    hits = find_hits(load_effect(sample(name)).audio, SR)
    assert not any(h.percussive for h in hits)
    assert any("no clear hits" in note for note in kits[name].notes)


def test_single_hit_plays_itself_on_its_own_key(sample, kits):
    """The kick is the hit itself, from its attack (a lead-in of silence before it is cut, up to 10 ms)."""
    hit = load_effect(sample("bd_haus")).audio
    kick = hard_pieces(kits["bd_haus"])[KICK]
    n = min(len(kick), 2048)
    best = max(np.corrcoef(hit[lag : lag + n], kick[:n])[0, 1] for lag in range(0, SR // 100))
    assert best > 0.9


def third_octave_db(audio: np.ndarray, lo: float = 100.0, hi: float = 16000.0) -> np.ndarray:
    freqs, power = spectrum(audio)
    edges = np.geomspace(lo, hi, int(3 * np.log2(hi / lo)) + 1)
    levels = np.array([power[(freqs >= a) & (freqs < b)].sum() for a, b in itertools.pairwise(edges)])
    return 10 * np.log10(levels / levels.sum() + 1e-12)


@pytest.mark.parametrize("name", ["perc_door", "elec_wood", "sn_dolf"])
def test_grains_of_a_sound_keep_its_spectrum_not_white_noise(sample, name):
    hit = load_effect(sample(name)).audio[: SR // 2]
    grains = own_grains(hit, 0.5, 0.2, SR, np.random.default_rng(0))
    white = np.random.default_rng(0).standard_normal(len(grains))
    own = third_octave_db(hit)
    assert np.corrcoef(third_octave_db(grains), own)[0, 1] > 0.8
    assert np.corrcoef(third_octave_db(grains), own)[0, 1] > np.corrcoef(third_octave_db(white), own)[0, 1] + 0.3


def test_derived_pieces_follow_their_own_source(sample, kits):
    """Single-hit kits derive their missing pieces; each derived piece's spectrum (in the piece's own band) is nearer
    its own effect's than the same piece from another effect is."""
    names = ["perc_door", "elec_wood", "bd_haus"]
    for key, (lo, hi) in ((SNARE, (150.0, 9000.0)),):
        pieces = {n: third_octave_db(hard_pieces(kits[n])[key], lo, hi) for n in names}
        for n in names:
            effect = third_octave_db(load_effect(sample(n)).audio, lo, hi)
            own = np.corrcoef(pieces[n], effect)[0, 1]
            others = [np.corrcoef(pieces[m], effect)[0, 1] for m in names if m != n]
            assert own > max(others), (key, n, own, others)


def groove_level_floor_db(kit: Instrument, cymbal_key: int) -> float:
    """The 10th percentile of a two-bar groove's 2-16 kHz level (50 ms RMS) re its peak: kick, snare and a
    cymbal on every eighth note at 120 bpm."""
    notes = []
    for step in range(16):
        at = step * 0.25
        notes.append(Note(start=at, end=at + 0.2, pitch=cymbal_key, velocity=80))
        if step % 4 in (0, 2):
            notes.append(Note(start=at, end=at + 0.2, pitch=KICK if step % 4 == 0 else SNARE, velocity=110))
    audio = Sampler(kit).render(Part(session=Session.DRUMS, is_drum=True, notes=notes), SR).mean(axis=1)[: 4 * SR]
    freqs = np.fft.rfftfreq(len(audio), 1.0 / SR)
    band = np.fft.rfft(audio)
    band[(freqs < 2000.0) | (freqs > 16000.0)] = 0.0
    high = np.fft.irfft(band, len(audio))
    hop = SR // 20
    rms = np.sqrt(np.mean(high[: len(high) // hop * hop].reshape(-1, hop) ** 2, axis=1)) + 1e-9
    return float(20 * np.log10(np.percentile(rms, 10) / rms.max()))


@pytest.mark.parametrize("name", LOOPS + ["sn_dolf", "perc_door"])
def test_a_ride_on_every_eighth_leaves_no_constant_hiss(kits, name):
    assert groove_level_floor_db(kits[name], 51) < -18.0
    assert groove_level_floor_db(kits[name], CLOSED_HAT) < -30.0


def test_kit_files_and_sfz(kits):
    kit = kits["loop_amen"]
    assert kit.session == Session.DRUMS and kit.engine == "dsp" and kit.sample_rate == SR
    assert not kit.sfz_path.exists()  # the builder writes only the samples
    write_instrument_files(kit)
    text = kit.sfz_path.read_text()
    regions = [dict(re.findall(r"(\w+)=(\S+)", line)) for line in text.splitlines() if line.startswith("<region>")]
    assert len(regions) == 2 * len(GM_KEYS)
    for region in regions:
        assert (kit.directory / region["sample"]).is_file()
        assert region["lokey"] == region["hikey"] == region["pitch_keycenter"]
        assert region["loop_mode"] == "one_shot"
    for key in range(35, 82):
        layers = sorted((int(r["lovel"]), int(r["hivel"])) for r in regions if int(r["lokey"]) == key)
        assert layers[0][0] == 1 and layers[-1][1] == 127 and layers[0][1] + 1 == layers[1][0]
    assert Instrument.load(kit.directory) == kit.model_copy(update={"directory": Path(str(kit.directory))})


def test_pieces_are_clean_one_shots(kits):
    for zone in kits["sn_dolf"].zones:
        audio = read(kits["sn_dolf"].sample_path(zone))
        peak = np.max(np.abs(audio))
        assert 0.85 < peak <= 0.9  # normalised to -1 dBFS
        assert abs(audio[0]) < 0.05 * peak and abs(audio[-1]) < 0.01 * peak  # no clicks at the edges
        assert len(audio) <= 1.5 * SR


@pytest.mark.parametrize("name", ["loop_industrial", "loop_tabla", "loop_compus"])
def test_every_piece_of_a_kit_from_a_loop_with_gaps_starts_on_its_note(sample, tmp_path, name):
    """Slices are backtracked to the quiet before a hit, and toms are pitched far down: each piece still starts
    sounding (within 40 dB of its peak) within 5 ms of its note, or a groove would drag."""
    kit = build_drum_kit(load_effect(sample(name)), tmp_path, name=name, source_effect=name, sample_rate=SR, seed=3)
    late = {}
    for key in sorted({z.lokey for z in kit.zones}):
        part = Part(session=Session.DRUMS, is_drum=True, notes=[Note(start=0.25, end=0.75, pitch=key, velocity=100)])
        audio = Sampler(kit).render(part, SR).mean(axis=1).astype(np.float64)
        level = np.convolve(audio**2, np.ones(SR // 1000) / (SR // 1000), mode="same")
        starts_ms = 1000 * (int(np.argmax(level >= level.max() * 1e-4)) / SR - 0.25)
        if abs(starts_ms) > 5.0:
            late[key] = round(starts_ms, 1)
    assert not late, late


def test_soft_layer_is_darker(kits):
    kit = kits["sn_dolf"]
    snare = {z.hivel: read(kit.sample_path(z)) for z in kit.zones if z.lokey == SNARE}
    assert centroid(snare[127]) > 1.2 * centroid(min(snare.items())[1])


def test_same_seed_same_kit_other_seed_other_noise(sample, tmp_path):
    loaded = load_effect(sample("bd_haus"))
    paths = {}
    for label, seed in (("a", 1), ("b", 1), ("c", 2)):
        kit = build_drum_kit(loaded, tmp_path / label, name="k", source_effect="bd_haus", sample_rate=SR, seed=seed)
        paths[label] = {z.sample: kit.sample_path(z).read_bytes() for z in kit.zones}
    assert paths["a"] == paths["b"]
    assert paths["a"] != paths["c"]  # the snare's noise body is seeded


def test_output_rate_follows_the_request(sample, tmp_path):
    kit = build_drum_kit(load_effect(sample("sn_dolf")), tmp_path, name="k", source_effect="sn", sample_rate=48000)
    rate, _ = wavfile.read(kit.sample_path(kit.zones[0]))
    assert rate == 48000 == kit.sample_rate


def test_silent_effect_is_refused(tmp_path):
    silent = LoadedEffect(np.zeros(SR // 2, np.float32), SR, ["x: silent"], silent=True)
    with pytest.raises(WaveInputError, match="silent"):
        build_drum_kit(silent, tmp_path, name="k", source_effect="quiet", sample_rate=SR)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("bd_808", HitClass.KICK), ("drum_snare_hard", HitClass.SNARE), ("drum_cymbal_closed", HitClass.HAT),
     ("tabla_tun1", HitClass.PERC)],
)
def test_classifier_on_isolated_hits(sample, name, expected):
    audio = load_effect(sample(name)).audio
    assert classify(describe(audio, SR))[0] == expected


