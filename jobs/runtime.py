"""Connections shared by the jobs client and the workers: database, Redis, artifact store."""

from __future__ import annotations

from dataclasses import dataclass

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from jobs.queues import CPU, GPU
from jobs.store import ArtifactStore, open_store
from wave_core.settings import Settings

__all__ = ["CPU", "GPU", "Runtime", "redis_settings"]  # the queue names are re-exported for older imports


def redis_settings(url: str) -> RedisSettings:
    """Connection settings that ride out a Redis restart of a second or two: each command reconnects and tries again
    with backoff (about 1.5 s in all) before it fails."""
    settings = RedisSettings.from_dsn(url)
    settings.retry_on_error = [RedisConnectionError, RedisTimeoutError]
    settings.retry = Retry(ExponentialBackoff(cap=1.0, base=0.1), retries=4)
    return settings


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    redis: ArqRedis
    store: ArtifactStore

    @classmethod
    async def open(cls, settings: Settings, *, migrate: bool = True) -> Runtime:
        if migrate:
            await upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        redis = await create_pool(redis_settings(settings.redis_url))
        return cls(settings, engine, make_sessionmaker(engine), redis, open_store(settings))

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()

    def db(self) -> AsyncSession:
        """A new database session, used as ``async with runtime.db() as db:``."""
        return self.session_factory()

    def queue(self, kind: str) -> str:
        return f"{self.settings.queue_prefix}:{kind}"

    def channel(self, job_id: str) -> str:
        return f"{self.settings.queue_prefix}:events:{job_id}"
