"""What both chat adapters share: where files may come from, which files count as pictures, debounced remaps."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from bot.common import check_upload
from bot.debounce import RemapDebouncer
from bot.download import fetch, host_allowed
from pipeline.errors import WaveInputError
from pipeline.types import Session

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
