"""Mixing and mastering: stem balance, bus processing, loudness and true-peak targets, file export."""

from pipeline.mix.export import UPLOAD_LIMIT_BYTES, write_mix
from pipeline.mix.master import TARGET_LUFS, TRUE_PEAK_CEILING_DBTP, MasterResult, master
from pipeline.mix.meters import integrated_lufs, true_peak_dbtp

__all__ = [
    "TARGET_LUFS",
    "TRUE_PEAK_CEILING_DBTP",
    "UPLOAD_LIMIT_BYTES",
    "MasterResult",
    "integrated_lufs",
    "master",
    "true_peak_dbtp",
    "write_mix",
]
