"""Discord's limits: how the bot splits files, and that the fake Discord refuses what Discord refuses."""

from __future__ import annotations

import json

import aiohttp

from bot.discord.replies import MAX_FILE_BYTES, fit, plan_files
from wave_testing.fake_discord import AUTOCOMPLETE, FakeDiscord


def test_files_are_split_into_messages_of_ten_and_oversized_ones_left_out(tmp_path, sample):
    effect = sample("perc_bell").read_bytes()
    small = []
    for i in range(23):
        path = tmp_path / f"effect-{i}.flac"
        path.write_bytes(effect)
        small.append(path)
    huge = tmp_path / "huge.wav"
    with open(huge, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    plan = plan_files([small[0], huge, None, *small[1:]])
    assert [len(batch) for batch in plan.batches] == [10, 10, 3]
    assert [p for batch in plan.batches for p in batch] == small
    assert plan.too_large == [huge]


def test_content_is_cut_to_discords_limit():
    assert fit("x" * 1999) == "x" * 1999
    long = fit("y" * 5000)
    assert len(long) == 2000 and long.endswith("…")


def multipart(payload: dict, files: list[tuple[str, bytes]]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("payload_json", json.dumps(payload), content_type="application/json")
    for i, (name, data) in enumerate(files):
        form.add_field(f"files[{i}]", data, filename=name, content_type="application/octet-stream")
    return form


async def post(fake: FakeDiscord, path: str, **kwargs) -> tuple[int, str, dict]:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.post(fake.api_base + path, headers=headers, **kwargs) as response:
            return response.status, response.headers["Content-Type"], await response.json(content_type=None)


async def test_fake_refuses_more_than_ten_files_and_files_over_ten_mib(fake):
    path = f"/channels/{fake.general}/messages"
    status, content_type, body = await post(fake, path, data=multipart({"content": "ok"}, [("a.txt", b"a")] * 10))
    assert status == 200 and content_type == "application/json" and len(body["attachments"]) == 10
    status, _, body = await post(fake, path, data=multipart({"content": "no"}, [("a.txt", b"a")] * 11))
    assert status == 400 and body["code"] == 50035
    status, _, body = await post(fake, path, data=multipart({}, [("big.wav", b"\0" * (MAX_FILE_BYTES + 1))]))
    assert status == 413 and body["code"] == 40005
    status, _, body = await post(fake, path, json={"content": "z" * 2001})
    assert status == 400
    assert len(fake.violations) == 3


async def test_fake_enforces_the_three_second_rule_and_the_token_lifetime(fake):
    user = fake.add_user("ana")
    late = fake._new_interaction(2, user, fake.general)
    late.created -= 3.2
    status, _, body = await post(fake, f"/interactions/{late.id}/{late.token}/callback", json={"type": 5})
    assert status == 404 and body["code"] == 10062 and fake.violations

    fresh = fake._new_interaction(2, user, fake.general)
    status, _, body = await post(fake, f"/interactions/{fresh.id}/{fresh.token}/callback", json={"type": 5})
    assert status == 200 and body["interaction"]["response_message_loading"] is True
    status, _, body = await post(fake, f"/interactions/{fresh.id}/{fresh.token}/callback", json={"type": 5})
    assert status == 400 and body["code"] == 40060  # acknowledged twice
    followup = f"/webhooks/{fake.application_id}/{fresh.token}"
    status, _, _ = await post(fake, followup, json={"content": "still in time"})
    assert status == 200
    fake.advance(15 * 60 + 1)
    status, _, body = await post(fake, followup, json={"content": "too late"})
    assert status == 401 and body["code"] == 50027


async def test_fake_refuses_more_than_25_autocomplete_choices(fake):
    typing = fake._new_interaction(AUTOCOMPLETE, fake.add_user("ana"), fake.general)
    choices = [{"name": str(i), "value": str(i)} for i in range(26)]
    status, _, body = await post(fake, f"/interactions/{typing.id}/{typing.token}/callback",
                                 json={"type": 8, "data": {"choices": choices}})
    assert status == 400 and typing.acked_at is None
