"""WAVE's tables. The database is the source of truth for jobs; Redis only carries work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from pipeline.types import Session


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes even for timezone-aware columns; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class JobStatus(StrEnum):
    QUEUED = "queued"
    SEEING = "seeing"
    HEARING = "hearing"
    CASTING = "casting"
    BUILDING = "building"
    PLAYING = "playing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


ACTIVE_STATUSES = tuple(s.value for s in JobStatus if not s.finished)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))  # discord | slack | cli
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Workspace(Base):
    """A Discord guild or Slack team, with its settings."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "platform_workspace_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_workspace_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(100))
    gallery_channel_id: Mapped[str | None] = mapped_column(String(64))
    default_profile: Mapped[str | None] = mapped_column(String(16))
    max_concurrent_jobs_per_user: Mapped[int | None] = mapped_column(Integer)
    max_jobs_per_user_per_hour: Mapped[int | None] = mapped_column(Integer)
    default_song: Mapped[str | None] = mapped_column(String(200))
    # Channel ids WAVE answers in; None (or empty) means every channel.
    answer_channels: Mapped[list[str] | None] = mapped_column(JSON)
    # Results only to the requester (ephemeral / direct message) and nothing to the gallery.
    private_mode: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_deadline", "status", "deadline_at"),
        Index("ix_jobs_user_created", "user_id", "created_at"),
        Index("ix_jobs_request_hash", "request_hash"),
        Index("ix_jobs_delivery", "status", "delivered_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    workspace_id: Mapped[int | None] = mapped_column(ForeignKey("workspaces.id"))
    # Where the request came from and where the result goes (platform-specific ids, opaque here).
    platform: Mapped[str] = mapped_column(String(16), default="cli")
    channel_id: Mapped[str | None] = mapped_column(String(64))
    reply_ref: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # e.g. interaction token + its expiry

    image_key: Mapped[str] = mapped_column(String(128))  # artifact key of the uploaded picture
    song_ref: Mapped[str] = mapped_column(String(200))
    cue: Mapped[str | None] = mapped_column(String(300))
    profile: Mapped[str] = mapped_column(String(16), default="lite")
    seed: Mapped[int] = mapped_column(Integer, default=0)
    request_hash: Mapped[str] = mapped_column(String(64))

    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(300), default="Waiting in the queue")
    error: Mapped[str | None] = mapped_column(Text)  # user-facing message
    error_id: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reused_from: Mapped[str | None] = mapped_column(String(32))

    sheet_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    deadline_at: Mapped[datetime | None] = mapped_column()  # when the running stage should end (from its start)
    delivered_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()
    workspace: Mapped[Workspace | None] = relationship()
    sources: Mapped[list[SoundSourceRow]] = relationship(back_populates="job", cascade="all, delete-orphan")
    renders: Mapped[list[Render]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="Render.version"
    )

    @property
    def job_status(self) -> JobStatus:
        return JobStatus(self.status)


class SoundSourceRow(Base):
    """One variant of the job's sound sheet, with its effect."""

    __tablename__ = "sound_sources"
    __table_args__ = (UniqueConstraint("job_id", "variant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    variant_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    material: Mapped[str] = mapped_column(String(100), default="")
    play_method: Mapped[str] = mapped_column(String(200), default="")
    timbre: Mapped[list[str]] = mapped_column(JSON, default=list)
    hint: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    prompt: Mapped[str | None] = mapped_column(Text)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    effect_key: Mapped[str | None] = mapped_column(String(128))
    message_ref: Mapped[str | None] = mapped_column(String(128))  # chat message carrying this source

    job: Mapped[Job] = relationship(back_populates="sources")


class RenderCasting(BaseModel):
    """Which sound plays which session in one render version, both maps session -> sound variant id.

    ``overrides`` is what the render is asked to pin (a remap's result; the rest is cast automatically);
    ``assignment`` is what it cast once played, leaving out sessions that only borrowed another session's sound.
    """

    model_config = ConfigDict(extra="forbid")

    assignment: dict[Session, str] = Field(default_factory=dict)
    overrides: dict[Session, str] = Field(default_factory=dict)
    song: str | None = None  # the song this version plays, when another than the job's own


class StoredValueError(ValueError):
    """A value read from or written to a typed JSON column does not fit its model."""


class CastingJSON(TypeDecorator):
    """A JSON column holding a :class:`RenderCasting`, checked on the way in and on the way out."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> dict[str, Any] | None:
        return None if value is None else _casting(value, "written").model_dump(mode="json")

    def process_result_value(self, value: Any, dialect: Any) -> RenderCasting | None:
        return None if value is None else _casting(value, "read")


def _casting(value: Any, direction: str) -> RenderCasting:
    try:
        return value if isinstance(value, RenderCasting) else RenderCasting.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
        raise StoredValueError(f"A render casting {direction} in the database is not valid ({problems}).") from None


class Render(Base):
    """One version of a job's music: a casting and the mix it produced. Remaps add versions."""

    __tablename__ = "renders"
    __table_args__ = (UniqueConstraint("job_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    casting: Mapped[RenderCasting] = mapped_column(CastingJSON())
    casting_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | done | failed
    mix_key: Mapped[str | None] = mapped_column(String(128))
    compressed_key: Mapped[str | None] = mapped_column(String(128))
    casting_png_key: Mapped[str | None] = mapped_column(String(128))
    report_key: Mapped[str | None] = mapped_column(String(128))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    change: Mapped[str | None] = mapped_column(String(300))  # what the remap changed, in words
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()

    job: Mapped[Job] = relationship(back_populates="renders")


class GalleryEntry(Base):
    __tablename__ = "gallery_entries"
    __table_args__ = (UniqueConstraint("render_id"), Index("ix_gallery_workspace", "workspace_id", "removed"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    render_id: Mapped[int] = mapped_column(ForeignKey("renders.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    shared_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_ref: Mapped[str | None] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(200), default="")
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    render: Mapped[Render] = relationship()
    votes: Mapped[list[Vote]] = relationship(back_populates="entry", cascade="all, delete-orphan")


class Vote(Base):
    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("entry_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("gallery_entries.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entry: Mapped[GalleryEntry] = relationship(back_populates="votes")


class ChatMessage(Base):
    """A message WAVE posted, and what it is about: reactions on it are looked up here."""

    __tablename__ = "chat_messages"

    message_ref: Mapped[str] = mapped_column(String(128), primary_key=True)  # platform:channel:message
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # request | result | source | remap | gallery
    variant_id: Mapped[str | None] = mapped_column(String(64))
    render_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
