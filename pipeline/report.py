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


class PlayReport(BaseModel):
    song: SongInfo
    song_roles: list[str] = Field(default_factory=list)
    sessions: dict[Session, SessionReport]
    casting: str = "casting.json"
    casting_png: str | None = "casting.png"
    mix: str = "mix.wav"
    mix_compressed: str
    stems: dict[Session, str]
    duration_s: float
    loudness_lufs: float
    true_peak_dbtp: float
    timings_s: dict[str, float]
    notes: list[str] = Field(default_factory=list)  # fallbacks taken, in plain words
    seed: int = 0
    # Added by `wave render`, which starts from an image.
    sheet: str | None = None
    effects: dict[str, str] | None = None
    engines: dict[str, str | None] | None = None

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=True)
