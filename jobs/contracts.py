"""What goes into and comes out of the jobs client: a submission, and a job with its renders and sounds."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from db.models import JobStatus, RenderCasting
from pipeline.errors import WaveInputError
from pipeline.vision.intake import normalise_cue


class QuotaExceeded(WaveInputError):
    """A submission refused by a limit; ``retry_after_s`` says when trying again makes sense."""

    def __init__(self, user_message: str, retry_after_s: int) -> None:
        super().__init__(user_message)
        self.retry_after_s = retry_after_s


class SubmitRequest(BaseModel):
    image: bytes = Field(repr=False)
    song: str = "auto"  # a library id or "auto"; an uploaded MIDI file goes in ``midi``
    midi: bytes | None = Field(default=None, repr=False)
    cue: str | None = None
    profile: Literal["lite", "gpu"] | None = None
    seed: int = 0
    platform: str = "cli"
    user_id: str = "local"
    user_name: str | None = None
    workspace_id: str | None = None
    workspace_name: str | None = None
    channel_id: str | None = None
    reply_ref: dict | None = None

    @field_validator("cue", mode="before")
    @classmethod
    def _clean_cue(cls, value: object) -> str | None:
        return normalise_cue(value)  # type: ignore[arg-type]  # WaveInputError with the limit when too long


class RenderResult(BaseModel):
    version: int
    status: str
    casting: RenderCasting
    change: str | None = None
    mix: Path | None = None
    mix_compressed: Path | None = None
    casting_png: Path | None = None
    report: dict | None = None


class SourceResult(BaseModel):
    variant_id: str
    name: str
    material: str
    play_method: str
    timbre: list[str]
    session: str | None = None
    effect: Path | None = None
    message_ref: str | None = None


class JobResult(BaseModel):
    job_id: str
    status: JobStatus
    message: str
    error: str | None = None
    error_id: str | None = None
    song: str
    cue: str | None = None
    sheet: Path | None = None
    scene: str | None = None
    low_confidence: bool = False  # the sheet's reading is a guess
    notices: list[str] = Field(default_factory=list)  # what the sheet asks to tell the person
    sources: list[SourceResult] = Field(default_factory=list)
    renders: list[RenderResult] = Field(default_factory=list)
    owner: str
    platform: str
    channel_id: str | None = None
    reply_ref: dict | None = None

    @property
    def latest(self) -> RenderResult | None:
        done = [r for r in self.renders if r.status == "done"]
        return done[-1] if done else None
