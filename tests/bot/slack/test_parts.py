"""Parts of the Slack app that need no jobs: throttled progress edits, picture checks, parsing, the manifest."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from slack_sdk.web.async_client import AsyncWebClient

from bot.budget import Limit, RateBudget
from bot.download import fetch
from bot.slack.gallery import parse_channel
from bot.slack.intake import split_mention
from bot.slack.live import LiveMessage, share_rate_limits
from bot.slack.pictures import first_picture
from bot.slack.views import RequestOrigin, read_submission, request_modal, song_options
from pipeline.errors import WaveInputError
from wave_testing.fake_slack import FakeSlack

TOKEN = "xoxb-parts"


@pytest.fixture
async def fake():
    slack = await FakeSlack(TOKEN).start()
    yield slack
    await slack.close()


async def test_progress_edits_are_coalesced_to_one_a_second(fake):
    client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
    posted = await client.chat_postMessage(channel="C1", text="start")
    live = LiveMessage(client, "C1", posted["ts"], interval=0.5)
    for step in range(20):  # far faster than the interval
        live.show(f"step {step}")
        await asyncio.sleep(0.04)
    await live.show_now("done")
    edits = fake.messages[("C1", posted["ts"])].edits
    texts = [t for _, t in edits]
    assert texts[0] == "step 0" and texts[-1] == "done"
    assert len(edits) <= 4, texts  # ~0.8 s of updates plus the final one
    assert all(b[0] - a[0] >= 0.45 for a, b in zip(edits, edits[1:]))


async def test_progress_survives_a_deleted_message(fake):
    client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
    live = LiveMessage(client, "C1", "1.000001")
    await live.show_now("still going")  # message_not_found is logged, not raised
    assert fake.called("chat.update")[-1].args["ts"] == "1.000001"


async def test_download_only_from_slack_hosts_and_with_the_token(fake):
    photo = fake.add_file("a.png", "image/png", b"\x89PNG....")
    url = photo["url_private_download"]
    assert await fetch(url, allowed_hosts=[fake.host], max_bytes=100,
                       headers={"Authorization": f"Bearer {TOKEN}"}) == b"\x89PNG...."
    with pytest.raises(WaveInputError, match="own file servers"):
        await fetch(url, allowed_hosts=["files.slack.com"], max_bytes=100)
    with pytest.raises(WaveInputError, match="HTTP 302"):  # no token: Slack answers with its sign-in page
        await fetch(url, allowed_hosts=[fake.host], max_bytes=100)
    with pytest.raises(WaveInputError, match="larger"):
        await fetch(url, allowed_hosts=[fake.host], max_bytes=4, headers={"Authorization": f"Bearer {TOKEN}"})
    assert [authorised for _, authorised in fake.downloads] == [True, False, True]


def test_picture_checks_before_download():
    good = {"id": "F1", "name": "cat.jpg", "mimetype": "image/jpeg", "size": 2000}
    assert first_picture([{"id": "F0", "name": "song.mp3", "mimetype": "audio/mpeg", "size": 10}, good]) is good
    with pytest.raises(WaveInputError, match="not a picture"):
        first_picture([{"id": "F2", "name": "notes.pdf", "mimetype": "application/pdf", "size": 10}])
    with pytest.raises(WaveInputError, match="limit"):
        first_picture([{**good, "size": 50 * 2**20}])
    with pytest.raises(WaveInputError, match="Attach a photo"):
        first_picture([])


def test_parsing_commands_and_mentions():
    assert parse_channel("<#C0123ABC|music-gallery>") == "C0123ABC"
    assert parse_channel("C0123ABC") == "C0123ABC"
    assert parse_channel("#music-gallery") is None
    assert split_mention("greensleeves make it dreamy") == ("greensleeves", "make it dreamy")
    assert split_mention("make it   dreamy") == ("auto", "make it dreamy")
    assert split_mention("") == ("auto", None)


def test_modal_round_trip_and_song_options():
    view = request_modal(RequestOrigin(channel="C1", thread_ts="1.2", file_id="F9", file_name="x.png"), cue="rainy")
    assert len(view["title"]["text"]) <= 24 and all(b.get("block_id") != "image" for b in view["blocks"])
    view["state"] = {"values": {"song": {"song": {"selected_option": {"value": "greensleeves"}}},
                                "cue": {"cue": {"value": "rainy"}}}}
    request = read_submission(view)
    assert request.origin.file_id == "F9" and request.song == "greensleeves" and request.cue == "rainy"
    assert read_submission({"private_metadata": "someone else's"}) is None
    everything = song_options("")
    assert everything[0]["value"] == "auto" and len(everything) <= 100
    assert all(len(o["text"]["text"]) <= 75 for o in everything)
    assert [o["value"] for o in song_options("grieg")] == ["morning_mood", "mountain_king"]


def test_manifest_lists_what_the_app_uses():
    manifest = yaml.safe_load((Path(__file__).parents[3] / "bot/slack/manifest.yml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "files:read", "files:write", "reactions:read", "reactions:write",
            "app_mentions:read", "users:read"} == scopes
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened", "app_mention", "reaction_added", "reaction_removed"}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["shortcuts"][0]["callback_id"] == "wave_picture"
    assert manifest["features"]["slash_commands"][0]["should_escape"] is True


# ---------------------------------------------------------------------------------------- rate budgets

async def test_many_progress_messages_share_the_workspace_and_channel_budgets(fake):
    """Slack's limits, scaled down: the fake refuses (429) what goes past them; the app's budget, a little
    stricter, must never be refused, and each message ends on its newest text."""
    fake.limit("chat.update", 6, 1.0)
    fake.limit("chat.update", 1, 0.3, per_channel=True)
    budget = RateBudget({"workspace": (Limit(6, 1.1),), "channel": (Limit(1, 0.35),)})
    client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
    share_rate_limits(client, budget)
    lives = []
    for index in range(12):
        channel = f"C{index % 3}"
        posted = await client.chat_postMessage(channel=channel, text="waiting")
        lives.append(LiveMessage(client, channel, posted["ts"], interval=0.05, budget=budget))
    for position in range(30, 0, -1):  # everyone moves up the queue, far faster than the budget allows
        for live in lives:
            live.show(f"{position} in line")
        await asyncio.sleep(0.01)
    await asyncio.gather(*(live.settle() for live in lives))
    assert fake.refused == []
    assert all(fake.messages[(live.channel, live.ts)].text == "1 in line" for live in lives)
    assert len(fake.called("chat.update")) < 12 * 30 / 4  # coalesced: most queue positions were never sent

    await asyncio.gather(*(live.show_now(f"done {i}") for i, live in enumerate(lives)))  # results: all go out
    assert [fake.messages[(live.channel, live.ts)].text for live in lives] == [f"done {i}" for i in range(12)]
    assert fake.violations == []  # refusals of the results (if any) were retried only after Retry-After


async def test_a_refused_edit_holds_every_message_until_retry_after(fake):
    budget = RateBudget({})
    client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
    share_rate_limits(client, budget)
    first = await client.chat_postMessage(channel="C1", text="waiting")
    second = await client.chat_postMessage(channel="C2", text="waiting")
    fake.refuse_next("chat.update", retry_after=1)
    refused_live = LiveMessage(client, "C1", first["ts"], budget=budget)
    refused_live.show("2nd in line")
    await fake.wait_for(lambda: fake.refused, what="the refusal")
    other = LiveMessage(client, "C2", second["ts"], budget=budget)
    other.show("5th in line")  # another message of the workspace waits out the same Retry-After
    await asyncio.gather(refused_live.settle(), other.settle())
    assert fake.messages[("C1", first["ts"])].text == "2nd in line"
    assert fake.messages[("C2", second["ts"])].text == "5th in line"
    assert len(fake.refused) == 1 and fake.violations == []


async def test_a_result_refused_past_the_clients_retries_is_still_shown(fake):
    client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)  # no retry handler: the message sees the 429
    posted = await client.chat_postMessage(channel="C1", text="waiting")
    fake.refuse_next("chat.update", retry_after=1, times=2)
    live = LiveMessage(client, "C1", posted["ts"], interval=0.0)
    await live.show_now("✅ your mix is ready")
    assert fake.messages[("C1", posted["ts"])].text == "✅ your mix is ready"
    assert len(fake.refused) == 2 and fake.violations == []
