"""Server settings, /wave-me, /wave-show, remix from the gallery and /wave-top by week, on the real discord.py
client against the fake Discord (and real workers where a mix is made)."""

from __future__ import annotations

import pytest

from bot import actions
from bot.records import ChatRecords
from db.models import JobStatus
from jobs.prefs import ServerPrefs, read_prefs
from pipeline.errors import WaveInputError
from pipeline.types import SESSIONS
from wave_testing.discord_harness import photo_bytes, running_bot
from wave_testing.fake_discord import DEFERRED_MESSAGE, EPHEMERAL, SELECT_MENU
from wave_testing.jobs_helpers import workers

pytestmark = pytest.mark.usefixtures("rules_kept")

SONG = "row_your_boat"  # the shortest library song keeps the renders quick
OTHER_SONG = "twinkle_twinkle"
RENDER_TIMEOUT = 240


def public_messages(fake, channel_id: int) -> list[dict]:
    return [m for m in fake.messages_in(channel_id) if not m["flags"] & EPHEMERAL]


def settled(fake, interaction):
    message = fake.original(interaction)
    return message if message and (message["attachments"] or message["content"].startswith("⚠️")) else None


async def answered(fake, interaction) -> dict:
    await fake.until(lambda: interaction.acked_at, what="the answer")
    return interaction.response["data"]


async def test_settings_are_for_admins_and_checked(fake, settings):
    ana, ada = fake.add_user("ana"), fake.add_user("ada", admin=True)
    music = fake.add_channel("music")
    async with running_bot(settings, fake) as bot:
        refused = await answered(fake, await fake.slash("wave-settings", ana, {"private": True}))
        assert refused["flags"] & EPHEMERAL and "manage this server" in refused["content"]
        assert await read_prefs(bot.runtime, "discord", str(fake.guild_id)) == ServerPrefs()

        shown = await answered(fake, await fake.slash("wave-settings", ada))
        assert shown["flags"] & EPHEMERAL and "every channel" in shown["content"]
        done = await answered(fake, await fake.slash(
            "wave-settings", ada, {"default_song": SONG, "channels": f"<#{music}>", "private": True}))
        assert done["flags"] & EPHEMERAL and f"<#{music}>" in done["content"] and SONG in done["content"]
        assert await read_prefs(bot.runtime, "discord", str(fake.guild_id)) == ServerPrefs(
            default_song=SONG, channels=[str(music)], private=True)

        for bad, words in (({"default_song": "no_such_song"}, "Unknown song"),
                           ({"channels": "#not-a-channel"}, "not a channel")):
            answer = await answered(fake, await fake.slash("wave-settings", ada, bad))
            assert answer["flags"] & EPHEMERAL and words in answer["content"], answer["content"]
        assert (await read_prefs(bot.runtime, "discord", str(fake.guild_id))).default_song == SONG

        cleared = await answered(fake, await fake.slash("wave-settings", ada, {"channels": "all", "private": False}))
        assert "every channel" in cleared["content"]
        choices = await fake.slash("wave-settings", ada, {"default_song": "row"}, focused="default_song")
        await fake.until(lambda: choices.acked_at, what="the song choices")
        assert SONG in [c["value"] for c in choices.choices]


async def test_channel_restriction_answers_privately_where_it_does_answer(fake, settings):
    ana, ada = fake.add_user("ana"), fake.add_user("ada", admin=True)
    music = fake.add_channel("music")
    async with running_bot(settings, fake) as bot:
        await answered(fake, await fake.slash("wave-settings", ada, {"channels": f"<#{music}>"}))
        photo = fake.upload("a.png", photo_bytes(1), "image/png")
        elsewhere = await answered(fake, await fake.slash("wave", ana, {"image": photo}))
        assert elsewhere["flags"] & EPHEMERAL and f"<#{music}>" in elsewhere["content"]
        assert await bot.jobs.list_jobs() == []  # nothing was started
        assert public_messages(fake, fake.general) == []
        here = await fake.slash("wave", ana, {"image": photo}, channel_id=music)
        await fake.until(lambda: (m := fake.original(here)) and "in line" in m["content"], what="the job")
        assert here.response_type == DEFERRED_MESSAGE and not fake.original(here)["flags"] & EPHEMERAL


