"""Writing an :class:`~pipeline.types.Instrument` as a SoundFont 2.01 file, for players that do not read SFZ.

The RIFF ``sfbk`` layout (INFO, sdta/smpl, pdta with phdr/pbag/pmod/pgen/inst/ibag/imod/igen/shdr) is packed with
``struct``: no maintained Python library writes SoundFonts, and the format is small and fixed. One preset holds one
instrument whose zones mirror the SFZ regions (key and velocity ranges, root key, loop, volume envelope).
"""

from __future__ import annotations

import contextlib
import math
import struct
import wave
from pathlib import Path

import numpy as np
import soundfile as sf

from pipeline.errors import WaveInputError
from pipeline.session_table import row
from pipeline.types import Envelope, Instrument, Zone

SF2_FILE_NAME = "instrument.sf2"
SAMPLE_PADDING = 46  # zero points the spec requires after every sample

# Generator operators (SoundFont 2.01, section 8.1.2).
GEN_PAN = 17
GEN_ATTACK_VOL_ENV = 34
GEN_DECAY_VOL_ENV = 36
GEN_SUSTAIN_VOL_ENV = 37
GEN_RELEASE_VOL_ENV = 38
GEN_INSTRUMENT = 41
GEN_KEY_RANGE = 43
GEN_VEL_RANGE = 44
GEN_INITIAL_ATTENUATION = 48
GEN_COARSE_TUNE = 51
GEN_FINE_TUNE = 52
GEN_SAMPLE_ID = 53
GEN_SAMPLE_MODES = 54
GEN_OVERRIDING_ROOT_KEY = 58

SAMPLE_MODES = {"no_loop": 0, "one_shot": 0, "loop_continuous": 1, "loop_sustain": 3}
MONO_SAMPLE = 1


def _chunk(tag: bytes, data: bytes) -> bytes:
    pad = b"\0" if len(data) % 2 else b""
    return tag + struct.pack("<I", len(data)) + data + pad


def _list(kind: bytes, *chunks: bytes) -> bytes:
    return _chunk(b"LIST", kind + b"".join(chunks))


def _name(text: str, size: int = 20) -> bytes:
    return text.encode("ascii", "replace")[: size - 1].ljust(size, b"\0")


def _zstr(text: str) -> bytes:
    raw = text.encode("ascii", "replace")[:255] + b"\0"
    return raw + (b"\0" if len(raw) % 2 else b"")


def _gen(operator: int, amount: int) -> bytes:
    return struct.pack("<Hh", operator, max(-32768, min(32767, int(amount))))


def _gen_range(operator: int, low: int, high: int) -> bytes:
    return struct.pack("<HBB", operator, low, high)


def _timecents(seconds: float) -> int:
    return max(-12000, min(8000, round(1200 * math.log2(max(seconds, 0.001)))))


def _envelope_generators(envelope: Envelope) -> list[bytes]:
    sustain_cb = 1440 if envelope.sustain_level <= 0 else round(-200 * math.log10(envelope.sustain_level))
    generators = [_gen(GEN_ATTACK_VOL_ENV, _timecents(envelope.attack_s))]
    if envelope.decay_s > 0:
        generators.append(_gen(GEN_DECAY_VOL_ENV, _timecents(envelope.decay_s)))
    generators += [
        _gen(GEN_SUSTAIN_VOL_ENV, min(1440, sustain_cb)),
        _gen(GEN_RELEASE_VOL_ENV, _timecents(envelope.release_s)),
    ]
    return generators


def _zone_generators(zone: Zone, envelope: Envelope, sample_id: int) -> bytes:
    # keyRange first, velRange second and sampleID last, as the spec requires.
    generators = [_gen_range(GEN_KEY_RANGE, zone.lokey, zone.hikey), _gen_range(GEN_VEL_RANGE, zone.lovel, zone.hivel)]
    generators += _envelope_generators(envelope)
    if zone.volume_db < 0:
        generators.append(_gen(GEN_INITIAL_ATTENUATION, round(-10 * zone.volume_db)))
    if zone.pan:
        generators.append(_gen(GEN_PAN, round(zone.pan * 500)))
    if zone.tune_cents:
        coarse = int(zone.tune_cents / 100)
        generators.append(_gen(GEN_COARSE_TUNE, coarse))
        generators.append(_gen(GEN_FINE_TUNE, round(zone.tune_cents - 100 * coarse)))
    generators.append(_gen(GEN_SAMPLE_MODES, SAMPLE_MODES[zone.loop_mode] if zone.loop_start is not None else 0))
    generators.append(_gen(GEN_OVERRIDING_ROOT_KEY, zone.pitch_keycenter))
    generators.append(_gen(GEN_SAMPLE_ID, sample_id))
    return b"".join(generators)


