"""Mixing and mastering: stem balance, bus processing, loudness and true-peak targets, file export."""

from pipeline.mix.export import UPLOAD_LIMIT_BYTES, write_mix
from pipeline.mix.master import TARGET_LUFS, TRUE_PEAK_CEILING_DBTP, MasterResult, master
from pipeline.mix.meters import integrated_lufs, true_peak_dbtp
from pipeline.mix.placement import MixStyle
from pipeline.mix.roles import Role, stem_roles

__all__ = [
    "TARGET_LUFS",
    "TRUE_PEAK_CEILING_DBTP",
    "UPLOAD_LIMIT_BYTES",
    "MasterResult",
    "MixStyle",
    "Role",
    "integrated_lufs",
    "master",
    "stem_roles",
    "true_peak_dbtp",
    "write_mix",
]
