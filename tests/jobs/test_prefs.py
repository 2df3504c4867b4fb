"""Server preferences on SQLite and PostgreSQL: the migration both ways, checked values, usage, visibility, remix."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from db.migrate import _UPGRADE_LOCK, alembic_config, current_revision, upgrade
from db.models import GalleryEntry, Job, Render, RenderCasting, SoundSourceRow, User, Workspace
from db.session import make_engine
from jobs.client import JobsClient
from jobs.prefs import ServerPrefs, read_prefs, write_prefs
from jobs.remix import remix
from jobs.usage import recent_finished, usage, visible_job
from pipeline.errors import WaveInputError
from pipeline.songs import list_songs

GUILD_CHANNEL = "123456789012345678"


def _downgrade(url: str, revision: str) -> None:
    with _UPGRADE_LOCK:
        command.downgrade(alembic_config(url), revision)


async def _workspace_columns(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync: {c["name"] for c in inspect(sync).get_columns("workspaces")})
    finally:
        await engine.dispose()


async def test_migration_upgrades_existing_rows_and_downgrades(database_url):
    await upgrade(database_url, "0002")
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO workspaces (platform, platform_workspace_id, created_at) "
                                    "VALUES ('discord', 'g-old', CURRENT_TIMESTAMP)"))
        await upgrade(database_url, "0003")
        assert await current_revision(engine) == "0003"
        async with engine.connect() as conn:
            row = (await conn.execute(text("SELECT default_song, answer_channels, private_mode FROM workspaces"))).one()
        assert row == (None, None, False)  # a server from before keeps today's behaviour
    finally:
        await engine.dispose()
    assert {"default_song", "answer_channels", "private_mode"} <= await _workspace_columns(database_url)
    await asyncio.to_thread(_downgrade, database_url, "0002")
    assert not {"default_song", "answer_channels", "private_mode"} & await _workspace_columns(database_url)
    await upgrade(database_url)  # and up again
    assert "private_mode" in await _workspace_columns(database_url)


async def test_prefs_are_checked_and_stored(runtime):
    assert await read_prefs(runtime, "discord", "g1") == ServerPrefs()
    song = list_songs()[0].id
    prefs = await write_prefs(runtime, "discord", "g1", default_song=song.replace("_", "-"),
                              channels=[GUILD_CHANNEL, GUILD_CHANNEL], private=True)
    assert prefs == ServerPrefs(default_song=song, channels=[GUILD_CHANNEL], private=True)
    assert await read_prefs(runtime, "discord", "g1") == prefs
    assert prefs.answers_in(int(GUILD_CHANNEL)) and not prefs.answers_in("999999999999999999")
    for bad in ({"default_song": "no_such_song"}, {"channels": ["../etc"]}, {"channels": ["C0123"]},
                {"channels": [str(10**17 + i) for i in range(30)]}):
        with pytest.raises(WaveInputError):
            await write_prefs(runtime, "discord", "g1", **bad)
    assert await read_prefs(runtime, "discord", "g1") == prefs  # a refused value changes nothing
    with pytest.raises(WaveInputError):
        await write_prefs(runtime, "slack", "T1", channels=[GUILD_CHANNEL])
    assert (await write_prefs(runtime, "slack", "T1", channels=["C0ABC12"])).channels == ["C0ABC12"]
    cleared = await write_prefs(runtime, "discord", "g1", default_song="", channels=[])
    assert cleared == ServerPrefs(private=True)


async def _finished_job(runtime, owner: str, workspace: str = "g1") -> str:
    async with runtime.db() as db:
        user = User(platform="discord", platform_user_id=owner)
        ws = await db.scalar(select(Workspace).where(Workspace.platform_workspace_id == workspace))
        if ws is None:
            ws_row = Workspace(platform="discord", platform_workspace_id=workspace, gallery_channel_id=GUILD_CHANNEL)
            db.add(ws_row)
            await db.flush()
            ws_id = ws_row.id
        else:
            ws_id = ws.id
        db.add(user)
        await db.flush()
        job = Job(user_id=user.id, workspace_id=ws_id, platform="discord", image_key="ab/x.img",
                  song_ref=list_songs()[0].id, request_hash=f"h-{owner}", status="done", sheet_key="ab/s.json")
        db.add(job)
        await db.flush()
        db.add(SoundSourceRow(job_id=job.id, variant_id="kettle-1", name="kettle", effect_key="ab/k.wav"))
        db.add(Render(job_id=job.id, version=1, casting=RenderCasting(), casting_hash="", status="done"))
        await db.commit()
        return job.id


async def test_usage_visibility_and_remix(runtime):
    mine = await _finished_job(runtime, "ana")
    theirs = await _finished_job(runtime, "bo")
    assert await visible_job(runtime, "discord", "ana", "g1", mine) == mine
    with pytest.raises(WaveInputError):
        await visible_job(runtime, "discord", "ana", "g1", theirs)  # not shared: not hers to see
    async with runtime.db() as db:
        render = await db.scalar(select(Render).where(Render.job_id == theirs))
        bo = await db.scalar(select(User).where(User.platform_user_id == "bo"))
        ws = await db.scalar(select(Workspace).where(Workspace.platform_workspace_id == "g1"))
        db.add(GalleryEntry(render_id=render.id, workspace_id=ws.id, shared_by=bo.id, title="t"))
        await db.commit()
    assert await visible_job(runtime, "discord", "ana", "g1", theirs) == theirs
    with pytest.raises(WaveInputError):
        await visible_job(runtime, "discord", "ana", "other-guild", theirs)
    assert [j.job_id for j in await recent_finished(runtime, "discord", "ana")] == [mine]

    jobs = JobsClient(runtime)
    song = list_songs()[1].id
    new_id = await remix(jobs, theirs, song, platform="discord", user_id="ana", workspace_id="g1")
    result = await jobs.result(new_id)
    assert result.owner == "ana" and result.song == song
    assert [s.variant_id for s in result.sources] == ["kettle-1"]  # the same band
    now = await usage(runtime, "discord", "ana", "g1")
    assert now.made_this_hour == 2 and [j.job_id for j in now.running] == [new_id]
    assert now.at_once == runtime.settings.max_concurrent_jobs_per_user
    with pytest.raises(WaveInputError):  # one at a time: the remix counts against her quota
        await remix(jobs, theirs, song, platform="discord", user_id="ana", workspace_id="g1")


async def test_top_of_the_week_leaves_older_shares_out(runtime):
    from datetime import timedelta

    from bot.records import ChatRecords
    from db.models import utcnow

    old, new = await _finished_job(runtime, "ana"), await _finished_job(runtime, "bo")
    async with runtime.db() as db:
        ws = await db.scalar(select(Workspace).where(Workspace.platform_workspace_id == "g1"))
        for job_id, age_days in ((old, 10), (new, 1)):
            render = await db.scalar(select(Render).where(Render.job_id == job_id))
            owner = await db.scalar(select(Job.user_id).where(Job.id == job_id))
            db.add(GalleryEntry(render_id=render.id, workspace_id=ws.id, shared_by=owner, title=job_id,
                                created_at=utcnow() - timedelta(days=age_days)))
        await db.commit()
    records = ChatRecords(runtime, "discord")
    assert {e.job_id for e in await records.top("g1")} == {old, new}
    assert [e.job_id for e in await records.top("g1", since=utcnow() - timedelta(days=7))] == [new]
