"""Database models and migrations (SQLAlchemy 2.0, Alembic)."""
