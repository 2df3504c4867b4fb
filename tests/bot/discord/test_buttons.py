"""The buttons under a Discord result, on the real discord.py client against the fake Discord, with real workers."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from bot import actions
from db.models import Job
from wave_testing import fake_discord
from wave_testing.discord_harness import (
    eventually,
    job_of,
    photo_bytes,
    running_bot,
    settled_reply,
    thread_sources,
)
from wave_testing.fake_discord import BUTTON, EPHEMERAL, SELECT_MENU, TEXT_INPUT, walk_components
from wave_testing.jobs_helpers import workers

pytestmark = pytest.mark.usefixtures("rules_kept")

SONG = "row_your_boat"  # the shortest library song keeps the renders quick
RENDER_TIMEOUT = 240
OTHER_SONG = "twinkle_twinkle"


async def _count(listing) -> int:
    return len(await listing)


def buttons_of(message: dict) -> dict[str, str]:
    """action name -> custom id of the buttons on a message."""
    return {c["custom_id"].split(":")[1]: c["custom_id"] for c in walk_components(message["components"])
            if c.get("type") == BUTTON}


def private_text(fake, interaction) -> str:
    """What only the presser saw: the first response or a followup, all ephemeral."""
    response = interaction.response or {}
    texts = []
    if response.get("data", {}).get("content"):
        assert response["data"]["flags"] & EPHEMERAL
        texts.append(response["data"]["content"])
    for message in fake.followups(interaction):
        assert message["flags"] & EPHEMERAL, message["content"]
        texts.append(message["content"])
    return "\n".join(texts)


async def answered(fake, interaction, what: str) -> str:
    await fake.until(lambda: interaction.acked_at and private_text(fake, interaction), what=what)
    return private_text(fake, interaction)


def sound_message(fake, thread_id: int, variant_id: str) -> dict | None:
    """The thread's message of one sound (its file is named after it)."""
    return next((m for m in thread_sources(fake, thread_id)
                 if any(a["filename"] == f"{variant_id}.wav" for a in m["attachments"])), None)


async def new_version(fake, thread_id: int, version: int) -> dict:
    return await fake.until(
        lambda: next((m for m in fake.messages_in(thread_id) if f"version {version}" in m["content"]), None),
        timeout=RENDER_TIMEOUT, what=f"version {version}")


