"""A whole chat session on each platform, as people would play it, and what each of them saw.

Runs the real Discord bot (discord.py) and the real Slack app (Bolt, HTTP mode with signed requests) against the
local fakes (wave_testing/fake_discord.py, wave_testing/fake_slack.py), with Redis on 127.0.0.1:6379, SQLite and in-process lite
workers. On each platform: a request with its progress and result, a remap by reaction, the buttons there are, a
gallery share and a vote, and the error cases (not a picture, a broken picture, over the limit). Then it lists
every message a person could see, public or private to one person, and checks two rules:

- no error is public (an error line, "⚠️ …", is never shown in a public message, not even for a moment);
- no sound message is stale after a remap (a sound's message never names a part the sound no longer plays).

    python bench/scenario.py                       # both platforms; exit 1 on a broken rule
    python bench/scenario.py --platform slack      # one of them
    python bench/scenario.py --json                # rows for bench/run (violations per platform, target 0)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SONG = "row_your_boat"  # the shortest library song
RENDER_TIMEOUT_S = 300
STALE_GRACE_S = 5.0  # how long a sound's message may take to follow a remap before it counts as stale
ERROR_MARK = "⚠️"


# ---------------------------------------------------------------------------------------------- the transcript


@dataclass
class Seen:
    """One message as people saw it: who could see it, where, and every text it showed."""

    platform: str
    audience: str  # "public" or "private to <who>"
    where: str
    texts: list[str]
    files: list[str] = field(default_factory=list)
    sound_role: str | None = None  # for a sound's message: the part its text names now ("bench" when none)
    plays_now: str | None = None  # ... and the part the sound really plays in the latest mix

    @property
    def public(self) -> bool:
        return self.audience == "public"


@dataclass
class Transcript:
    platform: str
    seen: list[Seen] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def step(self, text: str) -> None:
        self.steps.append(text)
        print(f"[{self.platform}] {text}", file=sys.stderr, flush=True)

    def violations(self) -> list[str]:
        return find_violations(self.seen)

    def lines(self) -> list[str]:
        out = [f"== {self.platform}: {len(self.seen)} messages people could see"]
        for seen in self.seen:
            shown = " ⟶ ".join(_one_line(t) for t in _distinct(seen.texts)) or ("(files only)" if seen.files
                                                                                 else "(\"thinking…\" only)")
            files = f" [files: {', '.join(seen.files)}]" if seen.files else ""
            out.append(f"  {seen.audience:<22} {seen.where:<18} {shown}{files}")
        out += [f"  note: {note}" for note in self.notes]
        return out


def find_violations(seen: list[Seen]) -> list[str]:
    """The two rules, over everything shown."""
    problems = []
    for message in seen:
        if message.public and any(text.lstrip().startswith(ERROR_MARK) for text in message.texts):
            error = next(t for t in message.texts if t.lstrip().startswith(ERROR_MARK))
            problems.append(f"{message.platform}: a public error in {message.where}: {_one_line(error)}")
        if message.sound_role is not None and message.plays_now is not None and message.sound_role != message.plays_now:
            problems.append(f"{message.platform}: a stale sound message in {message.where}: it says "
                            f"{message.sound_role!r}, the sound plays {message.plays_now!r}")
    return problems


def _distinct(texts: list[str]) -> list[str]:
    return [t for i, t in enumerate(texts) if t and (i == 0 or t != texts[i - 1])]


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def until(condition: Callable[[], object], what: str, timeout: float = 60.0) -> object:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return value


async def until_async(condition: Callable[[], Awaitable[object]], what: str, timeout: float = 60.0) -> object:
    deadline = time.monotonic() + timeout
    while not (value := await condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return value


# ------------------------------------------------------------------------------------------------------ Discord

DISCORD_ROLE = re.compile(r"plays \S+ \*\*(\w+)\*\*")


def discord_sound_role(text: str) -> str | None:
    """The part a Discord sound message names ("bench" for one waiting on the bench); None for other messages."""
    if not text.startswith("🔊"):
        return None
    found = DISCORD_ROLE.search(text)
    return found[1] if found else "bench"


async def press_result_buttons(fake, result_message: dict, owner, other, transcript: Transcript) -> None:
    """The buttons under a result (new sound, another song, edit, download, delete): the owner downloads the band;
    someone else presses every button that would change or delete the mix and must be refused privately. A build
    without buttons gets a note, not a failure."""
    ids = [c["custom_id"] for row in result_message.get("components") or [] for c in row.get("components") or []
           if c.get("custom_id")]
    if not ids:
        transcript.notes.append("the result carries no buttons in this build (hook: press_result_buttons)")
        return
    for custom_id in ids:
        presser = owner if custom_id.startswith("wave:zip:") else other
        transcript.step(f"{presser.name} presses the result button {custom_id}")
        interaction = await fake.click(int(result_message["id"]), custom_id, presser)
        await until(lambda i=interaction: i.acked_at, f"the answer to {custom_id}", timeout=30)


async def discord_session(root: Path) -> Transcript:
    from bot.common import SESSION_EMOJI, STAR
    from bot.records import ChatRecords
    from pipeline.types import Session
    from wave_testing.discord_harness import bot_settings, clear_redis, photo_bytes, running_bot
    from wave_testing.fake_discord import EPHEMERAL, FakeDiscord
    from wave_testing.jobs_helpers import workers

    transcript = Transcript("discord")
    fake = FakeDiscord()
    await fake.start()
    settings = bot_settings(root, fake, max_concurrent_jobs_per_user=1, gpu_stage_timeout_s=180,
                            cpu_stage_timeout_s=240)
    try:
        async with running_bot(settings, fake) as bot, workers(settings):
            ana, bob, ada = fake.add_user("ana"), fake.add_user("bob"), fake.add_user("ada", admin=True)
            names = {u.id: u.name for u in (ana, bob, ada)}
            await fake.slash("wave-admin", ada, {"channel": fake.gallery}, subcommand="gallery")

            transcript.step("ana asks for a mix")
            request = await fake.slash("wave", ana, {"image": fake.upload("street.png", photo_bytes(0), "image/png"),
                                                     "song": SONG})
            reply = await until(lambda: (m := fake.original(request)) and (m["attachments"] or ERROR_MARK in
                                                                           m["content"]) and m,
                                "the result", RENDER_TIMEOUT_S)
            records = ChatRecords(bot.runtime, "discord")
            job_id = (await records.message(f"discord:{request.channel_id}:{request.original_id}")).job_id
            result = await bot.jobs.result(job_id)
            thread_id = int(reply["id"])
            await until(lambda: len([m for m in fake.messages_in(thread_id) if m["content"].startswith("🔊")])
                        == len(result.sources), "the sound messages")
            await press_result_buttons(fake, reply, ana, bob, transcript)

            transcript.step("ana moves a sound from the bench to the drums")
            sounds = {m["attachments"][0]["filename"].removesuffix(".wav"): m
                      for m in fake.messages_in(thread_id) if m["content"].startswith("🔊") and m["attachments"]}
            moved = next(s for s in result.sources if s.session != Session.DRUMS.value and s.variant_id in sounds)
            await fake.react(int(sounds[moved.variant_id]["id"]), SESSION_EMOJI[Session.DRUMS], ana)
            await until(lambda: any("version 2" in m["content"] for m in fake.messages_in(thread_id)),
                        "the new mix", RENDER_TIMEOUT_S)
            latest = await bot.jobs.result(job_id)
            plays = {s.variant_id: s.session or "bench" for s in latest.sources}
            try:  # the sound messages follow within a moment; what is left after that is stale
                await until(lambda: all(discord_sound_role(m["content"]) == plays[v] for v, m in sounds.items()),
                            "the sound messages to follow the remap", STALE_GRACE_S)
            except TimeoutError:
                pass

            transcript.step("bob asks twice at once, then presses Cancel on the first")
            first = await fake.slash("wave", bob, {"image": fake.upload("a.png", photo_bytes(7), "image/png"),
                                                   "song": SONG})
            await until(lambda: (m := fake.original(first)) and m["components"], "bob's progress")
            second = await fake.slash("wave", bob, {"image": fake.upload("b.png", photo_bytes(8), "image/png"),
                                                    "song": SONG})
            await until(lambda: fake.private_answer(second), "the private refusal of bob's second request")
            progress = fake.original(first)
            cancel_id = progress["components"][0]["components"][0]["custom_id"]
            await fake.click(int(progress["id"]), cancel_id, bob)
            await until(lambda: fake.messages[int(progress["id"])]["content"] == "Cancelled.", "the cancel")

            transcript.step("ana shares her mix to the gallery; bob votes; ana stars her own post")
            await fake.react(int(reply["id"]), STAR, ana)
            post = await until(lambda: next(iter(fake.messages_in(fake.gallery)), None), "the gallery post")
            await until_async(lambda: gallery_post_recorded(bot.runtime), "the gallery post to be recorded")
            await fake.react(int(post["id"]), STAR, bob)
            await fake.react(int(post["id"]), STAR, ana)
            await until_async(lambda: votes(bot.runtime, 1), "bob's vote")
            top = await fake.slash("wave-top", bob, {})
            await until(lambda: top.acked_at and (fake.original(top) or {}).get("content"), "/wave-top")

            transcript.step("errors: not a picture, a broken picture")
            notes = await fake.slash("wave", bob, {"image": fake.upload("notes.txt", b"hello", "text/plain")})
            await until(lambda: notes.acked_at, "the refusal of a text file")
            broken = await fake.slash("wave", bob, {"image": fake.upload("broken.png", b"\x89PNG broken", "image/png"),
                                                    "song": SONG})
            await until(lambda: fake.private_answer(broken), "the refusal of a broken picture")
            await asyncio.sleep(0.5)  # reactions and edits still on their way

            latest = await bot.jobs.result(job_id)
            plays = {s.variant_id: s.session or "bench" for s in latest.sources}
            transcript.seen = discord_seen(fake, names, plays, EPHEMERAL)
    finally:
        await clear_redis(settings)
        await fake.stop()
    return transcript


async def gallery_post_recorded(runtime) -> bool:
    """Votes count once the post is known as a gallery post (people star what they see; the scenario waits)."""
    from sqlalchemy import select

    from db.models import GalleryEntry

    async with runtime.db() as db:
        return await db.scalar(select(GalleryEntry.id).where(GalleryEntry.message_ref.is_not(None))) is not None


async def votes(runtime, count: int) -> bool:
    from sqlalchemy import func, select

    from db.models import Vote

    async with runtime.db() as db:
        return await db.scalar(select(func.count()).select_from(Vote)) == count


def discord_seen(fake, names: dict[int, str], plays: dict[str, str], ephemeral_flag: int) -> list[Seen]:
    owners = {i.original_id: i.user for i in fake.interactions.values() if i.original_id}
    owners.update({m_id: i.user for i in fake.interactions.values()
                   for m_id, m in fake.messages.items() if m.get("_interaction") == i.id})
    channel_names = {int(c["id"]): "#thread" if c.get("type") == 11 else f"#{c.get('name')}"
                     for c in fake.channels.values()}
    seen = []
    for message_id, message in sorted(fake.messages.items()):
        if int(message["author"]["id"]) != fake.bot.id:
            continue
        private = message["flags"] & ephemeral_flag
        user = owners.get(message_id)
        audience = f"private to {names.get(user.id, user.name) if user else '?'}" if private else "public"
        texts = [text for _, text in message["_edits"]] or [message["content"]]
        if message["content"] not in texts:
            texts.append(message["content"])
        files = [a["filename"] for a in message["attachments"]]
        role = discord_sound_role(message["content"])
        variant = files[0].removesuffix(".wav") if role is not None and files else None
        seen.append(Seen("discord", audience, channel_names.get(int(message["channel_id"]), "?")
                         + (" (deleted)" if message.get("_deleted") else ""), texts, files, role,
                         plays.get(variant) if variant else None))
    return seen


# -------------------------------------------------------------------------------------------------------- Slack


def slack_sound_role(text: str) -> str | None:
    """Slack's sound messages name no part (the casting summaries do): nothing there can go stale."""
    return None


