"""The band's instruments as one zip for a DAW: per session its SFZ, its SF2 and the samples the SFZ plays.

Their files exist only while a render version is played, so the render keeps them as they are (an uncompressed
zip, quick to write); the zip people download is built from that once, when first asked for, and kept too.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

BUNDLE_REPORT_KEY = "instruments_zip"  # where a render's report keeps the bundle's artifact key
RAW_REPORT_KEY = "instruments_raw"  # ... and the key of the instrument files as played
BUNDLE_FILE_NAME = "wave-instruments.zip"
BUNDLE_MAX_BYTES = 10 * 1024 * 1024 - 64 * 1024  # within the smallest upload limit (Discord's 10 MiB)
SAMPLE = re.compile(r"\bsample=(\S+)")
README = """WAVE instruments
================
One folder per part of the band. Each holds the same instrument twice:
  instrument.sfz  with the samples it plays, as FLAC (open it in an SFZ player such as sforzando or Sfizz),
  instrument.sf2  a SoundFont with the samples inside (for DAWs and players that load SoundFonts).
Sample paths in the SFZ files are relative to their folder: keep the folders as they are.
"""


def bundle_keys(report: dict | None) -> list[str]:
    """The artifact keys a render's report names: the instruments as played and the zip built from them."""
    return [key for name in (RAW_REPORT_KEY, BUNDLE_REPORT_KEY) if isinstance(key := (report or {}).get(name), str)]


def keep_instruments(out_dir: Path, destination: Path) -> Path | None:
    """The instrument files ``play`` wrote in ``out_dir/instruments``, zipped as they are; None when none."""
    root = Path(out_dir) / "instruments"
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()) if root.is_dir() else []
    if not files:
        return None
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_STORED) as archive:
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    return destination


def pack_instruments(root: Path, destination: Path, max_bytes: int = BUNDLE_MAX_BYTES) -> Path | None:
    """Zip the instruments in ``root`` (one folder each) into ``destination``; None when there are none.

    The samples go in as 16-bit FLAC (SFZ players read it; a third of the WAVs' size), each SFZ pointing at them.
    The SoundFonts, which hold the samples once more, are added while the zip stays within ``max_bytes``.
    """
    root = Path(root)
    folders = sorted(d for d in root.iterdir() if (d / "instrument.sfz").is_file()) if root.is_dir() else []
    if not folders:
        return None
    left_out = []
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for folder in folders:
            flacs: dict[str, str] = {}
            sfz = (folder / "instrument.sfz").read_text()
            for sample in sorted(set(SAMPLE.findall(sfz))):
                source = (folder / sample).resolve()
                if not source.is_relative_to(folder.resolve()):  # the SFZ is ours; a path still never leaves it
                    raise ValueError(f"{folder.name}: sample {sample!r} lies outside the instrument")
                flacs[sample] = Path(sample).with_suffix(".flac").as_posix()
                archive.writestr(f"{folder.name}/{flacs[sample]}", _flac(source))
            sfz = SAMPLE.sub(lambda m, flacs=flacs: f"sample={flacs[m.group(1)]}", sfz)
            archive.writestr(f"{folder.name}/instrument.sfz", sfz)
        for folder in folders:
            sf2 = folder / "instrument.sf2"
            if not sf2.is_file():
                continue
            if archive.fp.tell() + sf2.stat().st_size + len(README) * 2 > max_bytes:
                left_out.append(folder.name)
                continue
            archive.write(sf2, f"{folder.name}/instrument.sf2")
        note = f"\nLeft out to keep the zip small enough to share: the SF2 of {', '.join(left_out)}.\n" if left_out else ""
        archive.writestr("README.txt", README + note)
    return destination


def _flac(path: Path) -> bytes:
    import soundfile

    audio, rate = soundfile.read(path, always_2d=False)
    buffer = io.BytesIO()
    soundfile.write(buffer, audio, rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()