async def test_result_buttons(fake, settings, monkeypatch):
    ana, bob, ada = fake.add_user("ana"), fake.add_user("bob"), fake.add_user("ada", admin=True)
    async with workers(settings):
        async with running_bot(settings, fake) as bot:
            interaction = await fake.slash("wave", ana, {"image": fake.upload("a.png", photo_bytes(3), "image/png"),
                                                         "song": SONG})
            reply = await fake.until(lambda: settled_reply(fake, interaction), timeout=RENDER_TIMEOUT, what="the mix")
            job_id = await job_of(bot, interaction)
            result = await bot.jobs.result(job_id)
            thread_id = int(reply["id"])
            await fake.until(lambda: len(thread_sources(fake, thread_id)) == len(result.sources), what="the sounds")
        buttons = buttons_of(reply)
        assert buttons == {a.name: f"wave:{a.name}:{job_id}" for a in actions.RESULT_ACTIONS}
        message_id = int(reply["id"])

        # After a restart, the same buttons answer; a stranger may not change the mix, but may download.
        async with running_bot(settings, fake) as bot:
            for action in ("sound", "song", "edit", "delete"):
                refused = await fake.click(message_id, buttons[action], bob)
                assert await answered(fake, refused, f"the refusal of {action}") == actions.NOT_YOURS
            download = await fake.click(message_id, buttons["zip"], bob)
            await fake.until(lambda: fake.followups(download), what="the instruments zip")
            (sent,) = fake.followups(download)
            assert sent["flags"] & EPHEMERAL
            (attachment,) = sent["attachments"]
            with zipfile.ZipFile(io.BytesIO(fake.file_bytes(attachment))) as archive:
                names = set(archive.namelist())
                sfzs = sorted(n for n in names if n.endswith("instrument.sfz"))
                assert [n.split("/")[0] for n in sfzs] == ["bass", "drums", "guitar", "keyboard"]
                for sfz in sfzs:
                    folder = sfz.rsplit("/", 1)[0]
                    samples = {op.split("=", 1)[1] for line in archive.read(sfz).decode().splitlines()
                               if line.startswith("<region>") for op in line.split() if op.startswith("sample=")}
                    assert samples and all(f"{folder}/{s}" in names for s in samples), (sfz, samples)
                    assert archive.read(f"{folder}/{min(samples)}")[:4] == b"fLaC"
                assert "SF2" in archive.read("README.txt").decode()

            # Too large for the place it would go: refused in private, in plain words.
            monkeypatch.setattr(fake_discord, "MAX_FILE_BYTES", 1000)
            too_big = await fake.click(message_id, buttons["zip"], ana)
            assert "over the" in await answered(fake, too_big, "the size refusal")
            monkeypatch.undo()

            # 🎵: the owner picks another song; the same band plays it in a new version.
            pressed = await fake.click(message_id, buttons["song"], ana)
            await fake.until(lambda: pressed.acked_at, what="the song choice")
            choice = fake.original(pressed)
            assert choice["flags"] & EPHEMERAL and choice["content"] == actions.PICK_SONG
            (select,) = [c for c in walk_components(choice["components"]) if c.get("type") == SELECT_MENU]
            assert SONG not in {o["value"] for o in select["options"]}
            picked = await fake.choose(int(choice["id"]), select["custom_id"], OTHER_SONG, ana)
            await fake.until(lambda: picked.acked_at, what="the pick")
            # its text says the band is learning the song (a later edit says where the new version is)
            said = [content for _, content in fake.messages[int(choice["id"])]["_edits"]]
            assert any("learning" in content for content in said), said
            posted = await new_version(fake, thread_id, 2)
            assert "Twinkle" in posted["content"] and posted["attachments"]

            # 🎲: a new take of one sound, then the music again.
            pressed = await fake.click(message_id, buttons["sound"], ana)
            await fake.until(lambda: pressed.acked_at, what="the sound choice")
            choice = fake.original(pressed)
            (select,) = [c for c in walk_components(choice["components"]) if c.get("type") == SELECT_MENU]
            variant = result.sources[0].variant_id
            assert {o["value"] for o in select["options"]} == {s.variant_id for s in result.sources}
            before = result.sources[0].effect.read_bytes()
            picked = await fake.choose(int(choice["id"]), select["custom_id"], variant, ana)
            await new_version(fake, thread_id, 3)
            after = next(s for s in (await bot.jobs.result(job_id)).sources if s.variant_id == variant)
            assert after.effect.read_bytes() != before
            # The sound's message in the thread carries the new take in place of the old one.
            renewed = await fake.until(lambda: (m := sound_message(fake, thread_id, variant))
                                       and "new take (version 3)" in m["content"] and m, what="the new take")
            (attachment,) = renewed["attachments"]
            assert fake.file_bytes(attachment) == after.effect.read_bytes()

            # ✏️: the sheet in a modal; hostile text is refused in private, a real edit makes a new version.
            pressed = await fake.click(message_id, buttons["edit"], ana)
            await fake.until(lambda: pressed.acked_at, what="the modal")
            modal = pressed.response["data"]
            field = next(c for c in walk_components(modal["components"]) if c.get("type") == TEXT_INPUT)
            assert f"{variant}: {after.play_method}" in field["value"]
            hostile = await fake.submit(modal, "../../etc/passwd: x", ana, fake.general)
            assert "sound id" in await answered(fake, hostile, "the refusal of a bad sheet")
            edited = field["value"].replace(f"{variant}: {after.play_method}", f"{variant}: knocked twice")
            again = await fake.click(message_id, buttons["edit"], ana)  # a submitted modal is closed
            await fake.until(lambda: again.acked_at, what="the modal again")
            accepted = await fake.submit(again.response["data"], edited, ana, fake.general)
            assert "edited sounds" in await answered(fake, accepted, "the edit")
            await new_version(fake, thread_id, 4)
            edited_source = next(s for s in (await bot.jobs.result(job_id)).sources if s.variant_id == variant)
            assert edited_source.play_method == "knocked twice"
            shown = await fake.until(lambda: (m := sound_message(fake, thread_id, variant))
                                     and "new take (version 4)" in m["content"] and m, what="the edited sound")
            assert "knocked twice" in shown["content"] and shown["id"] == renewed["id"]
            assert fake.file_bytes(shown["attachments"][0]) == edited_source.effect.read_bytes()

            # 🗑: an admin deletes it; the messages and the job are gone.
            await eventually(lambda: _count(bot.records.messages_for(job_id, "remap")), 3)
            deleted = await fake.click(message_id, buttons["delete"], ada)
            assert await answered(fake, deleted, "the deletion") == actions.DELETED
            assert fake.messages[message_id].get("_deleted")
            assert [m["content"][:90] for m in fake.messages_in(thread_id)] == []
            async with bot.runtime.db() as db:
                assert await db.get(Job, job_id) is None
            gone = await fake.click(message_id, buttons["sound"], ana)
            assert "No job" in await answered(fake, gone, "the answer for a deleted mix")
    assert not [m for m in fake.messages.values() if json.dumps(m.get("content", "")).count("⚠️")
                and not m["flags"] & EPHEMERAL]
