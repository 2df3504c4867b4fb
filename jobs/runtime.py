"""Connections shared by the jobs client and the workers: database, Redis, artifact store."""

from __future__ import annotations

from dataclasses import dataclass

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from jobs.store import ArtifactStore, open_store
from wave_app.settings import Settings

GPU = "gpu"
CPU = "cpu"


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: ArqRedis
    store: ArtifactStore

    @classmethod
    async def open(cls, settings: Settings, *, migrate: bool = True) -> "Runtime":
        if migrate:
            await upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        return cls(settings, engine, make_sessionmaker(engine), redis, open_store(settings))

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()

    def queue(self, kind: str) -> str:
        return f"{self.settings.queue_prefix}:{kind}"

    def channel(self, job_id: str) -> str:
        return f"{self.settings.queue_prefix}:events:{job_id}"
