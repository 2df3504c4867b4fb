"""The database layer on SQLite and PostgreSQL: migrations, tables, constraints."""

from __future__ import annotations

import pytest
from sqlalchemy import JSON, func, literal, select, update
from sqlalchemy.exc import IntegrityError, StatementError

from db.migrate import current_revision, head_revision, upgrade
from db.models import (
    GalleryEntry,
    Job,
    Render,
    RenderCasting,
    SoundSourceRow,
    StoredValueError,
    User,
    Vote,
    Workspace,
)
from db.session import make_engine, make_sessionmaker
from pipeline.types import Session


@pytest.fixture
async def sessions(database_url):
    await upgrade(database_url)
    engine = make_engine(database_url)
    yield engine, make_sessionmaker(engine)
    await engine.dispose()


async def test_upgrade_reaches_head_and_is_repeatable(database_url):
    await upgrade(database_url)
    await upgrade(database_url)  # a second upgrade (every worker start) changes nothing
    engine = make_engine(database_url)
    try:
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def _user_and_job(session, **job_fields) -> Job:
    user = User(platform="discord", platform_user_id="42", display_name="ana")
    workspace = Workspace(platform="discord", platform_workspace_id="guild-1", gallery_channel_id="chan-9")
    session.add_all([user, workspace])
    await session.flush()
    job = Job(user_id=user.id, workspace_id=workspace.id, image_key="ab/abc.img", song_ref="auto", request_hash="h",
              **job_fields)
    session.add(job)
    await session.flush()
    return job


async def test_job_with_sources_renders_gallery_and_votes(sessions):
    _, maker = sessions
    async with maker() as session:
        job = await _user_and_job(session, cue="rainy")
        session.add(SoundSourceRow(job_id=job.id, variant_id="door-1", name="door", timbre=["hollow", "woody"]))
        session.add_all([Render(job_id=job.id, version=v, casting={"assignment": {"drums": "door-1"}}, casting_hash="x")
                         for v in (1, 2)])
        await session.commit()
        render = await session.scalar(select(Render).where(Render.job_id == job.id, Render.version == 2))
        entry = GalleryEntry(render_id=render.id, workspace_id=job.workspace_id, shared_by=job.user_id, title="Rain")
        session.add(entry)
        await session.flush()
        session.add(Vote(entry_id=entry.id, user_id=job.user_id))
        await session.commit()
        job_id = job.id
    async with maker() as session:
        stored = await session.get(Job, job_id)
        assert stored.status == "queued" and stored.cue == "rainy" and len(stored.id) == 32
        source = await session.scalar(select(SoundSourceRow).where(SoundSourceRow.job_id == job_id))
        assert source.timbre == ["hollow", "woody"]
        versions = (await session.scalars(select(Render.version).where(Render.job_id == job_id).order_by(Render.version))).all()
        assert versions == [1, 2]
        assert await session.scalar(select(func.count()).select_from(Vote)) == 1


async def test_constraints_hold(sessions):
    _, maker = sessions
    async with maker() as session:
        job = await _user_and_job(session)
        job_id, workspace_id, user_id = job.id, job.workspace_id, job.user_id
        session.add(Render(job_id=job_id, version=1, casting={}, casting_hash=""))
        await session.commit()
        session.add(Render(job_id=job_id, version=1, casting={}, casting_hash=""))
        with pytest.raises(IntegrityError):
            await session.commit()
        await session.rollback()
        entry = GalleryEntry(render_id=(await session.scalar(select(Render.id))), workspace_id=workspace_id, shared_by=user_id)
        session.add(entry)
        await session.commit()
        entry_id = entry.id
        session.add_all([Vote(entry_id=entry_id, user_id=user_id), Vote(entry_id=entry_id, user_id=user_id)])
        with pytest.raises(IntegrityError):  # one vote per person per entry
            await session.commit()
        await session.rollback()
        session.add(User(platform="discord", platform_user_id="42"))
        with pytest.raises(IntegrityError):  # a platform user exists once
            await session.commit()


async def test_concurrent_upgrades_in_one_process_do_not_collide(database_url):
    """A bot and in-process workers start together and each upgrades the database."""
    import asyncio

    await asyncio.wait_for(asyncio.gather(*(upgrade(database_url) for _ in range(4))), timeout=60)
    engine = make_engine(database_url)
    try:
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_render_casting_is_typed_and_checked_both_ways(sessions):
    _, maker = sessions
    async with maker() as db:
        job = await _user_and_job(db)
        db.add(Render(job_id=job.id, version=1, casting={"assignment": {"drums": "door-1"}}, casting_hash="x"))
        await db.commit()
        job_id = job.id
    async with maker() as db:
        render = await db.scalar(select(Render).where(Render.job_id == job_id))
        assert render.casting == RenderCasting(assignment={Session.DRUMS: "door-1"})
        assert render.casting.overrides == {}
        # A value no render could have written is refused before it reaches the database...
        db.add(Render(job_id=job_id, version=2, casting={"assignment": {"tuba": "door-1"}}, casting_hash="x"))
        with pytest.raises(StatementError, match=r"render casting written .*assignment\.tuba"):
            await db.commit()
        await db.rollback()
        # ... and one that got there some other way says what is wrong when it is read.
        await db.execute(update(Render).where(Render.job_id == job_id).values(
            casting=literal({"assignment": {"drums": 7}, "reasons": {}}, JSON)))
        await db.commit()
    async with maker() as db:
        with pytest.raises(StoredValueError, match=r"render casting read .*assignment\.drums.*reasons"):
            await db.scalar(select(Render).where(Render.job_id == job_id))