async def press_slack_buttons(harness, channel: str, thread_ts: str, job_id: str, owner: str, other: str,
                              transcript: Transcript) -> None:
    """The buttons under a Slack result: the owner downloads the band; someone else presses every button that
    would change or delete the mix and is refused privately."""
    from bot import actions
    from bot.slack.buttons import CONTROLS_TEXT
    from wave_testing.slack_helpers import press

    fake, send = harness.fake, harness.send
    controls = await until(
        lambda: next((m for m in fake.thread(channel, thread_ts) if m.text == CONTROLS_TEXT), None),
        "the result's buttons")
    for action in actions.RESULT_ACTIONS:
        presser = owner if action.name == "zip" else other
        answers = len(fake.private_to(presser))
        transcript.step(f"{'ana' if presser == owner else 'bob'} presses the result button {action.name}")
        await send.interaction(press(action.name, job_id, presser, controls, fake.trigger()))
        if action.name == "zip":
            await until(lambda: any(m.text == actions.INSTRUMENTS_TEXT and m.files
                                    for m in fake.thread(channel, thread_ts)),
                        "the band's instruments", RENDER_TIMEOUT_S)
        else:
            await until(lambda n=answers: len(fake.private_to(presser)) > n, f"the refusal of {action.name}", 30)


async def slack_session(root: Path) -> Transcript:
    from wave_testing.fake_slack import BOT_USER
    from wave_testing.jobs_helpers import picture_bytes
    from wave_testing.slack_app import running_slack_app
    from wave_testing.slack_helpers import SESSION_EMOJI, job_for, sources_of, wait_delivered

    transcript = Transcript("slack")
    channel, gallery = "C0SCENE", "C0GALLERY"
    owner, other, voter, admin = "U0ANA", "U0BOB", "U0CARL", "U0ADA"
    async with running_slack_app(root, token="xoxb-scenario", admins={admin}, queue_label="wavescenario",
                                 debounce_s=0.5, gpu_stage_timeout_s=180, cpu_stage_timeout_s=240) as harness:
        fake, send, slack, runtime = harness.fake, harness.send, harness.slack, harness.runtime
        await send.command(f"gallery <#{gallery}|gallery>", user=admin, channel=channel, trigger_id=fake.trigger())

        async def mention(user: str, picture: bytes | None, name: str = "photo.png"):
            files = [fake.add_file(name, "image/png", picture)] if picture is not None else []
            message = fake.user_message(channel, user, f"<@{BOT_USER}> {SONG}", files=files)
            await send.event({"type": "app_mention", "user": user, "channel": channel, "ts": message.ts,
                              "text": message.text, "files": files})
            return message

        transcript.step("ana mentions WAVE with a photo")
        asked = await mention(owner, picture_bytes(seed=2, size=128))
        progress = await until(lambda: next(iter(fake.thread(channel, asked.ts)), None), "the progress message")
        thread = await asyncio.wait_for(wait_delivered(runtime, fake, channel, progress), RENDER_TIMEOUT_S)
        job = await job_for(runtime, channel, progress.ts)
        result = await slack.ctx.jobs.result(job.id)
        await press_slack_buttons(harness, channel, asked.ts, job.id, owner, other, transcript)

        transcript.step("ana moves a sound to the drums")
        sounds = sources_of(thread)
        index = next(i for i, s in enumerate(result.sources) if s.session != "drums")
        await send.reaction(owner, SESSION_EMOJI[0], channel, sounds[index].ts)
        await until(lambda: any(m.text.startswith("🔁 Version 2") for m in fake.thread(channel, asked.ts)),
                    "the new mix", RENDER_TIMEOUT_S)

        transcript.step("bob asks twice at once, then cancels the first with ❌")
        first = await mention(other, picture_bytes(seed=7, size=96), "one.png")
        first_progress = await until(lambda: next(iter(fake.thread(channel, first.ts)), None), "bob's progress")
        await job_for(runtime, channel, first_progress.ts)
        answered_bob = len(fake.private_to(other))
        await mention(other, picture_bytes(seed=8, size=96), "two.png")
        await until(lambda: len(fake.private_to(other)) > answered_bob, "the private refusal of bob's second request")
        await send.reaction(other, "x", channel, first_progress.ts)
        await until(lambda: fake.messages[(channel, first_progress.ts)].text == "Cancelled.", "the cancel")

        transcript.step("ana shares her mix to the gallery; carl votes; ana stars her own post")
        await send.reaction(owner, "star", channel, progress.ts)
        post = await until(lambda: next((m for m in fake.bot_messages(gallery) if m.thread_ts is None), None),
                           "the gallery post")
        await until_async(lambda: gallery_post_recorded(runtime), "the gallery post to be recorded")
        await send.reaction(voter, "star", gallery, post.ts)
        await send.reaction(owner, "star", gallery, post.ts)
        await until_async(lambda: votes(runtime, 1), "carl's vote")

        transcript.step("errors: no photo, a broken picture")
        await mention(voter, None)
        await until(lambda: fake.private_to(voter), "the hint to attach a photo")
        await mention(voter, b"\x89PNG broken", "broken.png")
        await until(lambda: len(fake.private_to(voter)) >= 2, "the refusal of a broken picture")
        await asyncio.sleep(0.5)

        transcript.seen = slack_seen(fake, BOT_USER, {owner: "ana", other: "bob", voter: "carl", admin: "ada"},
                                     {channel: "#main", gallery: "#gallery"})
    return transcript


