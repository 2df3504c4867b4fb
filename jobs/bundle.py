"""The band's instruments as one zip for a DAW: per session its SFZ, its SF2 and the samples the SFZ plays.

Built once, when a render version is played (its instrument files exist only then), and stored as an artifact.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

BUNDLE_REPORT_KEY = "instruments_zip"  # where a render's report keeps the bundle's artifact key
BUNDLE_FILE_NAME = "wave-instruments.zip"
README = """WAVE instruments
================
One folder per part of the band. Each holds the same instrument twice:
  instrument.sfz  with the samples it plays (open it in an SFZ player such as sforzando or Sfizz),
  instrument.sf2  a SoundFont with the samples inside (for DAWs and players that load SoundFonts).
Sample paths in the SFZ files are relative to their folder: keep the folders as they are.
"""


def bundle_key(report: dict | None) -> str | None:
    """The artifact key of a render's instruments zip, named in its report."""
    key = (report or {}).get(BUNDLE_REPORT_KEY)
    return key if isinstance(key, str) else None


def pack_instruments(out_dir: Path, destination: Path) -> Path | None:
    """Zip ``out_dir/instruments`` (as ``play`` wrote it) into ``destination``; None when nothing was built."""
    root = Path(out_dir) / "instruments"
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()) if root.is_dir() else []
    if not files:
        return None
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README)
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    return destination
