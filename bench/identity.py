"""Identity and tuning of the instruments: does each instrument sound like its own source, and play in tune?

Bands of four real recordings (bench/data/identity_sounds.json: drums, bass, guitar, keyboard) are built into
instruments with WAVE's builder and played (separate notes per session). In the same run the same notes are played
by plain pitch-shifting of each effect (the effect itself as a single sample, resampled per note): the reference,
which keeps identity but ignores tuning.

Identity, with three independent embeddings (MFCC statistics, long-term spectral envelope, modulation spectrum):
- source recovery among 4: the nearest of the band's four sources to each instrument's phrase is its own source;
- source recovery among all: the same among every source of the set;
- same session: the nearest instrument from another band was built for the same session (25% is chance; a high
  share means the session, not the sound, decides the timbre).
Tuning: pyin on single notes of the melodic instruments (median cents error, voiced share), and how far below the
strongest partial a keyboard's fundamental sits. Sustain: how long a
4 s guitar note stays above -40 dB of its peak. Swell: how far a held 4 s note's level comes back up after it has
fallen (a second, unplayed note to a listener); the reference is the effect's own rise. Onsets: how far from its
written onset each note starts. Build: median CPU seconds to build one band of four instruments.

    python bench/identity.py [--json] [--bands N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import librosa
from scipy.signal import butter, sosfiltfilt

from pipeline.audio import load_effect
from pipeline.instruments import build_instrument
from pipeline.instruments.multisample import midi_to_hz
from pipeline.render.sampler import Sampler
from pipeline.types import EffectInput, Envelope, Instrument, Note, Part, Session, Zone

SOUNDS = Path(__file__).resolve().parent / "data" / "identity_sounds.json"
BAND_SESSIONS = (Session.DRUMS, Session.BASS, Session.GUITAR, Session.KEYBOARD)
BUILD_SR = 44100
ANALYSIS_SR = 22050
SOURCE_MAX_S = 6.0

# What each instrument plays for the identity measures: separate notes (pitch, seconds held), each embedded on its
# own and the embeddings averaged, so the note rhythm (the same for every band) cannot stand in for the sound.
# Drums use General MIDI keys and play unshifted in the reference.
IDENTITY_NOTES: dict[Session, list[tuple[int, float]]] = {
    Session.DRUMS: [(36, 1.0), (38, 1.0), (42, 1.0)],
    Session.BASS: [(36, 2.0), (43, 2.0)],
    Session.GUITAR: [(52, 2.0), (59, 2.0)],
    Session.KEYBOARD: [(60, 2.0), (67, 2.0)],
}
TUNING_NOTES: dict[Session, list[int]] = {
    Session.BASS: [33, 40, 47],
    Session.GUITAR: [48, 57, 67],
    Session.KEYBOARD: [52, 64, 76],
}
TUNING_NOTE_S = 1.0
SUSTAIN_NOTE = (64, 4.0)  # guitar pitch, written length in seconds
ONSET_AT_S = 0.25  # where the onset measure writes its notes
EMBEDDINGS = ("MFCC", "envelope", "modulation")


@dataclass
class Player:
    band: int
    session: Session
    source: str
    instrument: Instrument
    reference: Instrument


# ------------------------------------------------------------------------------------------------ embeddings


def _active(audio: np.ndarray) -> np.ndarray:
    """The audio from its first to its last frame within 40 dB of its loudest, so silence does not weigh."""
    rms = librosa.feature.rms(y=audio, frame_length=1024, hop_length=256)[0]
    loud = np.flatnonzero(rms >= rms.max() * 10 ** (-40 / 20))
    if not len(loud):
        return audio
    return audio[loud[0] * 256 : (loud[-1] + 4) * 256]


def mfcc_statistics(audio: np.ndarray) -> np.ndarray:
    mfcc = librosa.feature.mfcc(y=audio, sr=ANALYSIS_SR, n_mfcc=20, n_fft=1024, hop_length=256)[1:]
    return np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1)])


def spectral_envelope(audio: np.ndarray) -> np.ndarray:
    """Long-term average log-mel spectrum, level removed."""
    mel = librosa.feature.melspectrogram(y=audio, sr=ANALYSIS_SR, n_fft=2048, hop_length=512, n_mels=48)
    envelope = 10 * np.log10(mel.mean(axis=1) + 1e-10)
    return envelope - envelope.max()


def modulation_spectrum(audio: np.ndarray) -> np.ndarray:
    """Per mel band (8 bands), how the band's loudness moves: energy in 8 modulation bands from 0.5 to 32 Hz."""
    hop = 128
    mel = librosa.feature.melspectrogram(y=audio, sr=ANALYSIS_SR, n_fft=1024, hop_length=hop, n_mels=8)
    envelopes = np.log(mel + 1e-8)
    envelopes -= envelopes.mean(axis=1, keepdims=True)
    n = max(256, 1 << int(np.ceil(np.log2(envelopes.shape[1]))))
    spectrum = np.abs(np.fft.rfft(envelopes * np.hanning(envelopes.shape[1]), n, axis=1)) ** 2
    freqs = np.fft.rfftfreq(n, hop / ANALYSIS_SR)
    edges = np.geomspace(0.5, 32.0, 9)
    bands = np.stack([spectrum[:, (freqs >= lo) & (freqs < hi)].sum(axis=1) for lo, hi in itertools.pairwise(edges)], 1)
    bands = np.log(bands + 1e-6)
    return (bands - bands.mean()).ravel()


