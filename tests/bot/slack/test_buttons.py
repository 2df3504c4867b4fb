"""The buttons under a Slack result, on the real Bolt app over signed HTTP against the fake Slack, with workers."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from bot import actions
from bot.slack.buttons import CONTROLS_TEXT
from db.models import Job
from jobs.client import JobsClient
from jobs.runtime import Runtime
from wave_testing.fake_slack import FakeSlack
from wave_testing.jobs_helpers import picture_bytes
from wave_testing.slack_app import ADMIN, CHANNEL, OTHER, OWNER, Harness
from wave_testing.slack_helpers import SONG, job_for, press, song_value, view_submission, wait_delivered

pytestmark = pytest.mark.asyncio(loop_scope="module")

OTHER_SONG = "twinkle_twinkle"


def private_texts(fake: FakeSlack, user: str) -> list[str]:
    return [message.text for who, message in fake.ephemerals if who == user]


async def opened_form(fake: FakeSlack, count: int) -> dict:
    calls = await fake.wait_for(lambda: len(fake.called("views.open")) >= count and fake.called("views.open"),
                                what="the form")
    view = calls[-1].args["view"]
    return json.loads(view) if isinstance(view, str) else view


async def version_posted(fake: FakeSlack, thread_ts: str, version: int):
    return await fake.wait_for(
        lambda: next((m for m in fake.thread(CHANNEL, thread_ts) if f"version {version}" in m.text.lower()), None),
        timeout=240, what=f"version {version}")


def linked_file(fake: FakeSlack, text: str):
    """The file a message links (``<permalink|Hear the sound>``)."""
    found = re.search(r"/files/([^/|>]+)/", text)
    assert found, text
    return fake.files[found.group(1)]


async def runtime_result(runtime: Runtime, job_id: str, variant: str):
    result = await JobsClient(runtime).result(job_id)
    return next(s for s in result.sources if s.variant_id == variant)


async def test_slack_result_buttons(wave: Harness):
    fake, runtime, send = wave.fake, wave.runtime, wave.send
    photo = fake.add_file("coffee.png", "image/png", picture_bytes(seed=4, size=128))
    await send.command("", user=OWNER, channel=CHANNEL, trigger_id=fake.trigger())
    form = await opened_form(fake, 1)
    await send.interaction(view_submission(form, OWNER, {
        "image": {"image": {"type": "file_input", "files": [photo]}}, **song_value(SONG),
        "cue": {"cue": {"type": "plain_text_input", "value": None}}}))
    progress = await fake.wait_for(
        lambda: next((m for m in fake.bot_messages(CHANNEL) if m.thread_ts is None), None), what="progress")
    await wait_delivered(runtime, fake, CHANNEL, progress)
    job_id = (await job_for(runtime, CHANNEL, progress.ts)).id
    controls = next(m for m in fake.thread(CHANNEL, progress.ts) if m.text == CONTROLS_TEXT)
    posted = next(c for c in fake.called("chat.postMessage") if c.args.get("text") == CONTROLS_TEXT)
    blocks = posted.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert [(e["action_id"], e["value"]) for e in blocks[0]["elements"]] == [
        (f"wave:{a.name}", job_id) for a in actions.RESULT_ACTIONS]

    # A restart: the new app answers the same buttons. A stranger may not change the mix, only in private.
    await wave.restart()
    send = wave.send
    for action in ("sound", "song", "edit", "delete"):
        await send.interaction(press(action, job_id, OTHER, controls, fake.trigger()))
    await fake.wait_for(lambda: private_texts(fake, OTHER).count(actions.NOT_YOURS) == 4, what="refusals")
    assert not fake.called("views.open")[1:]

    # ⬇️ for anyone: the zip in the thread; its SFZ files play samples that are in it.
    await send.interaction(press("zip", job_id, OTHER, controls, fake.trigger()))
    shared = await fake.wait_for(lambda: next((m for m in fake.thread(CHANNEL, progress.ts)
                                               if m.text == actions.INSTRUMENTS_TEXT and m.files), None),
                                 what="the instruments")
    with zipfile.ZipFile(io.BytesIO(fake.files[shared.files[0]].content)) as archive:
        names = set(archive.namelist())
        sfzs = [n for n in names if n.endswith(".sfz")]
        assert len(sfzs) == 4
        for sfz in sfzs:
            folder = sfz.rsplit("/", 1)[0]
            samples = {op.split("=", 1)[1] for line in archive.read(sfz).decode().splitlines()
                       if line.startswith("<region>") for op in line.split() if op.startswith("sample=")}
            assert samples and all(f"{folder}/{s}" in names for s in samples)

    # 🎵: a form with the other songs; the pick becomes version 2 in the thread.
    await send.interaction(press("song", job_id, OWNER, controls, fake.trigger()))
    form = await opened_form(fake, 2)
    options = form["blocks"][0]["element"]["options"]
    assert SONG not in {o["value"] for o in options}
    status, _ = await send.interaction(view_submission(form, OWNER, {
        "pick": {"pick": {"type": "static_select", "selected_option": {"value": OTHER_SONG}}}}))
    assert status == 200
    await version_posted(fake, progress.ts, 2)

    # 🎲: a new take of one sound.
    await send.interaction(press("sound", job_id, OWNER, controls, fake.trigger()))
    form = await opened_form(fake, 3)
    variant = form["blocks"][0]["element"]["options"][0]["value"]
    await send.interaction(view_submission(form, OWNER, {
        "pick": {"pick": {"type": "static_select", "selected_option": {"value": variant}}}}))
    await version_posted(fake, progress.ts, 3)
    # The sound's message in the thread now links the new take, shared into the thread for everyone.
    new_take = (await runtime_result(runtime, job_id, variant)).effect.read_bytes()
    renewed = await fake.wait_for(lambda: next((m for m in fake.thread(CHANNEL, progress.ts)
                                                if "new take (version 3)" in m.text), None), what="new take")
    assert linked_file(fake, renewed.text).content == new_take
    assert any(fake.files[f].content == new_take for m in fake.thread(CHANNEL, progress.ts) for f in m.files)

    # ✏️: hostile text is refused inside the form; a real edit is made.
    await send.interaction(press("edit", job_id, OWNER, controls, fake.trigger()))
    form = await opened_form(fake, 4)
    text = form["blocks"][0]["element"]["initial_value"]
    status, body = await send.interaction(view_submission(form, OWNER, {
        "sheet": {"sheet": {"type": "plain_text_input", "value": "../x: boom"}}}))
    assert status == 200 and json.loads(body)["response_action"] == "errors"
    line = next(line for line in text.splitlines() if line.startswith(f"{variant}:"))
    edited = text.replace(line, f"{variant}: rattled in a tin")
    status, body = await send.interaction(view_submission(form, OWNER, {
        "sheet": {"sheet": {"type": "plain_text_input", "value": edited}}}))
    assert status == 200 and not body
    await version_posted(fake, progress.ts, 4)
    edited_take = await fake.wait_for(lambda: next((m for m in fake.thread(CHANNEL, progress.ts)
                                                    if "new take (version 4)" in m.text), None), what="edit")
    assert "rattled in a tin" in edited_take.text and edited_take.ts == renewed.ts
    assert linked_file(fake, edited_take.text).content == (
        await runtime_result(runtime, job_id, variant)).effect.read_bytes()

    # 🗑 by an admin: WAVE's messages and the job are gone.
    await send.interaction(press("delete", job_id, ADMIN, controls, fake.trigger()))
    await fake.wait_for(lambda: actions.DELETED in private_texts(fake, ADMIN), what="the deletion")
    assert (CHANNEL, progress.ts) not in fake.messages and (CHANNEL, controls.ts) not in fake.messages
    async with runtime.db() as db:
        assert await db.get(Job, job_id) is None
    assert not [m for m in fake.bot_messages(CHANNEL) if m.text.startswith("⚠️")]
