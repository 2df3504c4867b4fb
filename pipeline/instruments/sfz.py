"""Writing an :class:`~pipeline.types.Instrument` as a standard SFZ file (samples beside it)."""

from __future__ import annotations

from pathlib import Path

from pipeline.types import Instrument, Zone


def _region(zone: Zone) -> str:
    opcodes = [
        f"sample={zone.sample}",
        f"lokey={zone.lokey}",
        f"hikey={zone.hikey}",
        f"pitch_keycenter={zone.pitch_keycenter}",
        f"lovel={zone.lovel}",
        f"hivel={zone.hivel}",
        f"loop_mode={zone.loop_mode}",
    ]
    if zone.loop_start is not None and zone.loop_end is not None:
        opcodes += [f"loop_start={zone.loop_start}", f"loop_end={zone.loop_end}"]
    if zone.seq_length > 1:
        opcodes += [f"seq_length={zone.seq_length}", f"seq_position={zone.seq_position}"]
    if zone.tune_cents:
        opcodes.append(f"tune={round(zone.tune_cents)}")
    if zone.volume_db:
        opcodes.append(f"volume={zone.volume_db:.2f}")
    if zone.pan:
        opcodes.append(f"pan={zone.pan * 100:.0f}")
    return "<region> " + " ".join(opcodes)


def render_sfz(instrument: Instrument) -> str:
    env = instrument.envelope
    lines = [
        f"// WAVE instrument: {instrument.name}",
        f"// session: {instrument.session.value}; built from effect '{instrument.source_effect}' ({instrument.engine})",
        "<control> default_path=",
        "<global>",
        f"ampeg_attack={env.attack_s:.4f} ampeg_decay={env.decay_s:.4f} "
        f"ampeg_sustain={env.sustain_level * 100:.1f} ampeg_release={env.release_s:.4f}",
        f"amp_veltrack={instrument.amp_veltrack:.1f}",
        "<group>",
    ]
    lines += [_region(zone) for zone in instrument.zones]
    return "\n".join(lines) + "\n"


def write_sfz(instrument: Instrument) -> Path:
    """Write ``instrument.sfz_path``; sample paths are relative to the instrument directory."""
    path: Path = instrument.sfz_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_sfz(instrument))
    return path
