"""Platforms deliver some events more than once (Slack retries an event it thinks was missed, a gateway replays after
a reconnect): each event id is handled once, across restarts and bot processes."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Slack retries a missed event three times within about five minutes; Discord interactions live fifteen minutes.
SEEN_TTL_S = 3600
MAX_ID_CHARS = 200


class SeenEvents:
    """Event ids already taken, kept in Redis (``SET NX`` with a TTL) for ``ttl_s`` seconds."""

    def __init__(self, redis: Redis, prefix: str, *, ttl_s: int = SEEN_TTL_S) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_s = ttl_s

    async def first_time(self, platform: str, event_id: str | None) -> bool:
        """True the first time ``event_id`` is seen on ``platform``; an event without an id is always new."""
        if not event_id:
            return True
        key = f"{self.prefix}:seen:{platform}:{str(event_id)[:MAX_ID_CHARS]}"
        try:
            return bool(await self.redis.set(key, "1", nx=True, ex=self.ttl_s))
        except RedisError as exc:  # better a rare double answer than none while Redis is away
            log.warning("could not check %s event %s for a repeat: %s", platform, event_id, exc)
            return True