async def test_private_mode_delivers_nothing_public_and_nothing_to_the_gallery(fake, settings):
    ana, bob, ada = fake.add_user("ana"), fake.add_user("bob"), fake.add_user("ada", admin=True)
    async with running_bot(settings, fake) as bot, workers(settings):
        await answered(fake, await fake.slash("wave-admin", ada, {"channel": fake.gallery}, subcommand="gallery"))
        await answered(fake, await fake.slash("wave-settings", ada, {"private": True, "default_song": SONG}))
        interaction = await fake.slash("wave", ana, {"image": fake.upload("a.png", photo_bytes(4), "image/png")})
        reply = await fake.until(lambda: settled(fake, interaction), timeout=RENDER_TIMEOUT, what="the mix")
        assert reply["flags"] & EPHEMERAL and reply["attachments"], reply["content"]
        assert "pick a part" in reply["content"] and "thread" not in reply["content"]
        info = await ChatRecords(bot.runtime, "discord").message(f"discord:{fake.general}:{reply['id']}")
        result = await bot.jobs.result(info.job_id)
        assert result.status == JobStatus.DONE and result.song == SONG  # the server's default song
        await fake.until(lambda: len([m for m in fake.followups(interaction) if m["content"].startswith("🔊")])
                         == len(result.sources), what="the private sounds")
        sounds = [m for m in fake.followups(interaction) if m["content"].startswith("🔊")]
        assert all(m["flags"] & EPHEMERAL for m in fake.followups(interaction))
        assert public_messages(fake, fake.general) == []
        assert int(reply["id"]) not in fake.channels  # no thread under a private result
        with pytest.raises(WaveInputError, match="private"):
            await ChatRecords(bot.runtime, "discord").share(result.job_id, str(ana.id))
        assert fake.messages_in(fake.gallery) == []

        # No reactions on ephemeral messages: each private sound offers the parts in a select instead.
        source = result.sources[0]
        target = next(s.value for s in SESSIONS if s.value != source.session)
        sound = next(m for m in sounds if m["attachments"][0]["filename"] == f"{source.variant_id}.wav")
        (select,) = [c for row in sound["components"] for c in row["components"] if c["type"] == SELECT_MENU]
        assert select["custom_id"] == f"wave:move:{result.job_id}:{source.variant_id}"
        assert {o["value"] for o in select["options"]} == {s.value for s in SESSIONS}
        stranger = await fake.choose(int(sound["id"]), select["custom_id"], target, bob)
        refusal = await answered(fake, stranger)
        assert refusal["flags"] & EPHEMERAL and refusal["content"] == actions.NOT_YOURS
        picked = await fake.choose(int(sound["id"]), select["custom_id"], target, ana)
        started = await answered(fake, picked)
        assert started["flags"] & EPHEMERAL and source.name in started["content"] and target in started["content"]
        remapped = await fake.until(lambda: next((m for m in fake.followups(picked) if "version 2" in m["content"]),
                                                 None), timeout=RENDER_TIMEOUT, what="the moved mix")
        assert remapped["flags"] & EPHEMERAL and remapped["attachments"]
        moved = next(s for s in (await bot.jobs.result(result.job_id)).sources if s.variant_id == source.variant_id)
        assert moved.session == target
        await fake.until(lambda: fake.original(picked)["content"] == "✅ Version 2 is ready below.", what="the end")

        # 🎲 on the private result: the new mix and the sound's new take come privately to the one who pressed.
        pressed = await fake.click(int(reply["id"]), f"wave:sound:{result.job_id}", ana)
        choice = await fake.until(lambda: pressed.acked_at and fake.original(pressed), what="the sound choice")
        assert choice["flags"] & EPHEMERAL and "comes here" not in choice["content"]
        renew = await fake.choose(int(choice["id"]), f"wave:pick-sound:{result.job_id}", source.variant_id, ana)
        await fake.until(lambda: renew.acked_at, what="the pick")
        assert "comes here" in fake.messages[int(choice["id"])]["content"]
        take = await fake.until(lambda: next((m for m in fake.followups(renew) if "new take (version 3)"
                                              in m["content"]), None), timeout=RENDER_TIMEOUT, what="the new take")
        assert any("version 3" in m["content"] and m["attachments"] for m in fake.followups(renew))
        renewed = next(s for s in (await bot.jobs.result(result.job_id)).sources if s.variant_id == source.variant_id)
        assert take["flags"] & EPHEMERAL and fake.file_bytes(take["attachments"][0]) == renewed.effect.read_bytes()
        assert take["components"]  # the new take can be moved as well
        assert public_messages(fake, fake.general) == []


