"""Where the tests find the local Redis and PostgreSQL (overridable for other machines)."""

from __future__ import annotations

import os

PG_ADMIN_URL = os.environ.get("WAVE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("WAVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