def slack_seen(fake, bot_user: str, names: dict[str, str], channels: dict[str, str]) -> list[Seen]:
    seen = []
    public = [m for m in fake.messages.values() if m.user == bot_user] + list(fake.deleted)
    for message in sorted(public, key=lambda m: float(m.ts)):
        texts = [text for _, text in message.edits] or [message.text]  # the first text is kept only if never edited
        where = channels.get(message.channel, message.channel) + (" thread" if message.thread_ts else "")
        if message in fake.deleted:
            where += " (deleted)"
        seen.append(Seen("slack", "public", where, texts, [fake.files[f].name for f in message.files],
                         slack_sound_role(message.text)))
    for user, message in fake.ephemerals:
        seen.append(Seen("slack", f"private to {names.get(user, user)}",
                         channels.get(message.channel, message.channel), [message.text]))
    return seen


# --------------------------------------------------------------------------------------------------------- main

SESSIONS: dict[str, Callable[[Path], Awaitable[Transcript]]] = {"discord": discord_session, "slack": slack_session}


async def run_scenario(root: Path, platforms: list[str]) -> list[Transcript]:
    transcripts = []
    for platform in platforms:
        (root / platform).mkdir(parents=True, exist_ok=True)
        transcripts.append(await SESSIONS[platform](root / platform))
    return transcripts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Play a whole chat session on each platform and check what people saw.")
    parser.add_argument("--platform", choices=sorted(SESSIONS), action="append", help="only this platform")
    parser.add_argument("--json", action="store_true", help="print bench rows (one per platform)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        transcripts = asyncio.run(run_scenario(Path(tmp), args.platform or list(SESSIONS)))
    broken = 0
    for transcript in transcripts:
        problems = transcript.violations()
        broken += len(problems)
        if args.json:
            print(json.dumps({"measure": f"chat scenario on {transcript.platform}: broken rules", "wave": len(problems),
                              "reference": None, "target": "0 (no public error, no stale sound)", "ok": not problems,
                              "note": "; ".join([f"{len(transcript.seen)} messages seen", *problems])[:300]}))
            continue
        print("\n".join(transcript.lines()))
        print("\n".join(f"  VIOLATION: {p}" for p in problems) or "  no rule broken")
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
