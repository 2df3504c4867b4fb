"""What ``wave play`` / ``wave render`` write as ``report.json``. Paths are relative to the output directory."""

from __future__ import annotations

from pydantic import BaseModel, Field

from pipeline.types import Session, SongInfo


class SessionReport(BaseModel):
    effect: str | None = None  # variant / effect id
    effect_name: str | None = None
    sfz: str | None = None
    sf2: str | None = None
    reason: str = ""
    fallback: str | None = None  # set when the session is not played by its own cast effect
    character: float | None = None  # 0 clean instrument .. 1 raw sound (melodic sessions)
    notes: list[str] = Field(default_factory=list)


class ProductionReport(BaseModel):
    """What the mix and the mood did: roles of the stems, and how the mood moved tempo, density, tone and space."""

    mood_words: list[str] = Field(default_factory=list)
    melody_session: Session | None = None
    roles: dict[Session, str] = Field(default_factory=dict)
    tempo_bpm: float  # as played
    song_tempo_bpm: float  # as written
    density: float = 0.0  # -1 sparser .. 1 busier
    brightness_db_per_octave: float = 0.0  # added to the spectral tilt
    space: float = 1.0  # reverb sends scaled by this
    width: float = 1.0
    tonal_eq_db: dict[int, float] = Field(default_factory=dict)  # octave band (Hz) -> master EQ
    changes: list[str] = Field(default_factory=list)  # in plain words


class PlayReport(BaseModel):
    song: SongInfo
    song_roles: list[str] = Field(default_factory=list)
    sessions: dict[Session, SessionReport]
    casting: str = "casting.json"
    casting_png: str | None = "casting.png"
    mix: str = "mix.wav"
    mix_compressed: str
    stems: dict[Session, str]
    stems_reused: list[Session] | None = None  # with a stem cache: sessions whose stem an earlier render had played
    duration_s: float
    loudness_lufs: float
    true_peak_dbtp: float
    timings_s: dict[str, float]
    notes: list[str] = Field(default_factory=list)  # fallbacks taken, in plain words
    seed: int = 0
    production: ProductionReport | None = None
    # Added by `wave render`, which starts from an image.
    sheet: str | None = None
    effects: dict[str, str] | None = None
    engines: dict[str, str | None] | None = None

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=True)
