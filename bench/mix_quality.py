"""Mix and arrangement quality: bands of recorded sounds play library songs; fluidsynth's GM render is the reference.

    .venv/bin/python bench/mix_quality.py [--json] [--songs ode_to_joy greensleeves ...] [--out DIR]

Each song is played through :func:`pipeline.play.play` by a band built from four sonic-pi samples (pinned to their
sessions, see ``BAND``), and rendered by fluidsynth with the General MIDI FluidR3 soundfont from the same notes, one
track at a time so that its stems can be measured as well. Per song:

- melody prominence: 400 ms windows inside the tune's sections where the melody session sounds; the share of them in
  which the melody stem (as it enters the mix bus) is the loudest part, and the median margin over the next loudest
  part (K-weighted power, dB);
- spectral balance: octave bands 63 Hz - 8 kHz of the mix against a -4.5 dB/octave tilt at equal loudness (the line
  shifted to the bands' mean), the largest deviation in dB;
- stereo: side/mid power ratio in dB over the whole band and below 120 Hz (bass mono);
- variety: the share of the song's bars taken by its most common drum bar (hits on a 48-step bar grid);
- loudness: integrated loudness (LUFS), true peak (dBTP) and loudness range (EBU Tech 3342, LU);
- mixing time: CPU seconds of :func:`pipeline.mix.master` on the song's stems, against a plain master of the same
  stems measured in the same run (sum, high-pass, compressor, limiter, loudness and true-peak meters), as a ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import mido
import numpy as np
import soundfile as sf
from pedalboard import Compressor, HighpassFilter, Limiter, Pedalboard
from scipy.signal import butter, sosfilt

from pipeline.mix.master import master, placed_stems
from pipeline.mix.meters import _k_weighting, integrated_lufs, true_peak_dbtp
from pipeline.mix.roles import stem_roles
from pipeline.mix.spectrum import OCTAVE_CENTRES_HZ, octave_band_levels, tilt_deviation
from pipeline.play import PlayOptions, play
from pipeline.songs import load_song, write_midi
from pipeline.songs.arrange import arrange
from pipeline.songs.catalog import SPECS
from pipeline.songs.library import DATA_DIR
from pipeline.types import EffectInput, Session, Song

SR = 44100
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SAMPLES = Path("/usr/share/sonic-pi/samples")
# The band: one recorded sound per session, kept apart from the sounds the render bench uses.
BAND = {
    Session.DRUMS: "loop_breakbeat",  # a drum loop: kicks, snares and hats of one kit
    Session.BASS: "ambi_drone",  # a low hum
    Session.GUITAR: "elec_twang",  # a pluck
    Session.KEYBOARD: "perc_bell",  # a bell
}
SONGS = ("ode_to_joy", "greensleeves", "amazing_grace", "drunken_sailor")
WINDOW_S = 0.4
BASS_MONO_HZ = 120.0
BAR_GRID = 48
# The role-aware mix may cost this many times the plain master's CPU (measured in the same run).
MAX_MIX_RATIO = 8.0
ACTIVE_BELOW_PEAK_DB = 35.0  # a window where the melody stem is this far under its loudest window is a rest


# ------------------------------------------------------------------------------------------------------ measures


def k_power(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """K-weighted power per 400 ms window (channels summed), ``audio`` is ``(n, 2)``."""
    weighted = sosfilt(_k_weighting(sample_rate), np.asarray(audio, np.float64), axis=0)
    size = int(WINDOW_S * sample_rate)
    count = len(weighted) // size
    return (weighted[: count * size] ** 2).reshape(count, size, -1).mean(axis=1).sum(axis=1)


def melody_windows(stems: dict[Session, np.ndarray], melody: Session, spans_s: list[tuple[float, float]],
                   sample_rate: int) -> tuple[float, float, int]:
    """(share of windows where the melody stem is loudest in %, median margin in dB, windows counted)."""
    powers = {session: k_power(stem, sample_rate) for session, stem in stems.items()}
    count = min(len(p) for p in powers.values())
    lead = powers[melody][:count]
    others = np.max([p[:count] for s, p in powers.items() if s != melody], axis=0)
    centres = (np.arange(count) + 0.5) * WINDOW_S
    in_tune = np.zeros(count, bool)
    for start, end in spans_s:
        in_tune |= (centres >= start) & (centres < end)
    sounding = lead > lead.max() * 10 ** (-ACTIVE_BELOW_PEAK_DB / 10)
    chosen = in_tune & sounding
    margins = 10 * np.log10((lead[chosen] + 1e-12) / (others[chosen] + 1e-12))
    if not len(margins):
        return 0.0, float("nan"), 0
    return float((margins > 0).mean() * 100), float(np.median(margins)), int(chosen.sum())


def octave_deviation(audio: np.ndarray, sample_rate: int) -> tuple[float, dict[int, float]]:
    """Largest deviation (dB) of the octave bands from a -4.5 dB/octave line at the bands' mean, and each band's."""
    deviation = tilt_deviation(octave_band_levels(np.ascontiguousarray(np.asarray(audio).T), sample_rate, None))
    return float(np.abs(deviation).max()), {int(c): round(float(d), 1) for c, d in zip(OCTAVE_CENTRES_HZ, deviation)}


def side_mid_db(audio: np.ndarray, sample_rate: int, below_hz: float | None = None) -> float:
    audio = np.asarray(audio, np.float64)
    if below_hz:
        audio = sosfilt(butter(4, below_hz, "lowpass", fs=sample_rate, output="sos"), audio, axis=0)
    mid, side = (audio[:, 0] + audio[:, 1]) / 2, (audio[:, 0] - audio[:, 1]) / 2
    return float(10 * np.log10((np.mean(side**2) + 1e-20) / (np.mean(mid**2) + 1e-20)))


def loudness_range(audio: np.ndarray, sample_rate: int) -> float:
    """EBU Tech 3342 loudness range: 3 s windows every second, gated, 10th to 95th percentile."""
    weighted = sosfilt(_k_weighting(sample_rate), np.asarray(audio, np.float64), axis=0)
    power = (weighted**2).sum(axis=1)
    size, hop = 3 * sample_rate, sample_rate
    levels = np.array([-0.691 + 10 * np.log10(power[i : i + size].mean() + 1e-20)
                       for i in range(0, max(1, len(power) - size + 1), hop)])
    levels = levels[levels > -70]
    if not len(levels):
        return 0.0
    relative = -0.691 + 10 * np.log10(np.mean(10 ** ((levels + 0.691) / 10))) - 20
    levels = levels[levels > relative]
    return float(np.percentile(levels, 95) - np.percentile(levels, 10))


def drum_bar_share(midi_path: Path) -> tuple[float, int]:
    """Share (%) of bars taken by the most common drum bar, and the number of bars with drums."""
    midi = mido.MidiFile(midi_path)
    meter = next((m for t in midi.tracks for m in t if m.type == "time_signature"), None)
    numerator, denominator = (meter.numerator, meter.denominator) if meter else (4, 4)
    bar_ticks = midi.ticks_per_beat * 4 * numerator // denominator
    bars: dict[int, set[tuple[int, int]]] = {}
    for track in midi.tracks:
        now = 0
        for message in track:
            now += message.time
            if message.type == "note_on" and message.velocity > 0 and message.channel == 9:
                step = round((now % bar_ticks) * BAR_GRID / bar_ticks)
                bars.setdefault(now // bar_ticks + step // BAR_GRID, set()).add((message.note, step % BAR_GRID))
    patterns = Counter(frozenset(hits) for hits in bars.values())
    return (patterns.most_common(1)[0][1] / len(bars) * 100 if bars else 0.0), len(bars)


def plain_master(stems: dict[Session, np.ndarray], sample_rate: int) -> np.ndarray:
    """The reference for the mixing time: the stems summed and mastered by one fixed pedalboard chain, metered."""
    length = max(len(stem) for stem in stems.values())
    bus = np.zeros((2, length), np.float32)
    for stem in stems.values():
        bus[:, : len(stem)] += stem.T
    board = Pedalboard([HighpassFilter(30.0), Compressor(threshold_db=-18.0, ratio=1.6, attack_ms=30.0,
                                                          release_ms=300.0), Limiter(threshold_db=-6.0)])
    out = board(bus, sample_rate)
    integrated_lufs(out.T, sample_rate), true_peak_dbtp(out.T, sample_rate)
    return out


def cpu_seconds(step) -> float:
    """CPU seconds of ``step()``, the best of two runs (the machine may be shared)."""
    times = []
    for _ in range(2):
        start = time.process_time()
        step()
        times.append(time.process_time() - start)
    return min(times)


def mixing_time(stems: dict[Session, np.ndarray], song: Song) -> tuple[float, float]:
    """(CPU s of WAVE's master, CPU s of the plain reference master) on the same stems, in this run."""
    roles = stem_roles(list(stems), song.info.melody_session)
    return cpu_seconds(lambda: master(stems, SR, roles)), cpu_seconds(lambda: plain_master(stems, SR))

# ------------------------------------------------------------------------------------------------------- playing


def stems_in_mix(stems: dict[Session, np.ndarray], song: Song, sample_rate: int) -> dict[Session, np.ndarray]:
    """Each stem as it enters the mix bus: placed by its role (EQ, pan, width) at its role's loudness."""
    placed = placed_stems(stems, sample_rate, [], stem_roles(list(stems), song.info.melody_session))
    return {session: stem.T for session, stem in placed.stems.items()}


def melody_spans_s(song_id: str) -> list[tuple[float, float]]:
    arrangement = arrange(SPECS[song_id])
    bar = arrangement.total_beats / sum(mark.bars for mark in arrangement.sections)
    return [(arrangement.seconds_at(mark.start), arrangement.seconds_at(mark.start + mark.bars * bar))
            for mark in arrangement.sections if mark.has_melody]


def wave_render(song_id: str, out: Path, effects: list[EffectInput]) -> tuple[np.ndarray, dict[Session, np.ndarray]]:
    play(effects, song_id, out, options=PlayOptions(sample_rate=SR),
         overrides={session: name for session, name in BAND.items()})
    mix, _ = sf.read(out / "mix.wav", dtype="float32", always_2d=True)
    stems = {Session(path.stem): sf.read(path, dtype="float32", always_2d=True)[0]
             for path in sorted((out / "stems").glob("*.wav"))}
    return mix, stems


def fluidsynth_render(song: Song, out: Path) -> tuple[np.ndarray, dict[Session, np.ndarray]]:
    """fluidsynth's stems (one render per part) and their sum as the mix."""
    stems: dict[Session, np.ndarray] = {}
    for part in song.parts:
        midi = write_midi(Song(info=song.info, parts=[part]), out / f"{part.session.value}.mid")
        wav = out / f"{part.session.value}.wav"
        subprocess.run(["fluidsynth", "-ni", "-g", "0.5", "-r", str(SR), "-F", str(wav), str(SOUNDFONT), str(midi)],
                       check=True, capture_output=True)
        audio, _ = sf.read(wav, dtype="float32", always_2d=True)
        stems[part.session] = audio
    length = max(len(a) for a in stems.values())
    padded = {s: np.pad(a, ((0, length - len(a)), (0, 0))) for s, a in stems.items()}
    return sum(padded.values()), padded


def figures(mix: np.ndarray, stems: dict[Session, np.ndarray], melody: Session,
            spans: list[tuple[float, float]]) -> dict[str, float]:
    share, margin, windows = melody_windows(stems, melody, spans, SR)
    deviation, bands = octave_deviation(mix, SR)
    return {
        "melody_share": round(share, 1), "melody_margin": round(margin, 2), "windows": windows,
        "tilt_deviation": round(deviation, 2), "bands": bands,
        "side_mid": round(side_mid_db(mix, SR), 2), "bass_side_mid": round(side_mid_db(mix, SR, BASS_MONO_HZ), 2),
        "lufs": round(float(integrated_lufs(mix, SR)), 2), "dbtp": round(float(true_peak_dbtp(mix, SR)), 2),
        "lra": round(loudness_range(mix, SR), 1),
    }


def rows(song_id: str, melody: Session, wave: dict, fluid: dict, drum_share: float, bars: int,
         timing: tuple[float, float], seconds: float) -> list[dict]:
    name = song_id
    mix_cpu, plain_cpu = timing
    return [
        {"measure": f"{name}: melody ({melody.value}) loudest part, share of windows", "wave": wave["melody_share"],
         "reference": fluid["melody_share"], "ratio": None, "target": ">= 60 %", "unit": "%",
         "note": f"{wave['windows']} windows of 400 ms while the tune plays", "ok": wave["melody_share"] >= 60},
        {"measure": f"{name}: melody median margin over the next part", "wave": wave["melody_margin"],
         "reference": fluid["melody_margin"], "ratio": None, "target": ">= 2 dB", "unit": "dB",
         "note": "K-weighted power per window", "ok": wave["melody_margin"] >= 2},
        {"measure": f"{name}: octave bands 63 Hz-8 kHz vs -4.5 dB/oct tilt, max deviation", "wave": wave["tilt_deviation"],
         "reference": fluid["tilt_deviation"], "ratio": None, "target": "<= 4 dB", "unit": "dB",
         "note": "bands (dB): " + " ".join(f"{c}:{d:+.1f}" for c, d in wave["bands"].items()),
         "ok": wave["tilt_deviation"] <= 4},
        {"measure": f"{name}: side/mid", "wave": wave["side_mid"], "reference": fluid["side_mid"], "ratio": None,
         "target": "-12 to -6 dB", "unit": "dB", "note": "whole band", "ok": -12 <= wave["side_mid"] <= -6},
        {"measure": f"{name}: side/mid below 120 Hz (bass mono)", "wave": wave["bass_side_mid"],
         "reference": fluid["bass_side_mid"], "ratio": None, "target": "<= -20 dB", "unit": "dB", "note": "",
         "ok": wave["bass_side_mid"] <= -20},
        {"measure": f"{name}: largest share of one drum bar pattern", "wave": round(drum_share, 1), "reference": 40.0,
         "ratio": None, "target": "<= 40 %", "unit": "%", "note": f"{bars} bars with drums; same MIDI for both",
         "ok": drum_share <= 40},
        {"measure": f"{name}: integrated loudness", "wave": wave["lufs"], "reference": fluid["lufs"], "ratio": None,
         "target": "-14 +- 0.5 LUFS", "unit": "LUFS", "note": f"loudness range {wave['lra']} LU "
         f"(fluidsynth {fluid['lra']} LU)", "ok": abs(wave["lufs"] + 14) <= 0.5},
        {"measure": f"{name}: true peak", "wave": wave["dbtp"], "reference": fluid["dbtp"], "ratio": None,
         "target": "<= -1 dBTP", "unit": "dBTP", "note": "", "ok": wave["dbtp"] <= -1.0},
        {"measure": f"{name}: mix and master CPU vs a plain master", "wave": round(mix_cpu, 3),
         "reference": round(plain_cpu, 3), "ratio": round(mix_cpu / plain_cpu, 2), "target": f"<= {MAX_MIX_RATIO}x",
         "unit": "s", "note": f"{seconds:.0f} s song; reference: sum, high-pass, compressor, limiter, meters",
         "ok": mix_cpu / plain_cpu <= MAX_MIX_RATIO},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", nargs="+", default=list(SONGS))
    parser.add_argument("--out", type=Path, default=None, help="keep the rendered files here")
    parser.add_argument("--json", action="store_true", help="one JSON line per result row (see bench/README.md)")
    args = parser.parse_args()
    if shutil.which("fluidsynth") is None or not SOUNDFONT.exists():
        raise SystemExit("fluidsynth and fluid-soundfont-gm are needed")
    missing = [name for name in BAND.values() if not (SAMPLES / f"{name}.flac").exists()]
    if missing:
        raise SystemExit(f"sonic-pi samples missing: {missing} (Debian: apt-get install sonic-pi-samples)")
    out = args.out or Path(tempfile.mkdtemp(prefix="wave-mix-quality-"))
    effects = [EffectInput(id=name, name=name, path=SAMPLES / f"{name}.flac") for name in BAND.values()]
    for song_id in args.songs:
        spec = SPECS[song_id]
        song = load_song(song_id)
        spans = melody_spans_s(song_id)
        mix, raw_stems = wave_render(song_id, out / song_id / "wave", effects)
        wave = figures(mix, stems_in_mix(raw_stems, song, SR), spec.melody_session, spans)
        (out / song_id / "fluidsynth").mkdir(parents=True, exist_ok=True)
        fluid_mix, fluid_stems = fluidsynth_render(song, out / song_id / "fluidsynth")
        fluid = figures(fluid_mix, fluid_stems, spec.melody_session, spans)
        share, bars = drum_bar_share(DATA_DIR / f"{song_id}.mid")
        timing = mixing_time(raw_stems, song)
        for row in rows(song_id, spec.melody_session, wave, fluid, share, bars, timing, len(mix) / SR):
            if args.json:
                print(json.dumps(row), flush=True)
            else:
                ok = "" if row.get("ok", True) else "  (missed)"
                print(f"{row['measure']:<72} {row['wave']!s:>8} {row['reference']!s:>8} {row['unit']:<5} "
                      f"{row['target']}{ok}  {row['note']}", flush=True)
        print(f"{song_id}: files in {out / song_id}", file=sys.stderr)


if __name__ == "__main__":
    main()
