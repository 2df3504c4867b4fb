"""Writing a built :class:`~pipeline.types.Instrument`: the SF2, the SFZ and instrument.json beside its samples.

Builders write only the samples and return the Instrument; this is the one place its description files are written.
"""

from __future__ import annotations

from pipeline.instruments.sf2 import SF2_FILE_NAME, write_sf2
from pipeline.instruments.sfz import write_sfz
from pipeline.types import Instrument


def write_instrument_files(instrument: Instrument) -> Instrument:
    """Write ``instrument.sf2``, ``instrument.sfz`` and ``instrument.json`` into the instrument's directory."""
    write_sf2(instrument, instrument.directory / SF2_FILE_NAME)
    instrument.sf2 = SF2_FILE_NAME
    write_sfz(instrument)
    instrument.save()
    return instrument