def _read_pcm16(path: Path) -> tuple[np.ndarray, int]:
    if not path.is_file():
        raise WaveInputError(f"Instrument sample {path.name} is missing.")
    # The samples the builders write (mono 16-bit PCM) are read with the standard library, several times faster
    # than libsndfile for short files; anything else goes through soundfile.
    with contextlib.suppress(wave.Error, EOFError), wave.open(str(path), "rb") as pcm:
        if pcm.getnchannels() == 1 and pcm.getsampwidth() == 2 and pcm.getcomptype() == "NONE":
            return np.frombuffer(pcm.readframes(pcm.getnframes()), dtype="<i2").astype(np.int16), pcm.getframerate()
    audio, sample_rate = sf.read(str(path), dtype="int16", always_2d=True)
    mono = audio[:, 0] if audio.shape[1] == 1 else audio.astype(np.int32).mean(axis=1).astype(np.int16)
    return mono, int(sample_rate)


def render_sf2(instrument: Instrument) -> bytes:
    """The SoundFont file's bytes for ``instrument`` (samples are read from its directory).

    SoundFont has no round robins: a player would sound every matching zone at once, so only the first of each
    round-robin set is written.
    """
    zones = [zone for zone in instrument.zones if zone.seq_position == 1]
    sample_ids: dict[str, int] = {}
    sample_data: list[bytes] = []
    headers: list[bytes] = []
    cursor = 0
    for zone in zones:
        if zone.sample in sample_ids:
            continue
        pcm, sample_rate = _read_pcm16(instrument.sample_path(zone))
        start, end = cursor, cursor + len(pcm)
        if zone.loop_start is not None and zone.loop_end is not None:
            loop_start, loop_end = start + zone.loop_start, start + min(zone.loop_end + 1, len(pcm))
        else:
            loop_start, loop_end = start, end
        headers.append(
            _name(Path(zone.sample).stem)
            + struct.pack(
                "<IIIIIBbHH", start, end, loop_start, loop_end, sample_rate, zone.pitch_keycenter, 0, 0, MONO_SAMPLE
            )
        )
        sample_ids[zone.sample] = len(headers) - 1
        sample_data.append(pcm.astype("<i2").tobytes() + b"\0\0" * SAMPLE_PADDING)
        cursor = end + SAMPLE_PADDING
    headers.append(_name("EOS") + bytes(26))

    ibag, igen = [], []
    generator_index = 0
    for zone in zones:
        generators = _zone_generators(zone, instrument.envelope, sample_ids[zone.sample])
        ibag.append(struct.pack("<HH", generator_index, 0))
        igen.append(generators)
        generator_index += len(generators) // 4
    ibag.append(struct.pack("<HH", generator_index, 0))
    igen.append(bytes(4))

    bank, program = (128, 0) if row(instrument.session).drum_kit else (0, 0)
    title = f"WAVE {instrument.session.value} {instrument.name}"
    phdr = _name(title) + struct.pack("<HHHIII", program, bank, 0, 0, 0, 0)
    phdr += _name("EOP") + struct.pack("<HHHIII", 0, 0, 1, 0, 0, 0)  # terminal record: bag index = bags in use
    pbag = struct.pack("<HH", 0, 0) + struct.pack("<HH", 1, 0)
    pgen = _gen(GEN_INSTRUMENT, 0) + bytes(4)
    inst = _name(title) + struct.pack("<H", 0) + _name("EOI") + struct.pack("<H", len(zones))

    info = _list(
        b"INFO",
        _chunk(b"ifil", struct.pack("<HH", 2, 1)),
        _chunk(b"isng", _zstr("EMU8000")),
        _chunk(b"INAM", _zstr(title)),
        _chunk(b"ICMT", _zstr(f"built by WAVE from effect {instrument.source_effect}")),
        _chunk(b"ISFT", _zstr("WAVE")),
    )
    sdta = _list(b"sdta", _chunk(b"smpl", b"".join(sample_data)))
    pdta = _list(
        b"pdta",
        _chunk(b"phdr", phdr),
        _chunk(b"pbag", pbag),
        _chunk(b"pmod", bytes(10)),
        _chunk(b"pgen", pgen),
        _chunk(b"inst", inst),
        _chunk(b"ibag", b"".join(ibag)),
        _chunk(b"imod", bytes(10)),
        _chunk(b"igen", b"".join(igen)),
        _chunk(b"shdr", b"".join(headers)),
    )
    return _chunk(b"RIFF", b"sfbk" + info + sdta + pdta)


def write_sf2(instrument: Instrument, path: Path | None = None) -> Path:
    """Write the SoundFont (default: ``instrument.sf2`` in the instrument directory) and return its path."""
    path = Path(path) if path is not None else instrument.directory / SF2_FILE_NAME
    path.write_bytes(render_sf2(instrument))
    return path
