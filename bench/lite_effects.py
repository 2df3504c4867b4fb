"""The lite effects engine against real recordings, family by family.

For every sound family, ``bench/data/lite_families.json`` lists real recordings that Debian packages ship (sonic-pi
samples, game sound packages: see its ``package`` field). Their descriptors (spectral centroid, flatness, onset
rate, duration and decay time) set the family's real range. WAVE renders several sources of that family, as the
vision engines write them, over several seeds; a family is "inside" on a descriptor when the median of WAVE's
renders falls within the real range widened by :data:`MARGIN` (a ratio, since the reference sets are small).

Audio is analysed at the lowest sample rate among the family's recordings (some game sounds are 11 kHz), so a
bandwidth difference is not mistaken for a timbre difference.

    .venv/bin/python bench/lite_effects.py [--seeds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from pipeline.effects.lite import LiteEffectsEngine
from pipeline.sheet import SoundSheet

FAMILIES_FILE = Path(__file__).resolve().parent / "data" / "lite_families.json"
DESCRIPTORS = ("centroid_hz", "flatness", "onsets_per_s", "duration_s", "decay_s")
MARGIN = 1.25  # the real range is widened by this ratio on both sides
FLATNESS_FLOOR = 0.002  # flatness below this counts as this (purely tonal), so ratios stay meaningful
TARGET_SHARE = 0.80
MAX_ANALYSIS_RATE = 22050
N_FFT, HOP = 1024, 256

# What WAVE is asked to make for each family: (name, material, play method, timbre), as the scene table writes them.
SOURCES: dict[str, list[tuple[str, str, str, str]]] = {
    "machine": [
        ("fridge", "machine", "low hum of the compressor", "low, steady, buzzy"),
        ("air compressor", "machine", "hum of the compressor", "low, rumbling, steady"),
        ("car traffic", "machine", "hum of passing cars", "low, steady, rumbling"),
        ("distant traffic", "machine", "low hum across the city", "deep, distant, rumbling"),
        ("air conditioner", "machine", "hum of the fan", "low, steady, airy"),
        ("tractor", "machine", "engine hums down the lane", "low, rumbling, steady"),
    ],
    "hiss": [
        ("espresso machine", "machine", "hum and hiss of the steam wand", "buzzy, breathy, steady"),
        ("bus brakes", "air", "hiss as the air brakes release", "breathy, noisy, short"),
        ("drifting sand", "earth", "wind blows sand in a hissing stream", "grainy, dry, noisy"),
    ],
    "wind": [
        ("sea wind", "air", "gust across the open beach", "airy, whooshing, steady"),
        ("mountain wind", "air", "gust over the ridge", "airy, whooshing, cold"),
        ("desert wind", "air", "gust across the dunes", "airy, whooshing, deep"),
        ("night wind", "air", "gust through the trees", "airy, soft, deep"),
    ],
    "water": [
        ("stream", "water", "flow over the stones", "wet, bright, steady"),
        ("fountain", "water", "flow into the basin", "wet, steady, bright"),
        ("rain on the roof", "water", "rain pours on the roof", "noisy, steady, soft"),
        ("tap water", "water", "pour into a glass", "wet, bright, smooth"),
        ("coffee", "water", "pour into a cup", "wet, warm, smooth"),
    ],
    "rustle": [
        ("leaves", "leaves", "rustle in a light wind", "airy, soft, noisy"),
        ("paper bag", "paper", "rustle as it opens", "crisp, dry, crunchy"),
        ("tall grass", "leaves", "rustle in the breeze", "airy, soft, noisy"),
        ("paper sheets", "paper", "rustle as they are shuffled", "crisp, dry, light"),
    ],
    "scrape": [
        ("fallen branch", "wood", "scrape along a fallen log", "rough, woody, grainy"),
        ("chair", "wood", "scrape across the floor", "rough, woody, low"),
        ("hand saw", "metal", "scrape through a plank", "rough, grainy, rhythmic"),
        ("brick", "stone", "scrape across concrete", "rough, grainy, heavy"),
    ],
    "metal": [
        ("hammer and vice", "metal", "strike the steel vice with a hammer", "metallic, hard, ringing"),
        ("wrench", "metal", "clank on the concrete floor", "metallic, bright, ringing"),
        ("manhole cover", "metal", "clank as a car drives over it", "metallic, heavy, resonant"),
        ("teaspoon", "metal", "stir and tap the rim of the cup", "metallic, ringing, high"),
        ("oil drum", "metal", "thump with a fist", "metallic, deep, hollow"),
        ("metal edge", "metal", "strike with a metal rod", "metallic, sharp, ringing"),
    ],
    "wood": [
        ("tree trunk", "wood", "knock on the trunk with a knuckle", "hollow, woody, deep"),
        ("wooden table", "wood", "knock with a knuckle", "woody, warm, dull"),
        ("workbench", "wood", "knock on the bench top", "woody, deep, dull"),
        ("wooden door", "wood", "knock on a wooden door", "woody, hollow, deep"),
    ],
    "crackle": [
        ("dry twigs", "wood", "crackle of twigs snapping underfoot", "dry, sharp, short"),
        ("campfire", "wood", "logs crackle in the fire", "warm, crackly, steady"),
        ("fireplace", "wood", "fire crackles and pops", "dry, warm, noisy"),
    ],
    "typing": [
        ("keyboard keys", "plastic", "tap as someone types", "clicky, crisp, light"),
        ("pen", "plastic", "click the pen button", "clicky, sharp, short"),
        ("crossing signal", "machine", "tick of the crossing signal", "clicky, short, dry"),
    ],
    "animal": [
        ("small forest bird", "animal", "chirp in short bright phrases", "bright, high, tonal"),
        ("sparrows", "animal", "chirp in the trees", "bright, high, short"),
        ("seagull", "animal", "call overhead", "high, bright, distant"),
        ("hens", "animal", "cluck in the yard", "short, bright, rhythmic"),
        ("ducks", "animal", "quack from the water", "bright, short, rhythmic"),
    ],
}

# Descriptors a family's recordings cannot speak for: one key press says nothing of a typist's pace or length.
NOT_MEASURED: dict[str, tuple[str, ...]] = {"typing": ("onsets_per_s", "duration_s")}


def descriptors(audio: np.ndarray, sample_rate: int, analysis_rate: int) -> dict[str, float]:
    """Centroid (median over frames within 20 dB of the peak), flatness (same frames), onsets per second,
    duration (after trimming 50 dB below the peak) and decay (from the peak until the level first falls 20 dB
    under it: the ring of the loudest event, however many follow)."""
    y = librosa.resample(np.asarray(audio, dtype=np.float32), orig_sr=sample_rate, target_sr=analysis_rate)
    y = y - float(np.mean(y))
    y, _ = librosa.effects.trim(y, top_db=50)
    if len(y) < N_FFT:
        y = np.pad(y, (0, N_FFT - len(y)))
    spectrum = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
    rms = librosa.feature.rms(S=spectrum, frame_length=N_FFT)[0]
    level = 20 * np.log10(rms + 1e-9)
    peak = int(np.argmax(level))
    loud = level > level[peak] - 20
    centroid = librosa.feature.spectral_centroid(S=spectrum, sr=analysis_rate)[0][loud]
    flatness = librosa.feature.spectral_flatness(S=spectrum)[0][loud]
    duration = len(y) / analysis_rate
    onsets = librosa.onset.onset_detect(y=y, sr=analysis_rate, hop_length=HOP, units="time")
    return {
        "centroid_hz": float(np.median(centroid)),
        "flatness": max(FLATNESS_FLOOR, float(np.median(flatness))),
        "onsets_per_s": len(onsets) / duration,
        "duration_s": duration,
        "decay_s": _first_fall(loud, peak) * HOP / analysis_rate,
    }


def _first_fall(loud: np.ndarray, peak: int) -> int:
    quiet = np.flatnonzero(~loud[peak:])
    return int(quiet[0]) if len(quiet) else len(loud) - peak


def real_descriptors(items: list[dict]) -> tuple[int, list[dict[str, float]]]:
    rate = min([MAX_ANALYSIS_RATE] + [sf.info(item["file"]).samplerate for item in items])
    found = []
    for item in items:
        audio, sr = sf.read(item["file"], dtype="float32", always_2d=True)
        found.append(descriptors(audio.mean(axis=1), sr, rate))
    return rate, found


def wave_descriptors(family: str, seeds: int, rate: int, work: Path) -> list[dict[str, float]]:
    sources = SOURCES[family]
    sheet = SoundSheet(
        scene_description="A place.",
        mood_description="calm",
        sound_sources=[
            {"name": n, "material": m, "variants": [{"play_method": p, "timbre": t.split(", ")}]} for n, m, p, t in sources
        ],
        engine="bench",
    )
    sheet.assign_ids()
    engine = LiteEffectsEngine(effects_cache_dir=None)
    found = []
    for seed in range(seeds):
        for path in engine.generate(sheet, work / f"{family}-{seed}", seed=seed).values():
            audio, sr = sf.read(path, dtype="float32")
            found.append(descriptors(audio, sr, rate))
    return found


def judge(real: list[dict[str, float]], wave: list[dict[str, float]], skip: tuple[str, ...]) -> dict[str, dict]:
    verdicts = {}
    for name in DESCRIPTORS:
        if name in skip:
            continue
        values = [r[name] for r in real]
        low, high = min(values) / MARGIN, max(values) * MARGIN
        ours = [w[name] for w in wave]
        median = float(np.median(ours))
        verdicts[name] = {
            "low": low,
            "high": high,
            "wave": median,
            "inside": bool(low <= median <= high),
            "share_inside": float(np.mean([low <= v <= high for v in ours])),
        }
    return verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    labelled = json.loads(FAMILIES_FILE.read_text())
    missing = sorted({i["package"] for i in labelled if not Path(i["file"]).exists()})
    if missing:
        print(f"missing recordings; install: {' '.join(missing)} (scripts/bootstrap full)", file=sys.stderr)
        return 2
    families = sorted({i["family"] for i in labelled})
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for family in families:
            rate, real = real_descriptors([i for i in labelled if i["family"] == family])
            wave = wave_descriptors(family, args.seeds, rate, Path(tmp))
            results[family] = judge(real, wave, NOT_MEASURED.get(family, ()))
            if not args.json:
                print(f"\n{family} ({len(real)} recordings, {len(wave)} renders, analysed at {rate} Hz)")
                for name, v in results[family].items():
                    mark = "ok " if v["inside"] else "OUT"
                    print(
                        f"  {mark} {name:13s} wave {v['wave']:9.3f}  real {v['low']:9.3f} .. {v['high']:9.3f}"
                        f"  ({v['share_inside']:.0%} of renders inside)"
                    )
    inside = [f for f, v in results.items() if all(d["inside"] for d in v.values())]
    share = len(inside) / len(families)
    per_descriptor = {
        name: sum(v[name]["inside"] for v in results.values() if name in v) / sum(name in v for v in results.values())
        for name in DESCRIPTORS
    }
    outside = {f: [n for n, d in v.items() if not d["inside"]] for f, v in results.items() if f not in inside}
    rows = [
        {
            "measure": "lite effects: families inside the real range on every descriptor",
            "wave": round(100 * share, 1),
            "reference": round(100 * TARGET_SHARE, 1),
            "target": f">= {TARGET_SHARE:.0%} of {len(families)} families",
            "unit": "%",
            "note": f"{args.seeds} seeds; outside: " + ("; ".join(f"{f}: {', '.join(n)}" for f, n in outside.items()) or "none"),
            "ok": share >= TARGET_SHARE,
        }
    ] + [
        {
            "measure": f"lite effects: families inside the real {name} range",
            "wave": round(100 * value, 1),
            "reference": None,
            "target": "report",
            "unit": "%",
            "note": "median of WAVE's renders against the recordings' range",
        }
        for name, value in per_descriptor.items()
    ]
    for row in rows:
        print(json.dumps(row) if args.json else f"{row['measure']}: {row['wave']} % ({row['note']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
