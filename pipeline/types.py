"""Typed contracts shared by the pipeline stages.

Times are in seconds, pitches are MIDI note numbers, audio is float32 numpy (mono ``(n,)`` or stereo ``(n, 2)``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The band's sessions are part of every contract; their table lives in pipeline.session_table.
from pipeline.session_table import MELODIC_SESSIONS, SESSION_RANGES, SESSIONS, Session  # noqa: F401

# Receives (message, fraction done in [0, 1]) from work inside one stage; pipeline.progress tags it with the stage.
ProgressCallback = Callable[[str, float], None]


def no_progress(message: str, fraction: float) -> None:
    """A progress callback that ignores everything."""


def scaled_progress(progress: ProgressCallback, start: float, end: float) -> ProgressCallback:
    """A callback for a sub-step: its fractions 0..1 are reported to ``progress`` as ``start``..``end``."""
    return lambda message, fraction: progress(message, start + (end - start) * min(1.0, max(0.0, fraction)))


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


# ---------------------------------------------------------------------------------------------------------- songs


class Note(Model):
    start: float = Field(ge=0)
    end: float
    pitch: int = Field(ge=0, le=127)
    velocity: int = Field(ge=1, le=127)

    @model_validator(mode="after")
    def _end_after_start(self) -> "Note":
        if self.end <= self.start:
            self.end = self.start + 0.01
        return self


class PedalEvent(Model):
    time: float = Field(ge=0)
    down: bool


class Part(Model):
    """One track of a song, played by one session."""

    session: Session
    name: str = ""
    program: int | None = Field(default=None, ge=0, le=127)
    is_drum: bool = False
    pan: float = Field(default=0.0, ge=-1.0, le=1.0)
    gain_db: float = 0.0
    notes: list[Note] = Field(default_factory=list)
    pedal: list[PedalEvent] = Field(default_factory=list)


class SongInfo(Model):
    id: str
    title: str
    composer: str
    public_domain_basis: str
    tempo_bpm: float = Field(gt=0)
    meter: str = "4/4"
    key: str
    mood: list[str] = Field(default_factory=list)
    duration_s: float = Field(ge=0)
    source: Literal["library", "upload"] = "library"
    melody_session: Session | None = None  # the session that carries the tune; the mix puts it on top


class Song(Model):
    info: SongInfo
    parts: list[Part]
    # How sessions were decided for uploaded MIDI, one line per track; empty for the library.
    role_notes: list[str] = Field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return max((n.end for p in self.parts for n in p.notes), default=0.0)

    def parts_for(self, session: Session) -> list[Part]:
        return [p for p in self.parts if p.session == session]


# ---------------------------------------------------------------------------------------------------- effects


class EffectInput(Model):
    """A sound effect handed to casting and instrument building."""

    id: str
    path: Path
    name: str = ""
    # Free words about the source (object, material, play method, timbre) and the sheet's session hint.
    words: str = ""
    hint: Session | None = None


# ---------------------------------------------------------------------------------------------------- casting


class CastChoice(Model):
    session: Session
    effect_id: str
    reason: str
    cost: float | None = None
    overridden: bool = False


class Alternate(Model):
    effect_id: str
    best_session: Session
    reason: str
    rank: int


class Casting(Model):
    choices: dict[Session, CastChoice] = Field(default_factory=dict)
    empty: dict[Session, str] = Field(default_factory=dict)  # session -> why it has no sound
    alternates: list[Alternate] = Field(default_factory=list)
    # effect id -> session -> cost (lower fits better); lets a remap refill a session without re-analysing audio.
    scores: dict[str, dict[Session, float]] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)  # what was repaired or assumed while listening to the effects


# ------------------------------------------------------------------------------------------------ instruments


class Zone(Model):
    """One sample mapped over a key and velocity range, as an SFZ ``<region>``."""

    sample: str  # path relative to the instrument directory
    lokey: int = Field(ge=0, le=127)
    hikey: int = Field(ge=0, le=127)
    pitch_keycenter: int = Field(ge=0, le=127)
    lovel: int = Field(default=1, ge=1, le=127)
    hivel: int = Field(default=127, ge=1, le=127)
    loop_mode: Literal["no_loop", "one_shot", "loop_continuous", "loop_sustain"] = "no_loop"
    loop_start: int | None = None  # frames
    loop_end: int | None = None  # frames, inclusive as in SFZ
    tune_cents: float = 0.0
    volume_db: float = 0.0
    pan: float = Field(default=0.0, ge=-1.0, le=1.0)
    # Round robins, as SFZ seq_length/seq_position: zones with the same key and velocity ranges take turns.
    seq_length: int = Field(default=1, ge=1, le=100)
    seq_position: int = Field(default=1, ge=1, le=100)


class Envelope(Model):
    attack_s: float = Field(default=0.002, ge=0)
    decay_s: float = Field(default=0.0, ge=0)
    sustain_level: float = Field(default=1.0, ge=0, le=1)
    release_s: float = Field(default=0.15, ge=0)


class Instrument(Model):
    """A playable multisample built from one effect. Lives in ``directory`` as instrument.json + SFZ + WAVs."""

    session: Session
    name: str
    source_effect: str
    engine: str = "dsp"
    sample_rate: int
    directory: Path
    zones: list[Zone]
    envelope: Envelope = Field(default_factory=Envelope)
    amp_veltrack: float = Field(default=80.0, ge=0, le=100)  # percent, as SFZ
    character: float | None = Field(default=None, ge=0, le=1)  # 0 clean instrument .. 1 raw sound; None: drums
    sfz: str = "instrument.sfz"
    sf2: str | None = None
    notes: list[str] = Field(default_factory=list)  # fallbacks taken while building, for the report

    @property
    def sfz_path(self) -> Path:
        return self.directory / self.sfz

    def sample_path(self, zone: Zone) -> Path:
        return self.directory / zone.sample

    def save(self) -> Path:
        path = self.directory / "instrument.json"
        path.write_text(self.model_dump_json(indent=2))
        return path

    @classmethod
    def load(cls, directory: Path) -> "Instrument":
        data = json.loads((Path(directory) / "instrument.json").read_text())
        data["directory"] = str(directory)
        return cls.model_validate(data)