async def test_me_show_remix_and_weekly_top(fake, settings):
    ana, bob, ada = fake.add_user("ana"), fake.add_user("bob"), fake.add_user("ada", admin=True)
    async with running_bot(settings, fake) as bot, workers(settings):
        await answered(fake, await fake.slash("wave-admin", ada, {"channel": fake.gallery}, subcommand="gallery"))
        interaction = await fake.slash("wave", ana, {"image": fake.upload("a.png", photo_bytes(5), "image/png"),
                                                     "song": SONG})
        await fake.until(lambda: (m := fake.original(interaction)) and "%" in m["content"], what="the job")
        me = await answered(fake, await fake.slash("wave-me", ana))
        assert me["flags"] & EPHEMERAL and "this hour: 1 of 50" in me["content"] and " of 1 in the making" in me["content"]
        reply = await fake.until(lambda: settled(fake, interaction), timeout=RENDER_TIMEOUT, what="the mix")
        assert reply["attachments"], reply["content"]
        job_id = (await ChatRecords(bot.runtime, "discord").message(f"discord:{fake.general}:{reply['id']}")).job_id

        # /wave-show: the owner's recent jobs are offered; another's unshared mix is not there for anyone else.
        typed = await fake.slash("wave-show", ana, {"job": ""}, focused="job")
        await fake.until(lambda: typed.acked_at, what="the job choices")
        assert [c["value"] for c in typed.choices] == [job_id]
        shown = await fake.slash("wave-show", ana, {"job": job_id})
        shown_message = await fake.until(lambda: settled(fake, shown), what="the mix shown again")
        assert [a["filename"] for a in shown_message["attachments"]] == ["wave-mix.mp3"]
        assert shown_message["components"]  # the remix control comes back with it
        stranger = await fake.slash("wave-show", bob, {"job": job_id})
        refusal = await fake.until(lambda: fake.private_answer(stranger), what="the refusal")
        assert refusal["content"].startswith("⚠️")

        # Shared to the gallery: the post carries a Remix button; bob remixes it with his song, as his own job.
        await fake.react(int(reply["id"]), "⭐", ana)
        post = await fake.until(lambda: next(iter(fake.messages_in(fake.gallery)), None), what="the gallery post")
        await fake.until(lambda: fake.messages[int(post["id"])]["components"], what="the remix button")
        remix_id = f"wave:remix:{job_id}"
        picker = await fake.click(int(post["id"]), remix_id, bob)
        await fake.until(lambda: picker.acked_at, what="the song picker")
        data = picker.response["data"]
        assert data["flags"] & EPHEMERAL
        song_ids = [c["custom_id"] for row in data["components"] for c in row["components"]]
        assert f"{remix_id}:{OTHER_SONG}" in song_ids and len(song_ids) <= 25
        picked = await fake.click(picker.original_id, f"{remix_id}:{OTHER_SONG}", bob)
        remixed = await fake.until(lambda: settled(fake, picked) or fake.private_answer(picked),
                                   timeout=RENDER_TIMEOUT, what="the remix")
        assert remixed["attachments"], remixed["content"]
        jobs = await bot.jobs.list_jobs()
        remix_job = next(j for j in jobs if j.id != job_id)
        result = await bot.jobs.result(remix_job.id)
        assert result.owner == str(bob.id) and result.song == OTHER_SONG and result.status == JobStatus.DONE
        original = await bot.jobs.result(job_id)
        assert sorted(s.variant_id for s in result.sources) == sorted(s.variant_id for s in original.sources)

        week = await answered(fake, await fake.slash("wave-top", bob, {"period": "week"}))
        assert "this week" in week["content"] and "Row, Row, Row Your Boat" in week["content"]
        all_time = await answered(fake, await fake.slash("wave-top", bob))
        assert "Row, Row, Row Your Boat" in all_time["content"]
