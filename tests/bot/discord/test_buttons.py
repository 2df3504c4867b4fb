"""The buttons under a Discord result, on the real discord.py client against the fake Discord, with real workers."""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
from aiohttp import web

from bot import actions
from bot.records import ChatRecords
from db.models import Job
from wave_testing import fake_discord
from wave_testing.discord_harness import (
    eventually,
    photo_bytes,
    point_discord_py_at,
    restore_discord_py,
    running_bot,
)
from wave_testing.fake_discord import EPHEMERAL, FakeDiscord
from wave_testing.jobs_helpers import workers

pytestmark = pytest.mark.usefixtures("rules_kept")

MODAL, MODAL_SUBMIT, SELECT_MENU, TEXT_INPUT = 9, 5, 3, 4
SONG = "row_your_boat"  # the shortest library song keeps the renders quick
RENDER_TIMEOUT = 240
OTHER_SONG = "twinkle_twinkle"
BODY = web.RequestKey("wave_body", dict)


class ModalFakeDiscord(FakeDiscord):
    """The fake Discord, also answering a modal as a first response and taking its submission."""

    async def _callback(self, request: web.Request, interaction_id: int, token: str, call):
        if request.content_type == "application/json":
            body = await request.json()
            request[BODY] = body  # read once: the parent's reading takes it from here
            interaction = self.interactions.get(interaction_id)
            if body.get("type") == MODAL and interaction is not None and interaction.token == token:
                if interaction.acked_at is not None:
                    self.violations.append(f"interaction {interaction_id} acknowledged twice")
                interaction.acked_at = time.monotonic()
                interaction.response_type = MODAL
                interaction.response = body
                return fake_discord.json_response({"interaction": {"id": str(interaction.id), "type": interaction.type,
                                                          "response_message_id": None},
                                          "resource": {"type": MODAL}})
        return await super()._callback(request, interaction_id, token, call)

    async def _read_body(self, request: web.Request, call):
        if BODY in request:
            call.body = request[BODY]
            return request[BODY], []
        return await super()._read_body(request, call)

    async def submit(self, modal: dict, value: str, user, channel_id: int) -> fake_discord.FakeInteraction:
        """``user`` sends the modal back with its one text field set to ``value``."""
        field = next(c for c in _walk(modal["components"]) if c.get("type") == TEXT_INPUT)
        interaction = self._new_interaction(MODAL_SUBMIT, user, channel_id)
        data = {"custom_id": modal["custom_id"],
                "components": [{"type": 1, "components": [{"type": TEXT_INPUT, "custom_id": field["custom_id"],
                                                           "value": value}]}]}
        interaction.payload = self._interaction_payload(interaction, data)
        await self.dispatch("INTERACTION_CREATE", interaction.payload)
        return interaction


async def _count(listing) -> int:
    return len(await listing)


def _walk(components: list[dict]):
    for component in components:
        yield component
        yield from _walk(component.get("components") or [])
        if component.get("component"):
            yield from _walk([component["component"]])


@pytest.fixture
async def fake():
    server = ModalFakeDiscord()
    await server.start()
    old = point_discord_py_at(server)
    yield server
    restore_discord_py(old)
    await server.stop()


def settled_reply(fake, interaction):
    """The reply once it carries the result or a failure."""
    message = fake.original(interaction)
    return message if message and (message["attachments"] or message["content"].startswith("⚠️")) else None


def thread_sources(fake, thread_id: int) -> list[dict]:
    return [m for m in fake.messages_in(thread_id) if m["content"].startswith("🔊")]


def sound_message(fake, thread_id: int, variant_id: str) -> dict | None:
    """The thread's message of one sound (its file is named after it)."""
    return next((m for m in thread_sources(fake, thread_id)
                 if any(a["filename"] == f"{variant_id}.wav" for a in m["attachments"])), None)


async def job_of(bot, interaction) -> str:
    info = await ChatRecords(bot.runtime, "discord").message(f"discord:{interaction.channel_id}:{interaction.original_id}")
    return info.job_id


def buttons_of(message: dict) -> dict[str, str]:
    """action name -> custom id of the buttons on a message."""
    return {c["custom_id"].split(":")[1]: c["custom_id"] for c in _walk(message["components"]) if c.get("type") == 2}


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
            (select,) = [c for c in _walk(choice["components"]) if c.get("type") == SELECT_MENU]
            assert SONG not in {o["value"] for o in select["options"]}
            picked = await fake.choose(int(choice["id"]), select["custom_id"], OTHER_SONG, ana)
            await fake.until(lambda: picked.acked_at, what="the pick")
            assert "learning" in fake.messages[int(choice["id"])]["content"]
            posted = await new_version(fake, thread_id, 2)
            assert "Twinkle" in posted["content"] and posted["attachments"]

            # 🎲: a new take of one sound, then the music again.
            pressed = await fake.click(message_id, buttons["sound"], ana)
            await fake.until(lambda: pressed.acked_at, what="the sound choice")
            choice = fake.original(pressed)
            (select,) = [c for c in _walk(choice["components"]) if c.get("type") == SELECT_MENU]
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
            field = next(c for c in _walk(modal["components"]) if c.get("type") == TEXT_INPUT)
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
