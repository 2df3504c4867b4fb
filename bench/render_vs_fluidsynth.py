"""Render speed: WAVE's sampler against fluidsynth on the same MIDI, plus the mastering time.

    .venv/bin/python bench/render_vs_fluidsynth.py [--seconds 120] [--out DIR]

The song is the longest library song (repeated to at least ``--seconds``) when :mod:`pipeline.songs` provides
one, otherwise a four-part song made here. WAVE's instruments come from :func:`pipeline.instruments.build_instrument`
fed with recorded sounds, or from simple tone instruments made here when that stage is not available. Fluidsynth
plays the same notes from a standard MIDI file with the General MIDI FluidR3 soundfont.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

from pipeline.mix import master, write_mix
from pipeline.render import render_song
from pipeline.types import (
    SESSIONS,
    EffectInput,
    Envelope,
    Instrument,
    Note,
    Part,
    PedalEvent,
    Session,
    Song,
    SongInfo,
    Zone,
)

SR = 44100
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SAMPLES = Path("/usr/share/sonic-pi/samples")
EFFECTS = {
    Session.DRUMS: "loop_amen",
    Session.BASS: "bass_woodsy_c",
    Session.GUITAR: "guit_harmonics",
    Session.KEYBOARD: "ambi_glass_rub",
}
GM_PROGRAMS = {Session.BASS: 33, Session.GUITAR: 25, Session.KEYBOARD: 0}


# ------------------------------------------------------------------------------------------------------- the song


def repeated(song: Song, seconds: float) -> Song:
    """The song played again and again until it lasts at least ``seconds``."""
    period = song.duration_s + 0.5
    times = max(1, int(np.ceil(seconds / period)))
    parts = []
    for part in song.parts:
        notes = [n.model_copy(update={"start": n.start + k * period, "end": n.end + k * period})
                 for k in range(times) for n in part.notes]
        pedal = [e.model_copy(update={"time": e.time + k * period}) for k in range(times) for e in part.pedal]
        parts.append(part.model_copy(update={"notes": notes, "pedal": pedal}))
    info = song.info.model_copy(update={"duration_s": period * times})
    return Song(info=info, parts=parts, role_notes=song.role_notes)


def made_up_song(seconds: float) -> Song:
    """Four parts at 120 bpm in A minor: a rock beat, a walking bass, strummed chords, pedalled arpeggios."""
    beat = 0.5
    bars = int(np.ceil(seconds / (4 * beat)))
    chords = [(57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62)]  # Am F C G
    drums, bass, guitar, keys, pedal = [], [], [], [], []
    for bar in range(bars):
        t0 = bar * 4 * beat
        root = chords[bar % 4]
        for eighth in range(8):
            t = t0 + eighth * beat / 2
            drums.append(Note(start=t, end=t + 0.1, pitch=42 if eighth % 4 else 46, velocity=70 + 10 * (eighth % 2)))
        for quarter in range(4):
            t = t0 + quarter * beat
            drums.append(Note(start=t, end=t + 0.1, pitch=36 if quarter % 2 == 0 else 38, velocity=110))
            bass.append(Note(start=t, end=t + beat * 0.9, pitch=root[0] - 24 + (0, 7, 12, 7)[quarter], velocity=96))
            guitar += [Note(start=t + 0.01 * i, end=t + beat * 0.8, pitch=p, velocity=80) for i, p in enumerate(root)]
        for sixteenth in range(16):
            t = t0 + sixteenth * beat / 4
            keys.append(Note(start=t, end=t + beat / 4, pitch=root[sixteenth % 3] + 12 * (1 + sixteenth // 8),
                             velocity=60 + sixteenth % 4 * 8))
        pedal += [PedalEvent(time=t0, down=True), PedalEvent(time=t0 + 4 * beat - 0.05, down=False)]
    info = SongInfo(id="bench", title="Bench song", composer="WAVE", public_domain_basis="written for the bench",
                    tempo_bpm=120, key="A minor", duration_s=bars * 4 * beat)
    return Song(info=info, parts=[
        Part(session=Session.DRUMS, name="drums", is_drum=True, notes=drums),
        Part(session=Session.BASS, name="bass", program=33, notes=bass, pan=-0.1),
        Part(session=Session.GUITAR, name="guitar", program=25, notes=guitar, pan=0.4),
        Part(session=Session.KEYBOARD, name="keys", program=0, notes=keys, pedal=pedal, pan=-0.3),
    ])


def pick_song(seconds: float) -> tuple[Song, str]:
    try:
        from pipeline.songs import list_songs, load_song

        longest = max(list_songs(), key=lambda info: info.duration_s)
        return repeated(load_song(longest.id), seconds), f"library: {longest.title} ({longest.duration_s:.0f} s)"
    except Exception as exc:  # the library may be missing or unfinished: the bench still runs
        return made_up_song(seconds), f"made-up four-part song ({type(exc).__name__}: {exc})"[:120]


def song_midi(song: Song, path: Path) -> Path:
    try:
        from pipeline.songs import write_midi

        return write_midi(song, path)
    except ImportError:
        pass
    ticks = 480
    midi = mido.MidiFile(ticks_per_beat=ticks)  # tempo 120 bpm: a beat is 0.5 s
    melodic_channels = iter(c for c in range(16) if c != 9)
    for part in song.parts:
        channel = 9 if part.is_drum or part.session == Session.DRUMS else next(melodic_channels)
        events = []
        if channel != 9:
            events.append((0, mido.Message("program_change", channel=channel,
                                           program=part.program or GM_PROGRAMS.get(part.session, 0))))
        for n in part.notes:
            events.append((n.start, mido.Message("note_on", channel=channel, note=n.pitch, velocity=n.velocity)))
            events.append((n.end, mido.Message("note_off", channel=channel, note=n.pitch, velocity=0)))
        for e in part.pedal:
            events.append((e.time, mido.Message("control_change", channel=channel, control=64,
                                                value=127 if e.down else 0)))
        track = mido.MidiTrack()
        now = 0
        for t, message in sorted(events, key=lambda item: (item[0], item[1].type != "note_off")):
            tick = int(round(t * 2 * ticks))
            track.append(message.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    midi.save(path)
    return path


# ---------------------------------------------------------------------------------------------- the instruments


def tone_instrument(session: Session, directory: Path) -> Instrument:
    """Decaying harmonic tones every 4 semitones (or noise bursts for drums), for when no builder is available."""
    directory.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(1.5 * SR)) / SR
    zones = []
    if session == Session.DRUMS:
        rng = np.random.default_rng(0)
        for key in range(35, 82):
            tone = rng.standard_normal(len(t)) * np.exp(-t * (8 + key % 7 * 4))
            sf.write(directory / f"d{key}.wav", (0.5 * tone).astype(np.float32), SR)
            zones.append(Zone(sample=f"d{key}.wav", lokey=key, hikey=key, pitch_keycenter=key, loop_mode="one_shot"))
    else:
        for key in range(24, 100, 4):
            f = 440 * 2 ** ((key - 69) / 12)
            tone = sum(np.sin(2 * np.pi * f * h * t) / h for h in (1, 2, 3)) * np.exp(-t * 1.5)
            sf.write(directory / f"k{key}.wav", (0.3 * tone).astype(np.float32), SR)
            zones.append(Zone(sample=f"k{key}.wav", lokey=key - 2, hikey=key + 1, pitch_keycenter=key,
                              loop_mode="loop_continuous", loop_start=int(0.5 * SR), loop_end=len(t) - 1))
    return Instrument(session=session, name=f"tones {session.value}", source_effect="tones", sample_rate=SR,
                      directory=directory, zones=zones, envelope=Envelope(release_s=0.3))


def make_instruments(workdir: Path) -> tuple[dict[Session, Instrument], str]:
    try:
        from pipeline.instruments import build_instrument

        built = {
            session: build_instrument(EffectInput(id=name, name=name, path=SAMPLES / f"{name}.flac"),
                                      session, workdir / session.value)
            for session, name in EFFECTS.items()
        }
        return built, "built by pipeline.instruments from sonic-pi samples"
    except Exception as exc:
        return {s: tone_instrument(s, workdir / s.value) for s in SESSIONS}, f"tone instruments ({type(exc).__name__})"


# --------------------------------------------------------------------------------------------------------- bench


def fluidsynth_render(midi_path: Path, wav_path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of fluidsynth with its default settings rendering ``midi_path`` to a file."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(["fluidsynth", "-ni", "-g", "0.5", "-r", str(SR), "-F", str(wav_path), str(SOUNDFONT),
                    str(midi_path)], check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)


def timed(step):
    wall, cpu = time.perf_counter(), time.process_time()
    value = step()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--out", type=Path, default=None, help="keep the rendered files here")
    parser.add_argument("--warm-runs", type=int, default=3, help="renders after the first one (median reported)")
    parser.add_argument("--json", action="store_true", help="one JSON line per result row (see bench/README.md)")
    args = parser.parse_args()
    if shutil.which("fluidsynth") is None or not SOUNDFONT.exists():
        raise SystemExit("fluidsynth and fluid-soundfont-gm are needed (Debian: apt-get install fluidsynth "
                         "fluid-soundfont-gm)")
    workdir = Path(tempfile.mkdtemp(prefix="wave-bench-"))
    out = args.out or workdir
    out.mkdir(parents=True, exist_ok=True)

    song, song_source = pick_song(args.seconds)
    instruments, instrument_source = make_instruments(workdir / "instruments")
    midi_path = song_midi(song, out / "song.mid")
    notes = sum(len(p.notes) for p in song.parts)

    # The first render of this process: samples are read from disk, compiled loops are loaded (or compiled when
    # no cache exists yet), memory is fresh. That is the figure the target is judged on.
    stems, wave_s, wave_cpu = timed(lambda: render_song(song, instruments, SR))
    warm = [timed(lambda: render_song(song, instruments, SR))[1:] for _ in range(max(args.warm_runs, 0))]
    warm_s = float(np.median([w for w, _ in warm])) if warm else wave_s
    warm_cpu = float(np.median([c for _, c in warm])) if warm else wave_cpu
    result, master_s, master_cpu = timed(lambda: master(stems, SR))
    _, export_s, export_cpu = timed(lambda: write_mix(result, out))
    fluid_s, fluid_cpu = fluidsynth_render(midi_path, out / "fluidsynth.wav")
    audio_s = len(result.audio) / SR
    fluid_audio_s = sf.info(out / "fluidsynth.wav").duration
    speedup = fluid_cpu / wave_cpu
    warm_speedup = fluid_cpu / warm_cpu
    finish_cpu = master_cpu + export_cpu
    size = f"{len(song.parts)} parts, {notes} notes, {audio_s:.0f} s of audio"

    if args.json:
        rows = [
            {"measure": f"render {audio_s:.0f} s song, first call in a fresh process (CPU s)", "wave": round(wave_cpu, 3),
             "reference": round(fluid_cpu, 3), "ratio": round(speedup, 2), "target": ">= 10x faster than fluidsynth",
             "unit": "s", "note": f"ratio = fluidsynth CPU / WAVE CPU; {size}; wall {wave_s:.3f} s vs {fluid_s:.3f} s",
             "ok": speedup >= 10.0},
            {"measure": f"render {audio_s:.0f} s song, warm (median of {len(warm)}, CPU s)", "wave": round(warm_cpu, 3),
             "reference": round(fluid_cpu, 3), "ratio": round(warm_speedup, 2), "target": ">= 10x faster than fluidsynth",
             "unit": "s", "note": f"same process, instruments already read; wall {warm_s:.3f} s", "ok": warm_speedup >= 10.0},
            {"measure": "master (-14 LUFS, -1 dBTP), CPU s", "wave": round(master_cpu, 3), "reference": round(audio_s, 1),
             "ratio": round(audio_s / master_cpu, 1), "target": "-", "unit": "s",
             "note": f"ratio = x real time; {result.loudness_lufs:.2f} LUFS, {result.true_peak_dbtp:.2f} dBTP"},
            {"measure": "export (24-bit WAV + MP3), CPU s", "wave": round(export_cpu, 3), "reference": round(audio_s, 1),
             "ratio": round(audio_s / export_cpu, 1), "target": "-", "unit": "s", "note": "ratio = x real time"},
            {"measure": "master + export per 3 min of audio, CPU s", "wave": round(finish_cpu * 180 / audio_s, 3),
             "reference": 2.0, "ratio": round(finish_cpu * 180 / audio_s / 2.0, 2), "target": "<= 2 s", "unit": "s",
             "note": f"measured on {audio_s:.0f} s, scaled to 180 s", "ok": finish_cpu * 180 / audio_s <= 2.0},
        ]
        for row in rows:
            print(json.dumps(row), flush=True)
        return

    print(f"song: {song_source}; {size}")
    print(f"instruments: {instrument_source}")
    print()
    print(f"| {'step':<36} | {'wall s':>7} | {'CPU s':>7} | {'x real time (CPU)':>17} |")
    print(f"|{'-' * 38}|{'-' * 9}|{'-' * 9}|{'-' * 19}|")
    table = [
        ("WAVE render, first call (all stems)", wave_s, wave_cpu, audio_s),
        (f"WAVE render, warm (median of {len(warm)})", warm_s, warm_cpu, audio_s),
        ("fluidsynth render (same MIDI)", fluid_s, fluid_cpu, fluid_audio_s),
        ("WAVE master (-14 LUFS, -1 dBTP)", master_s, master_cpu, audio_s),
        ("WAVE export (WAV + MP3)", export_s, export_cpu, audio_s),
    ]
    for name, wall, cpu, length in table:
        print(f"| {name:<36} | {wall:7.3f} | {cpu:7.3f} | {length / max(cpu, 1e-9):17.1f} |")
    print()
    verdict = "met" if speedup >= 10 else "NOT met"
    print(f"First render: {fluid_s / wave_s:.1f}x faster than fluidsynth by wall time, {speedup:.1f}x by CPU time; "
          f"warm: {warm_speedup:.1f}x by CPU time. Target 10x (first call, CPU): {verdict}.")
    print(f"master + export: {finish_cpu:.2f} s CPU for {audio_s:.0f} s of audio "
          f"({finish_cpu * 180 / audio_s:.2f} s per 3 minutes; aim <= 2 s)")
    print(f"master: {result.loudness_lufs:.2f} LUFS, {result.true_peak_dbtp:.2f} dBTP; files in {out}")


if __name__ == "__main__":
    main()
