"""The Discord bot's commands that need no finished mix: help, autocomplete, refusals, admin settings, /wave-top."""

from __future__ import annotations

import re

import pytest

from bot.common import HELP_TEXT
from bot.records import ChatRecords
from wave_testing.discord_harness import bot_settings, clear_redis, photo_bytes, running_bot
from wave_testing.fake_discord import EPHEMERAL


@pytest.fixture
async def bot(fake, tmp_path):
    settings = bot_settings(tmp_path, fake)
    async with running_bot(settings, fake) as running:
        yield running
    await clear_redis(settings)
    assert fake.violations == []


async def test_commands_are_synced_to_the_development_guild(bot, fake):
    assert fake.command_syncs == [str(fake.guild_id)]
    assert {"wave", "wave-top", "wave-help", "wave-admin"} <= set(fake.commands)
    admin = fake.commands["wave-admin"]
    assert int(admin["default_member_permissions"]) == 1 << 5  # Manage Server
    wave = {o["name"]: o for o in fake.commands["wave"]["options"]}
    assert wave["image"]["type"] == 11 and wave["image"]["required"]
    assert wave["song"]["autocomplete"] is True and not wave["song"].get("required")


async def test_help_is_answered_at_once(bot, fake):
    ana = fake.add_user("ana")
    interaction = await fake.slash("wave-help", ana)
    await fake.until(lambda: interaction.acked_at, what="the help reply")
    assert interaction.first_response_s < 3
    assert interaction.response["data"]["content"] == HELP_TEXT
    assert interaction.response["data"]["flags"] & EPHEMERAL


async def test_song_autocomplete_matches_what_was_typed(bot, fake):
    from pipeline.songs import list_songs

    ana = fake.add_user("ana")
    everything = await fake.slash("wave", ana, {"song": ""}, focused="song")
    await fake.until(lambda: everything.acked_at, what="autocomplete")
    values = [c["value"] for c in everything.choices]
    assert values[0] == "auto" and len(values) == min(25, 1 + len(list_songs()))

    typed = await fake.slash("wave", ana, {"song": "SAIL"}, focused="song")
    await fake.until(lambda: typed.acked_at, what="autocomplete")
    expected = [s.id for s in list_songs() if "sail" in s.title.lower() or "sail" in s.id]
    assert expected and [c["value"] for c in typed.choices] == expected


async def test_non_image_attachment_is_refused_before_download(bot, fake):
    ana = fake.add_user("ana")
    text_file = fake.upload("notes.txt", b"not a picture at all", "text/plain")
    interaction = await fake.slash("wave", ana, {"image": text_file, "song": "auto"})
    await fake.until(lambda: interaction.acked_at, what="the refusal")
    assert "not a picture" in interaction.response["data"]["content"]
    assert interaction.response["data"]["flags"] & EPHEMERAL
    assert not [c for c in fake.calls if c.path.startswith("/attachments/")], "the file was downloaded"


async def test_oversized_attachment_is_refused_before_download(bot, fake):
    ana = fake.add_user("ana")
    huge = fake.upload("huge.png", photo_bytes(), "image/png", size=25 * 1024 * 1024)
    interaction = await fake.slash("wave", ana, {"image": huge})
    await fake.until(lambda: interaction.acked_at, what="the refusal")
    assert "25.0 MiB" in interaction.response["data"]["content"]
    assert not [c for c in fake.calls if c.path.startswith("/attachments/")], "the file was downloaded"


