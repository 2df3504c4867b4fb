"""What both chat adapters share: where files may come from, which files count as pictures, debounced remaps."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from bot.budget import MAX_BACK_OFF_S, Limit, RateBudget
from bot.common import check_upload
from bot.debounce import RemapDebouncer
from bot.dedupe import SEEN_TTL_S, SeenEvents
from bot.download import fetch, host_allowed
from bot.progress import ProgressLines, ticking
from db.models import JobStatus
from jobs.events import JobEvent
from pipeline.errors import WaveInputError
from pipeline.types import Session
from wave_testing.services import REDIS_TEST_URL

HOSTS = ("cdn.discordapp.com", "127.0.0.1:8765")


@pytest.mark.parametrize("url", [
    "https://cdn.discordapp.com/attachments/1/2/a.png",
    "https://CDN.DiscordApp.COM/attachments/1/2/a.png",
    "https://cdn.discordapp.com:443/attachments/1/2/a.png",
    "http://127.0.0.1:8765/attachments/a.png",  # a listed host:port (local test servers)
])
def test_allowed_downloads(url):
    assert host_allowed(url, HOSTS)


@pytest.mark.parametrize("url", [
    "http://cdn.discordapp.com/attachments/a.png",  # plain http to the real host could be tampered with
    "https://cdn.discordapp.com:8443/a.png",  # another port of the host is another server
    "https://cdn.discordapp.com.evil.example/a.png",
    "https://evil.example/cdn.discordapp.com/a.png",
    "https://cdn.discordapp.com@evil.example/a.png",
    "https://user:pw@cdn.discordapp.com/a.png",
    "https://evil.example\\@cdn.discordapp.com/a.png",
    "https://cdn.discordapp.com\uff03@evil.example/a.png",  # a full-width "#" that NFKC turns into a real one
    "https://cdn.discordapp.com:99999/a.png",
    "https://cdn.discordapp.com:port/a.png",
    "ftp://cdn.discordapp.com/a.png",
    "http://127.0.0.1:9999/a.png",
    "file:///etc/passwd",
    "",
])
def test_refused_downloads(url):
    assert not host_allowed(url, HOSTS)


async def test_a_malformed_url_is_a_plain_refusal_not_a_crash():
    with pytest.raises(WaveInputError, match="own file servers"):
        await fetch("https://cdn.discordapp.com:99999/a.png", allowed_hosts=HOSTS, max_bytes=10)


def test_upload_checks_trust_a_declared_type_over_the_name():
    assert check_upload("cat.png", "image/png", 10).ok
    assert check_upload("cat", "image/jpeg; charset=binary", 10).ok
    assert check_upload("cat.JPG", None, 10).ok  # no declared type: the extension decides
    assert check_upload("cat.webp", "application/octet-stream", 10).ok
    for name, declared in (("page.png", "text/html"), ("run.jpg", "application/x-msdownload"),
                           ("notes.txt", None), ("song.mp3", "audio/mpeg")):
        check = check_upload(name, declared, 10)
        assert not check.ok and "not a picture" in check.message, (name, declared)
    assert "empty" in check_upload("cat.png", "image/png", 0).message
    assert "limit" in check_upload("cat.png", "image/png", 21 * 2**20).message


async def test_quick_moves_become_one_apply_in_arrival_order():
    applied: list[tuple[str, list]] = []

    async def apply(job_id, moves):
        applied.append((job_id, moves))

    debouncer = RemapDebouncer(apply, delay=0.1)
    debouncer.add("job-a", "rain", Session.KEYBOARD)
    await asyncio.sleep(0.05)
    debouncer.add("job-a", "kettle", Session.BASS)
    debouncer.add("job-b", "door", Session.DRUMS)
    debouncer.add("job-a", "rain", Session.GUITAR)  # the later move of the same sound wins and counts as latest
    await asyncio.sleep(0.3)
    assert sorted(applied) == [("job-a", [("kettle", Session.BASS), ("rain", Session.GUITAR)]),
                               ("job-b", [("door", Session.DRUMS)])]


async def test_a_failing_apply_is_logged_with_an_error_id_and_others_still_apply(caplog):
    applied: list[str] = []

    async def apply(job_id, moves):
        if job_id == "broken":
            raise RuntimeError("the queue is gone")
        applied.append(job_id)

    debouncer = RemapDebouncer(apply, delay=0.05)
    with caplog.at_level(logging.ERROR):
        debouncer.add("broken", "rain", Session.DRUMS)
        debouncer.add("fine", "rain", Session.DRUMS)
        await asyncio.sleep(0.3)
    assert applied == ["fine"]
    logged = [r for r in caplog.records if "broken" in r.getMessage()]
    assert logged and re.search(r"error id [0-9a-f]{8}", logged[0].getMessage()) and logged[0].exc_info


async def test_flush_applies_what_waits_and_waits_for_what_runs():
    started, finished = asyncio.Event(), []

    async def apply(job_id, moves):
        started.set()
        await asyncio.sleep(0.2 if job_id == "slow" else 0)
        finished.append(job_id)

    debouncer = RemapDebouncer(apply, delay=0.02)
    debouncer.add("slow", "rain", Session.DRUMS)
    await started.wait()  # "slow" is being applied now
    debouncer.add("waiting", "rain", Session.BASS)
    debouncer.delay = 60
    debouncer.add("waiting", "kettle", Session.BASS)  # would only fire in a minute
    await debouncer.flush()
    assert sorted(finished) == ["slow", "waiting"]


# ------------------------------------------------------------------------------------------- edit budgets

def _within(times: list[float], limit: Limit) -> bool:
    """No window of ``limit.per_s`` holds more than ``limit.calls`` of ``times``."""
    times = sorted(times)
    return all(times[i + limit.calls] - times[i] >= limit.per_s - 1e-9 for i in range(len(times) - limit.calls))


async def test_progress_edits_keep_every_window_of_every_scope():
    channel, workspace = Limit(2, 0.3), Limit(3, 0.3)
    budget = RateBudget({"channel": (channel,), "workspace": (workspace,)})
    taken: list[tuple[str, float]] = []

    async def edit(channel_name: str) -> None:
        await budget.wait_turn(("workspace", f"channel:{channel_name}"))
        taken.append((channel_name, budget.clock()))

    await asyncio.gather(*(edit(f"c{i % 3}") for i in range(15)))
    assert len(taken) == 15
    assert _within([t for _, t in taken], workspace)
    for name in ("c0", "c1", "c2"):
        assert _within([t for c, t in taken if c == name], channel)


async def test_the_longest_waiting_edit_goes_first_and_a_free_channel_is_not_held_back():
    budget = RateBudget({"channel": (Limit(1, 0.2),)})
    order: list[str] = []

    async def edit(name: str, channel: str) -> None:
        await budget.wait_turn((f"channel:{channel}",))
        order.append(name)

    busy = [asyncio.create_task(edit(name, "busy")) for name in ("a", "b", "c")]
    await asyncio.sleep(0)  # all three are waiting, in that order
    await edit("free", "quiet")
    await asyncio.gather(*busy)
    assert order[:2] == ["a", "free"] and order[2:] == ["b", "c"]


async def test_results_skip_the_windows_but_count_and_progress_gives_up_when_the_job_ends():
    budget = RateBudget({"channel": (Limit(1, 30.0),)})
    scopes = ("channel:c",)
    await budget.wait_turn(scopes)
    progress = asyncio.create_task(budget.wait_turn(scopes))
    await budget.wait_urgent(scopes)  # a result: through at once, although the window is full
    assert not progress.done()
    progress.cancel()
    assert budget.delay(scopes) > 29
    ended = asyncio.Event()
    waiting = asyncio.create_task(budget.wait_turn_unless(scopes, ended))
    ended.set()
    assert await waiting is False
    assert len(budget._scopes["channel:c"].calls) == 2  # the abandoned progress edit took no slot


async def test_retry_after_holds_progress_and_results_alike():
    budget = RateBudget({})
    budget.back_off(("workspace",), 0.3)
    assert budget.delay(("workspace", "channel:c")) > 0.25
    refused_at = budget.clock()
    await budget.wait_turn(("workspace", "channel:c"))
    assert budget.clock() - refused_at >= 0.3 - 1e-3
    budget.back_off(("workspace",), 0.2)
    refused_at = budget.clock()
    await budget.wait_urgent(("workspace",))
    assert budget.clock() - refused_at >= 0.2 - 1e-3
    assert budget.delay(("channel:other",)) == 0  # a scope that was not refused goes on
    budget.back_off(("channel:other",), 10**9)  # a hostile or broken Retry-After freezes nothing for good
    assert budget.delay(("channel:other",)) <= MAX_BACK_OFF_S


# ------------------------------------------------------------------------------------------ repeated events

async def test_an_event_id_is_taken_once_across_processes_and_expires(redis_prefix):
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_TEST_URL)
    try:
        first, second = SeenEvents(redis, redis_prefix), SeenEvents(redis, redis_prefix)  # two bot processes
        taken = await asyncio.gather(*(first.first_time("slack", "Ev1") for _ in range(3)))
        assert sorted(taken) == [False, False, True]  # concurrent deliveries: exactly one wins
        assert not await second.first_time("slack", "Ev1")  # a retry reaching another process
        assert await second.first_time("discord", "Ev1")  # another platform's id space
        assert await first.first_time("slack", None) and await first.first_time("slack", None)  # no id: always new
        ttl = await redis.ttl(f"{redis_prefix}:seen:slack:Ev1")
        assert 0 < ttl <= SEEN_TTL_S
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{redis_prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


@pytest.fixture
def redis_prefix():
    import uuid

    return f"wavetest-seen-{uuid.uuid4().hex[:8]}"


def test_one_wording_for_picture_formats_in_the_bots_and_the_command_line():
    from bot.slack.pictures import first_picture
    from pipeline.vision.intake import PICTURE_FORMATS, load_image

    wording = f"send a {PICTURE_FORMATS} photo"
    assert wording in check_upload("notes.txt", "text/plain", 10).message
    with pytest.raises(WaveInputError) as slack:
        first_picture([{"id": "F1", "name": "song.mp3", "mimetype": "audio/mpeg", "size": 10}])
    with pytest.raises(WaveInputError) as command_line:
        load_image(b"this is not a picture")
    assert wording in slack.value.user_message and wording in command_line.value.user_message


def test_gallery_titles_name_the_song_and_the_main_sounds_and_are_cut_at_a_word():
    from bot.common import MAX_TITLE_CHARS, gallery_title

    report = {"song": {"title": "Ode to Joy"}, "sessions": {
        "drums": {"effect": "door-1", "effect_name": "a heavy wooden door slammed in an empty stairwell"},
        "bass": {"effect": "kettle-1", "effect_name": "kettle"},
        "guitar": {"effect": "kettle-1", "effect_name": "kettle"},
        "keyboard": {"effect": "cup-1", "effect_name": "coffee cup"}}}
    title = gallery_title(report)
    assert title.startswith("Ode to Joy · a heavy wooden door") and len(title) <= MAX_TITLE_CHARS
    whole = "Ode to Joy · a heavy wooden door slammed in an empty stairwell, kettle, coffee cup"
    assert title.endswith("…") and whole.startswith(title[:-1]) and whole[len(title) - 1] == " "  # cut at a word
    short = {**report, "sessions": {k: v for k, v in report["sessions"].items() if k != "drums"}}
    assert gallery_title(short) == "Ode to Joy · kettle, coffee cup"  # one name per sound, at most three
    assert gallery_title(None) == "A WAVE mix"


def test_a_remap_is_told_with_names_and_only_the_changed_parts_are_marked():
    from bot.common import cast_summary, describe_change, roles

    names = {"chair-1": "old chair", "chair-10": "folding chair", "cup-1": "coffee cup"}
    assert describe_change("chair-1 moved keyboard -> drums; cup-1 moved drums -> keyboard", names) == \
        "old chair moved from keyboard to drums; coffee cup moved from drums to keyboard"
    assert describe_change("chair-10 now plays bass (instead of chair-1)", names) == \
        "folding chair now plays bass (replacing old chair)"
    before = {"sessions": {"drums": {"effect": "cup-1", "effect_name": "coffee cup", "reason": "(your choice)"},
                           "keyboard": {"effect": "chair-1", "effect_name": "old chair", "reason": "(your choice)"},
                           "bass": {"effect": "chair-10", "effect_name": "folding chair", "reason": "(your choice)"},
                           "guitar": {"effect": "cup-1", "effect_name": "coffee cup", "fallback": "borrowed"}}}
    after = {"sessions": {**before["sessions"],
                          "drums": {"effect": "chair-1", "effect_name": "old chair", "reason": "(your choice)"},
                          "keyboard": {"effect": "cup-1", "effect_name": "coffee cup", "reason": "(your choice)"}}}
    summary = cast_summary(after, before)
    assert "(your choice)" not in summary and summary.count("🔁 changed") == 2
    assert "**drums**: old chair — 🔁 changed (was coffee cup)" in summary
    assert "**bass**: folding chair\n" in summary + "\n"  # unchanged: no remark
    assert roles(after) == {"chair-1": Session.DRUMS, "chair-10": Session.BASS, "cup-1": Session.KEYBOARD}


# ------------------------------------------------------------------------------------------- progress lines

class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Estimates:
    async def wait_s(self, position: int) -> float:
        return position * 40.0


def _event(status: JobStatus, message: str = "", position: int | None = None) -> JobEvent:
    return JobEvent(job_id="j" * 32, status=status, progress=0.5, message=message, queue_position=position)


async def test_progress_lines_tell_the_wait_in_line_and_how_long_a_stage_has_run():
    clock = _Clock()
    lines = ProgressLines(_Estimates(), clock=clock)
    assert (await lines.text(_event(JobStatus.QUEUED, position=3))).endswith("3rd in line · about 2 min to wait")
    first = await lines.text(_event(JobStatus.BUILDING, "Building the drums from 'chair-1'"))
    clock.now += 4
    later = await lines.text(_event(JobStatus.BUILDING, "Building the drums from 'chair-1'"))
    assert first.startswith("Building the instruments…") and "· 0 s" in first and "· 4 s" in later
    assert later.endswith("\n↳ Building the drums")  # the worker's step, without the internal id
    clock.now += 1
    assert "· 0 s" in await lines.text(_event(JobStatus.PLAYING, "playing drums"))  # a new stage starts at 0


async def test_a_quiet_running_job_is_repeated_until_something_new_comes():
    release = asyncio.Event()

    async def events():
        yield _event(JobStatus.QUEUED, position=1)
        yield _event(JobStatus.CASTING)
        await release.wait()
        yield _event(JobStatus.DONE)

    seen = []
    async for event in ticking(events(), every_s=0.02):
        seen.append(event.status)
        if seen.count(JobStatus.CASTING) == 3:
            release.set()
    assert seen == [JobStatus.QUEUED] + [JobStatus.CASTING] * 3 + [JobStatus.DONE]


async def test_a_stopped_worker_is_said_once_in_the_progress_lines():
    from jobs.events import WORKER_LOST_MESSAGE

    text = await ProgressLines().text(_event(JobStatus.PLAYING, WORKER_LOST_MESSAGE))
    assert text.count(WORKER_LOST_MESSAGE) == 1 and "↳" not in text
