"""The Slack app in Socket Mode end to end: ``serve_slack`` as ``wave bot slack`` runs it, connected to a local Slack
(Web API and Socket Mode WebSocket), real Redis, SQLite and in-process lite workers. Every envelope Slack sends must
be acknowledged within 3 seconds; the fake writes down any that is not."""

from __future__ import annotations

import asyncio
import io
import uuid
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio
import soundfile
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import serve_slack
from db.models import Job
from jobs.runtime import Runtime
from pipeline.errors import WaveInputError
from wave_core.settings import Settings
from wave_testing.fake_slack import ACK_DEADLINE_S, BOT_USER, FakeSlack, Message
from wave_testing.jobs_helpers import picture_bytes, workers
from wave_testing.services import REDIS_TEST_URL
from wave_testing.slack_helpers import (
    SESSION_EMOJI,
    SONG,
    forget_queues,
    job_for,
    song_value,
    sources_of,
    uploads_in,
    view_submission,
    wait_delivered,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKEN = "xoxb-wave-socket-test"
APP_TOKEN = "xapp-1-A0WAVE-1-wave-socket-test"
CHANNEL = "C0SOCKET"
OWNER, OTHER = "U0SOCKOWNER", "U0SOCKOTHER"


@dataclass
class SocketHarness:
    fake: FakeSlack
    runtime: Runtime
    settings: Settings
    picture: bytes


def socket_settings(root, fake: FakeSlack, **overrides) -> Settings:
    values = dict(
        profile="lite", database_url=f"sqlite+aiosqlite:///{root}/wave.db", redis_url=REDIS_TEST_URL,
        queue_prefix=f"wavetest-slacksock-{uuid.uuid4().hex[:8]}", data_dir=root / "data",
        artifacts_dir=root / "artifacts", slack_bot_token=TOKEN, slack_app_token=APP_TOKEN, slack_mode="socket",
        slack_file_hosts=[fake.host], max_concurrent_jobs_per_user=1, max_jobs_per_user_per_hour=50,
        gpu_stage_timeout_s=120, cpu_stage_timeout_s=180,
    )
    values.update(overrides)
    return Settings(**values)


async def stop(app: asyncio.Task) -> None:
    app.cancel()
    with suppress(asyncio.CancelledError):
        await app


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def socket(tmp_path_factory):
    root = tmp_path_factory.mktemp("slack-socket")
    async with AsyncExitStack() as stack:
        fake = await FakeSlack(TOKEN, app_token=APP_TOKEN).start()
        stack.push_async_callback(fake.close)
        settings = socket_settings(root, fake)
        runtime = await Runtime.open(settings)  # the test's own look at the database the app writes
        stack.push_async_callback(runtime.close)
        stack.push_async_callback(forget_queues, runtime, settings.queue_prefix)
        app = asyncio.create_task(serve_slack(settings, api_url=fake.api_url))
        stack.push_async_callback(stop, app)
        await fake.wait_for(lambda: fake.socket.current or app.done(), what="the app to connect")
        if app.done():
            app.result()  # raises what stopped the app
        # Started once the app's own migration check is over: two Alembic runs at once in one process collide.
        await stack.enter_async_context(workers(settings))
        yield SocketHarness(fake, runtime, settings, picture_bytes(seed=4, size=128))


@pytest.fixture(autouse=True)
def every_envelope_acknowledged_in_time(socket):
    yield
    assert socket.fake.socket.unacknowledged() == []
    assert socket.fake.socket.violations == []


@dataclass
class Mentioned:
    message: Message
    progress: Message
    thread: list[Message]
    job_id: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def mentioned(socket: SocketHarness) -> Mentioned:
    """A mention with a photo, over an events_api envelope, made into a mix delivered in the mention's thread."""
    fake = socket.fake
    photo = fake.add_file("harbour.png", "image/png", socket.picture)
    message = fake.user_message(CHANNEL, OWNER, f"<@{BOT_USER}> {SONG} make it calm", files=[photo])
    envelope = await fake.socket.event({"type": "app_mention", "user": OWNER, "channel": CHANNEL, "ts": message.ts,
                                        "text": message.text, "files": [photo]})
    assert envelope.acked_at is not None and envelope.response is None
    progress = await fake.wait_for(lambda: next(iter(fake.thread(CHANNEL, message.ts)), None),
                                   what="progress in the mention's thread")
    thread = await wait_delivered(socket.runtime, fake, CHANNEL, progress)
    job = await job_for(socket.runtime, CHANNEL, progress.ts)
    return Mentioned(message, progress, thread, job.id)


async def test_an_event_sent_again_over_the_socket_is_handled_once(socket):
    fake = socket.fake
    message = fake.user_message(CHANNEL, "U0AGAIN", f"<@{BOT_USER}> help")
    event = {"type": "app_mention", "user": "U0AGAIN", "channel": CHANNEL, "ts": message.ts, "text": message.text}
    for attempt in (0, 1, 2):  # each envelope is acknowledged, so Slack would stop retrying
        envelope = await fake.socket.event_again(event, "Ev0SOCKETAGAIN", retry_attempt=attempt)
        assert envelope.acked_at is not None
    marker = fake.user_message(CHANNEL, "U0AGAIN", f"<@{BOT_USER}> help")
    await fake.socket.event({**event, "ts": marker.ts, "text": marker.text})  # a new event after the repeats
    await fake.wait_for(lambda: len(fake.private_to("U0AGAIN")) >= 2, what="the answers")
    assert [m.thread_ts for m in fake.private_to("U0AGAIN")] == [message.ts, marker.ts]


async def test_the_app_connects_with_the_app_token_and_keeps_the_connection_alive(socket):
    fake = socket.fake
    opened = fake.called("apps.connections.open")
    assert len(opened) == 1 and len(fake.socket.connections) == 1
    # The client pings right after the hello; the fake's pongs keep it from reconnecting.
    await fake.wait_for(lambda: fake.socket.connections[0].pings >= 1, what="the client's first ping")


async def test_help_command_is_acknowledged_with_the_answer(socket):
    envelope = await socket.fake.socket.command("help", user=OWNER, channel=CHANNEL, trigger_id=socket.fake.trigger())
    assert envelope.ack_s < ACK_DEADLINE_S
    assert envelope.response["response_type"] == "ephemeral" and "/wave" in envelope.response["text"]


async def test_song_options_come_back_in_the_acknowledgement(socket):
    envelope = await socket.fake.socket.interaction({"type": "block_suggestion", "action_id": "song",
                                                     "block_id": "song", "value": "Row your", "user": {"id": OWNER},
                                                     "view": {"id": "V1"}})
    assert [option["value"] for option in envelope.response["options"]] == [SONG]


async def test_mention_with_a_photo_runs_a_job_and_uploads_the_result(socket, mentioned):
    fake = socket.fake
    async with socket.runtime.db() as session:
        job = await session.get(Job, mentioned.job_id)
    assert job.status == "done" and job.platform == "slack" and job.song_ref == SONG and job.cue == "make it calm"
    assert mentioned.progress.text.startswith(f"✅ <@{OWNER}>")
    files = uploads_in(fake, next(m for m in mentioned.thread if m.files))
    mix = next(content for name, content in files.items() if name.startswith("wave-mix"))
    audio, rate = soundfile.read(io.BytesIO(mix))
    assert rate == 44100 and audio.shape[0] / rate > 30 and abs(audio).max() > 0.01
    sounds = sources_of(mentioned.thread)
    assert len(sounds) >= 5 and all([name for name, _ in m.reactions] == SESSION_EMOJI for m in sounds)


async def test_modal_flow_over_the_socket(socket, mentioned):
    """/wave opens the modal; its submission (an interactive envelope) closes it and the mix is delivered."""
    fake = socket.fake
    photo = fake.add_file("harbour-again.png", "image/png", socket.picture)
    trigger = fake.trigger()
    envelope = await fake.socket.command("", user=OTHER, channel=CHANNEL, trigger_id=trigger)
    assert envelope.response is None  # an empty acknowledgement: the answer is the modal
    opened = await fake.wait_for(lambda: [c for c in fake.called("views.open") if c.args["trigger_id"] == trigger],
                                 what="the modal")
    submitted = await fake.socket.interaction(view_submission(opened[0].args["view"], OTHER, {
        "image": {"image": {"type": "file_input", "files": [photo]}}, **song_value(SONG),
        "cue": {"cue": {"type": "plain_text_input", "value": "make it calm"}}}))
    assert not submitted.response  # nothing but the acknowledgement closes the modal
    progress = await fake.wait_for(lambda: next((m for m in fake.bot_messages(CHANNEL) if m.thread_ts is None), None),
                                   what="the progress message")
    thread = await wait_delivered(socket.runtime, fake, CHANNEL, progress)
    assert any(m.files for m in thread) and sources_of(thread)
    job = await job_for(socket.runtime, CHANNEL, progress.ts)
    assert job.reused_from == mentioned.job_id  # same photo, song and cue as the mention: nothing rendered again


async def test_a_file_that_is_not_a_picture_is_refused_in_the_acknowledgement(socket):
    fake = socket.fake
    notes = fake.add_file("notes.txt", "text/plain", b"not a picture at all")
    trigger = fake.trigger()
    await fake.socket.command("", user=OTHER, channel=CHANNEL, trigger_id=trigger)
    opened = await fake.wait_for(lambda: [c for c in fake.called("views.open") if c.args["trigger_id"] == trigger],
                                 what="the modal")
    envelope = await fake.socket.interaction(view_submission(opened[0].args["view"], OTHER, {
        "image": {"image": {"type": "file_input", "files": [notes]}}, **song_value(SONG)}))
    assert envelope.response["response_action"] == "errors" and "picture" in envelope.response["errors"]["image"]
    assert not [d for d in fake.downloads if d[0] == notes["id"]]


async def test_a_refresh_moves_the_app_to_a_new_connection(socket):
    fake = socket.fake
    old = await fake.socket.connected()
    new = await fake.socket.refresh()
    assert new.number == old.number + 1 and len(fake.called("apps.connections.open")) == old.number + 1
    envelope = await fake.socket.command("help", user=OWNER, channel=CHANNEL, trigger_id=fake.trigger())
    assert envelope.connection == new.number and "/wave" in envelope.response["text"]
    await fake.wait_for(lambda: old.closed_at is not None, what="the old connection to close")


@pytest.mark.parametrize(("app_token", "error"), [("xapp-1-revoked", "invalid_auth"),
                                                  (TOKEN, "not_allowed_token_type")])
async def test_a_refused_app_token_stops_the_app_with_a_clear_message(socket, tmp_path, app_token, error):
    settings = socket_settings(tmp_path, socket.fake, slack_app_token=app_token)
    with pytest.raises(WaveInputError) as refused:
        await asyncio.wait_for(serve_slack(settings, api_url=socket.fake.api_url), timeout=30)
    assert "WAVE_SLACK_APP_TOKEN" in refused.value.user_message and error in refused.value.user_message


async def test_the_fake_writes_down_unacknowledged_envelopes_stray_acks_and_reused_urls():
    fake = await FakeSlack(TOKEN, app_token=APP_TOKEN).start()
    fake.socket.ack_wait_s = 0.3
    try:
        url = (await AsyncWebClient(base_url=fake.api_url).apps_connections_open(app_token=APP_TOKEN))["url"]
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url) as connection:
                assert (await connection.receive_json())["type"] == "hello"
                envelope = await fake.socket.event({"type": "app_mention", "user": OWNER, "channel": CHANNEL,
                                                    "ts": fake.new_ts(), "text": "hello"})
                sent = await connection.receive_json()
                assert sent["envelope_id"] == envelope.id and sent["type"] == "events_api"
                assert fake.socket.unacknowledged() == [envelope] and "never acknowledged" in fake.socket.violations[0]
                await connection.send_json({"envelope_id": "never-sent"})
                await fake.wait_for(lambda: len(fake.socket.violations) == 2, what="the stray acknowledgement")
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await session.ws_connect(url)  # each URL opens one connection
    finally:
        await fake.close()