EMBEDDERS = {"MFCC": mfcc_statistics, "envelope": spectral_envelope, "modulation": modulation_spectrum}


def embed_all(clips: list[list[np.ndarray]]) -> dict[str, np.ndarray]:
    """One row per player: the mean embedding of its clips."""
    return {name: np.stack([np.mean([fn(_active(c)) for c in group], axis=0) for group in clips])
            for name, fn in EMBEDDERS.items()}


def _cosine_distances(a: np.ndarray, b: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    a = (a - mean) / std
    b = (b - mean) / std
    a /= np.linalg.norm(a, axis=1, keepdims=True) + 1e-12
    b /= np.linalg.norm(b, axis=1, keepdims=True) + 1e-12
    return 1.0 - a @ b.T


@dataclass
class Identity:
    among_band: float
    among_all: float
    same_session: float


def identity_scores(sources: np.ndarray, played: np.ndarray, players: list[Player]) -> Identity:
    """Shares (in %) for one embedding: ``sources`` and ``played`` are rows in the order of ``players``."""
    mean = sources.mean(axis=0)
    std = sources.std(axis=0) + 1e-6
    to_sources = _cosine_distances(played, sources, mean, std)
    to_played = _cosine_distances(played, played, mean, std)
    bands = np.array([p.band for p in players])
    sessions = np.array([p.session.value for p in players])
    own = np.arange(len(players))
    in_band = np.where(bands[None, :] == bands[:, None], to_sources, np.inf)
    hits = np.argmin(in_band, axis=1) == own
    for session in BAND_SESSIONS:
        mine = sessions == session.value
        missed = ", ".join(str(b) for b in bands[mine & ~hits]) or "none"
        print(f"  {session.value:<9} found among 4: {100 * np.mean(hits[mine]):.0f}% (missed in bands: {missed})",
              file=sys.stderr)
    among_band = np.mean(hits)
    among_all = np.mean(np.argmin(to_sources, axis=1) == own)
    other_band = np.where(bands[None, :] != bands[:, None], to_played, np.inf)
    same_session = np.mean(sessions[np.argmin(other_band, axis=1)] == sessions)
    return Identity(100 * among_band, 100 * among_all, 100 * same_session)


# ------------------------------------------------------------------------------------------------- playing


def play(instrument: Instrument, notes: list[tuple[int, float, float]], session: Session) -> np.ndarray:
    part = Part(session=session, is_drum=session == Session.DRUMS,
                notes=[Note(start=s, end=s + d, pitch=p, velocity=100) for p, s, d in notes])
    return Sampler(instrument).render(part, ANALYSIS_SR).mean(axis=1)


def notes_of(instrument: Instrument, session: Session) -> list[np.ndarray]:
    return [play(instrument, [(pitch, 0.0, held)], session) for pitch, held in IDENTITY_NOTES[session]]


def pitch_shift_reference(effect: EffectInput, session: Session, out_dir: Path) -> Instrument:
    """The effect itself as one sample, resampled per note: plain pitch-shifting with no idea of the pitch.

    Its root is the middle of the phrase, so the shifts stay within an octave; drums play it unshifted.
    """
    loaded = load_effect(effect.path, BUILD_SR)
    out_dir.mkdir(parents=True, exist_ok=True)
    sf.write(out_dir / "effect.wav", loaded.audio, BUILD_SR)
    if session == Session.DRUMS:
        zones = [Zone(sample="effect.wav", lokey=k, hikey=k, pitch_keycenter=k) for k in range(35, 82)]
    else:
        root = round(np.mean([p for p, _ in IDENTITY_NOTES[session]]))
        zones = [Zone(sample="effect.wav", lokey=0, hikey=127, pitch_keycenter=root)]
    return Instrument(session=session, name=f"{effect.id} (shifted)", source_effect=effect.id, sample_rate=BUILD_SR,
                      directory=out_dir, zones=zones, envelope=Envelope(release_s=0.1))


# ---------------------------------------------------------------------------------------------- measuring


def note_tuning(audio: np.ndarray, f0: float) -> tuple[float, float]:
    """(voiced share, |median error| in cents) of pyin on one note; the search spans +-13 semitones."""
    sr = ANALYSIS_SR
    frame = 4096 if f0 < 100 else 2048
    clip = sosfiltfilt(butter(8, min(4.5 * f0, 0.45 * sr), fs=sr, output="sos"), audio[: int(TUNING_NOTE_S * sr)])
    f, voiced, _ = librosa.pyin(clip, fmin=f0 * 2 ** (-13 / 12), fmax=f0 * 2 ** (13 / 12), sr=sr,
                                frame_length=frame, hop_length=256, center=False)
    if not voiced.any():
        return 0.0, 1200.0
    return float(np.mean(voiced)), abs(float(np.median(1200 * np.log2(f[voiced] / f0))))


LEVEL_HOP = int(0.02 * ANALYSIS_SR)


def level_rms(audio: np.ndarray) -> np.ndarray:
    """RMS every 20 ms (over 40 ms), the level the sustain and swell measures follow."""
    return librosa.feature.rms(y=audio, frame_length=2 * LEVEL_HOP, hop_length=LEVEL_HOP, center=False)[0]


def seconds_above(audio: np.ndarray, floor_db: float = -40.0) -> float:
    """Seconds from the start until the level (20 ms RMS) last stands within ``floor_db`` of its peak."""
    rms = level_rms(audio)
    above = np.flatnonzero(rms >= rms.max() * 10 ** (floor_db / 20))
    return float((above[-1] + 1) * LEVEL_HOP / ANALYSIS_SR) if len(above) else 0.0


def start_offset_ms(audio: np.ndarray, written: float, floor_db: float = -40.0) -> float:
    """Milliseconds from the written onset to where the note's level (1 ms RMS) first reaches ``floor_db`` of its
    peak: when the sound starts, as opposed to when its loudest moment comes (a swell's is late by nature)."""
    window = max(1, int(0.001 * ANALYSIS_SR))
    level = np.sqrt(np.convolve(audio.astype(np.float64) ** 2, np.ones(window) / window, mode="same"))
    start = int(np.argmax(level >= level.max() * 10 ** (floor_db / 20)))
    return 1000.0 * (start / ANALYSIS_SR - written)


def fundamental_gap_db(audio: np.ndarray, f0: float, partials: int = 8) -> float:
    """The fundamental's level against the strongest of the first ``partials`` harmonics (dB; 0 when it is the
    strongest), from the peaks within a quarter tone of each, over the note's first second."""
    clip = audio[int(0.05 * ANALYSIS_SR) : int(0.95 * ANALYSIS_SR)]
    n = 1 << 16
    spectrum = np.abs(np.fft.rfft(clip * np.hanning(len(clip)), n))
    freqs = np.fft.rfftfreq(n, 1 / ANALYSIS_SR)
    levels = [float(spectrum[np.abs(freqs - k * f0) <= k * f0 * (2 ** (1 / 48) - 1)].max())
              for k in range(1, partials + 1) if k * f0 < 0.45 * ANALYSIS_SR]
    return 20 * np.log10((levels[0] + 1e-12) / (max(levels) + 1e-12))


def swell_db(audio: np.ndarray, floor_db: float = -50.0) -> float:
    """How far (dB) the level (20 ms RMS) comes back up after it has fallen, from the peak on, down to ``floor_db``."""
    rms = level_rms(audio)
    level = 20 * np.log10(rms / (rms.max() + 1e-12) + 1e-12)
    after = level[int(np.argmax(level)) :]
    after = after[after > floor_db]
    return float(np.max(after - np.minimum.accumulate(after))) if len(after) else 0.0


YARDSTICK = "STFT and inverse of 30 s of noise, 44.1 kHz"


def machine_yardstick() -> float:
    """CPU seconds of a fixed piece of DSP (median of 5 after a warm-up), measured in the same run: the build time
    is in absolute seconds, as its target is, and this tells how fast the machine that measured it was."""
    noise = np.random.default_rng(0).standard_normal(30 * BUILD_SR).astype(np.float32)
    times = []
    for _ in range(6):
        started = time.process_time()
        librosa.istft(librosa.stft(noise, n_fft=2048, hop_length=512), hop_length=512, length=len(noise))
        times.append(time.process_time() - started)
    return statistics.median(times[1:])


def load_bands(limit: int | None) -> list[list[tuple[EffectInput, str]]]:
    data = json.loads(SOUNDS.read_text())
    bands = []
    for band in data["bands"][:limit]:
        members = []
        for entry in band:
            path = Path(data["roots"][entry["package"]]) / entry["file"]
            if not path.is_file():
                raise SystemExit(f"needs Debian's {entry['package']} ({path} is missing)")
            members.append((EffectInput(id=Path(entry["file"]).stem, path=path, name=entry["label"]), entry["kind"]))
        bands.append(members)
    return bands


def source_clip(effect: EffectInput) -> np.ndarray:
    return load_effect(effect.path, ANALYSIS_SR).audio[: int(SOURCE_MAX_S * ANALYSIS_SR)].astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="one JSON line per result row (for bench/run)")
    parser.add_argument("--bands", type=int, default=None, help="use only the first N bands")
    parser.add_argument("--character", type=float, default=None, help="build at this character (default: WAVE's)")
    args = parser.parse_args()
    bands = load_bands(args.bands)
    players: list[Player] = []
    build_times = []
    with tempfile.TemporaryDirectory(prefix="wave-identity-") as tmp:
        for b, band in enumerate(bands):
            started = time.process_time()
            built = [build_instrument(
                    effect, session, Path(tmp) / f"b{b}" / session.value, sample_rate=BUILD_SR,
                    character=None if session == Session.DRUMS else args.character,
                )
                     for (effect, _), session in zip(band, BAND_SESSIONS)]
            build_times.append(time.process_time() - started)
            for (effect, _), session, instrument in zip(band, BAND_SESSIONS, built):
                reference = pitch_shift_reference(effect, session, Path(tmp) / f"b{b}" / f"{session.value}_ref")
                players.append(Player(b, session, effect.id, instrument, reference))
            print(f"band {b}: built in {build_times[-1]:.2f} s CPU", file=sys.stderr, flush=True)

        sources = embed_all([[source_clip(EffectInput(id=p.source, path=_path_of(bands, p)))] for p in players])
        methods = {
            "wave": embed_all([notes_of(p.instrument, p.session) for p in players]),
            "shift": embed_all([notes_of(p.reference, p.session) for p in players]),
        }
        scores: dict[str, dict[str, Identity]] = {}
        for method, embedded in methods.items():
            scores[method] = {}
            for e in EMBEDDINGS:
                print(f"{method} {e}:", file=sys.stderr)
                scores[method][e] = identity_scores(sources[e], embedded[e], players)

        tuning: dict[str, list[tuple[float, float]]] = {"wave": [], "shift": []}
        swells: dict[str, list[float]] = {"wave": [], "shift": []}
        starts: dict[str, list[float]] = {"wave": [], "shift": []}
        fundamentals: dict[str, list[float]] = {"wave": [], "shift": []}
        sustain = []
        for p in players:
            for method, instrument in (("wave", p.instrument), ("shift", p.reference)):
                for pitch, _ in IDENTITY_NOTES[p.session]:
                    audio = play(instrument, [(pitch, ONSET_AT_S, 0.5)], p.session)
                    starts[method].append(start_offset_ms(audio, ONSET_AT_S))
            if p.session not in TUNING_NOTES:
                continue
            for method, instrument in (("wave", p.instrument), ("shift", p.reference)):
                for pitch in TUNING_NOTES[p.session]:
                    audio = play(instrument, [(pitch, 0.0, TUNING_NOTE_S)], p.session)
                    tuning[method].append(note_tuning(audio, midi_to_hz(pitch)))
                    if p.session == Session.KEYBOARD:
                        fundamentals[method].append(fundamental_gap_db(audio, midi_to_hz(pitch)))
            for method, instrument in (("wave", p.instrument), ("shift", p.reference)):
                held = (IDENTITY_NOTES[p.session][0][0], 0.0, SUSTAIN_NOTE[1])
                swells[method].append(swell_db(play(instrument, [held], p.session)))
            if p.session == Session.GUITAR:
                pitch, length = SUSTAIN_NOTE
                sustain.append(min(seconds_above(play(p.instrument, [(pitch, 0.0, length)], p.session)), length))

    n = len(players)
    rows = []
    for e in EMBEDDINGS:
        w, r = scores["wave"][e], scores["shift"][e]
        rows.append({"measure": f"source recovery among 4, {e}", "wave": round(w.among_band, 1),
                     "reference": round(r.among_band, 1), "target": ">= 90%", "unit": "%",
                     "note": f"{n} instruments in {len(bands)} bands; reference: plain pitch-shifting; "
                             f"among all {n} sources: {w.among_all:.0f}% (reference {r.among_all:.0f}%)",
                     "ok": w.among_band >= 90.0})
    worst_same = max(scores["wave"][e].same_session for e in EMBEDDINGS)
    rows.append({"measure": "nearest instrument from another band is the same session",
                 "wave": round(worst_same, 1),
                 "reference": round(max(scores["shift"][e].same_session for e in EMBEDDINGS), 1),
                 "target": "<= 40%", "unit": "%",
                 "note": "worst of the embeddings: " + ", ".join(
                     f"{e} {scores['wave'][e].same_session:.0f}%" for e in EMBEDDINGS) + "; chance 25%",
                 "ok": worst_same <= 40.0})
    voiced = {m: float(np.mean([v for v, _ in t])) for m, t in tuning.items()}
    cents = {m: float(np.median([c for _, c in t])) for m, t in tuning.items()}
    rows.append({"measure": "tuning: median cents error of melodic notes", "wave": round(cents["wave"], 1),
                 "reference": round(cents["shift"], 1), "target": "<= 10 cents", "unit": "cents",
                 "note": f"pyin on {len(tuning['wave'])} notes; reference: plain pitch-shifting",
                 "ok": cents["wave"] <= 10.0})
    rows.append({"measure": "tuning: voiced share of melodic notes", "wave": round(voiced["wave"], 3),
                 "reference": round(voiced["shift"], 3), "target": ">= 0.9", "unit": "",
                 "note": "pyin voiced frames over the first second", "ok": voiced["wave"] >= 0.9})
    shortest = min(sustain)
    rows.append({"measure": "guitar 4 s note: seconds above -40 dB", "wave": round(shortest, 2),
                 "reference": SUSTAIN_NOTE[1], "target": ">= 4 s (its written length)", "unit": "s",
                 "note": f"shortest of {len(sustain)} guitars; median {statistics.median(sustain):.2f} s",
                 "ok": shortest >= SUSTAIN_NOTE[1] - 0.05})
    rows.append({"measure": "keyboard: fundamental against the strongest partial (worst)",
                 "wave": round(min(fundamentals["wave"]), 1), "reference": round(min(fundamentals["shift"]), 1),
                 "target": ">= -6 dB", "unit": "dB",
                 "note": f"{len(fundamentals['wave'])} keys, partials 1-8; median "
                         f"{statistics.median(fundamentals['wave']):.1f} dB; reference: plain pitch-shifting",
                 "ok": min(fundamentals["wave"]) >= -6.0 - 0.05})
    beyond_own = sum(w > r + 10.0 for w, r in zip(swells["wave"], swells["shift"]))
    swell = {m: statistics.median(v) for m, v in swells.items()}
    rows.append({"measure": "held 4 s notes: rise after decaying (median)", "wave": round(swell["wave"], 1),
                 "reference": round(swell["shift"], 1), "target": "<= reference + 3 dB", "unit": "dB",
                 "note": f"worst {max(swells['wave']):.1f} dB (reference {max(swells['shift']):.1f}); "
                         f"{beyond_own} of {len(swells['wave'])} notes rise 10 dB more than their source's own",
                 "ok": swell["wave"] <= swell["shift"] + 3.0})
    late = {m: max(abs(v) for v in values) for m, values in starts.items()}
    within = sum(abs(v) <= 5.0 for v in starts["wave"])
    rows.append({"measure": "note starts: worst offset from the written onset", "wave": round(late["wave"], 1),
                 "reference": round(late["shift"], 1), "target": "<= 5 ms", "unit": "ms",
                 "note": f"first 1 ms within 40 dB of the note's peak; {within} of {len(starts['wave'])} notes within "
                         f"5 ms, median {statistics.median(abs(v) for v in starts['wave']):.1f} ms",
                 "ok": late["wave"] <= 5.0})
    warm = statistics.median(build_times[1:] or build_times)
    yardstick = machine_yardstick()
    rows.append({"measure": "build 4 instruments (one band)", "wave": round(warm, 3), "reference": round(yardstick, 3),
                 "target": "<= 1 s", "unit": "s",
                 "note": f"CPU seconds, median of {len(build_times)} bands, first excluded; {os.cpu_count()} cores; "
                         f"reference: this machine's yardstick ({YARDSTICK}), so the build is "
                         f"{warm / yardstick:.1f} yardsticks", "ok": warm <= 1.0})
    for row in rows:
        row["ok"] = bool(row["ok"])  # numpy comparisons give numpy booleans, which json does not write
        if args.json:
            print(json.dumps(row))
        else:
            print(f"{row['measure']:<58} {row['wave']!s:>7} (reference {row['reference']!s:>6}) "
                  f"target {row['target']:<10} {row['note']}")


def _path_of(bands: list[list[tuple[EffectInput, str]]], player: Player) -> Path:
    effect, _ = bands[player.band][BAND_SESSIONS.index(player.session)]
    return effect.path


if __name__ == "__main__":
    main()
