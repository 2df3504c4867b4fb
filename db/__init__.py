"""Database models, sessions and migrations (SQLAlchemy 2.0 async, Alembic). SQLite by default, PostgreSQL in production."""

from db.models import Base, GalleryEntry, Job, JobStatus, Render, SoundSourceRow, User, Vote, Workspace
from db.session import DEFAULT_DATABASE_URL, make_engine, make_sessionmaker

__all__ = [
    "Base", "GalleryEntry", "Job", "JobStatus", "Render", "SoundSourceRow", "User", "Vote", "Workspace",
    "DEFAULT_DATABASE_URL", "make_engine", "make_sessionmaker",
]