async def test_admin_settings_need_manage_server(bot, fake):
    ada = fake.add_user("ada", admin=True)
    bob = fake.add_user("bob")
    refused = await fake.slash("wave-admin", bob, {"channel": fake.gallery}, subcommand="gallery")
    await fake.until(lambda: refused.acked_at, what="the refusal")
    assert "manage this server" in refused.response["data"]["content"]
    records = ChatRecords(bot.runtime, "discord")
    assert await records.workspace(str(fake.guild_id)) is None

    done = await fake.slash("wave-admin", ada, {"channel": fake.gallery}, subcommand="gallery")
    quotas = await fake.slash("wave-admin", ada, {"at_once": 2, "per_hour": 7}, subcommand="quotas")
    profile = await fake.slash("wave-admin", ada, {"profile": "lite"}, subcommand="profile")
    await fake.until(lambda: done.acked_at and quotas.acked_at and profile.acked_at, what="the admin replies")
    workspace = await records.workspace(str(fake.guild_id))
    assert workspace.gallery_channel_id == str(fake.gallery)
    assert (workspace.max_concurrent_jobs_per_user, workspace.max_jobs_per_user_per_hour) == (2, 7)
    assert workspace.default_profile == "lite"


async def test_top_with_an_empty_gallery(bot, fake):
    ana = fake.add_user("ana")
    interaction = await fake.slash("wave-top", ana)
    await fake.until(lambda: interaction.acked_at, what="the reply")
    assert "No mixes in the gallery yet" in interaction.response["data"]["content"]


async def test_an_unexpected_failure_shows_an_error_id_that_is_in_the_log(bot, fake, caplog):
    async with bot.runtime.engine.begin() as connection:  # a database that lost its jobs table
        await connection.exec_driver_sql("ALTER TABLE jobs RENAME TO jobs_gone")
    ana = fake.add_user("ana")
    interaction = await fake.slash("wave", ana, {"image": fake.upload("a.png", photo_bytes(), "image/png")})
    reply = await fake.until(lambda: fake.private_answer(interaction), what="the private answer")
    match = re.search(r"error id `([0-9a-f]{8})`", reply["content"])
    assert match and "Traceback" not in reply["content"]
    logged = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None


async def test_refusals_after_the_first_response_are_private(bot, fake):
    """Quota, an unreadable picture and a foreign host are found after the public "thinking…" reply: that reply
    is removed and only the person who asked sees why."""
    ana, bob = fake.add_user("ana"), fake.add_user("bob")
    first = await fake.slash("wave", ana, {"image": fake.upload("a.png", photo_bytes(1), "image/png")})
    await fake.until(lambda: (m := fake.original(first)) and "in line" in m["content"], what="the first job")
    again = await fake.slash("wave", ana, {"image": fake.upload("b.png", photo_bytes(2), "image/png")})
    broken = await fake.slash("wave", bob, {"image": fake.upload("c.png", b"\x89PNG not really", "image/png")})
    foreign = dict(fake.upload("d.png", photo_bytes(3), "image/png"))
    foreign["url"] = foreign["proxy_url"] = "http://files.example.net/d.png"
    elsewhere = await fake.slash("wave", bob, {"image": foreign})
    for interaction, words in ((again, "in the making"), (broken, "image"), (elsewhere, "own file servers")):
        answer = await fake.until(lambda i=interaction: fake.private_answer(i), what=f"the private {words!r}")
        assert answer["content"].startswith("⚠️") and words in answer["content"], answer["content"]
    public = [m["content"] for m in fake.messages_in(fake.general)
              if not m.get("_deleted") and not m["flags"] & EPHEMERAL]
    assert not any("⚠️" in text for text in public), public


def test_each_log_line_of_the_bot_is_written_once(tmp_path, capsys):
    """`wave bot discord` sets up WAVE's logging, then runs the bot: a line must not come out twice."""
    import io
    import logging

    from bot.discord import run_discord
    from wave_core.logging_setup import setup_logging
    from wave_core.settings import Settings

    root = logging.getLogger()
    saved = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        setup_logging("text", "INFO", stream=stream)
        with pytest.raises(SystemExit):  # no token: the bot stops before connecting
            run_discord(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/wave.db", discord_token=None))
        logging.getLogger("bot.discord.app").info("one line")
    finally:
        for handler in list(root.handlers):
            if handler not in saved[0]:
                root.removeHandler(handler)
        root.setLevel(saved[1])
    assert stream.getvalue().count("one line") == 1
    assert "one line" not in capsys.readouterr().err
