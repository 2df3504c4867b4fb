"""Progress while a job runs, and posting its results: once, even across restarts and after the token expires."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from bot.common import (
    PROGRESS_EDIT_INTERVAL_S,
    SESSION_EMOJI,
    error_text,
    log_unexpected,
    previous_render,
    roles,
)
from bot.discord import texts
from bot.discord.replies import Reply, attach, message_ref, parse_ref, plan_files
from bot.discord.views import progress_view
from bot.progress import ProgressLines, ticking
from db.models import JobStatus
from jobs.client import JobResult, RenderResult
from jobs.events import JobEvent

if TYPE_CHECKING:
    from bot.discord.app import WaveBot

log = logging.getLogger(__name__)

RETRY_AFTER_UNKNOWN_S = 1.0  # how long the channel's edits hold back after discord.py gave up on a rate limit


class Delivery:
    def __init__(self, bot: "WaveBot", *, progress_interval_s: float = PROGRESS_EDIT_INTERVAL_S) -> None:
        self.bot = bot
        self.progress_interval_s = progress_interval_s
        self._tasks: set[asyncio.Task] = set()
        self._watched: set[str] = set()

    # --------------------------------------------------------------------------------------------- watching

    def watch(self, job_id: str, reply: Reply, *, shown: str | None = None) -> None:
        """Show the job's progress in its reply, then deliver it. ``shown``: the text the reply was just given."""
        self._watched.add(job_id)
        self._spawn(self._watch_job(job_id, reply, shown))

    def watch_render(self, job_id: str, version: int) -> None:
        self._spawn(self._watch_render(job_id, version))

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _watch_job(self, job_id: str, reply: Reply, shown: str | None) -> None:
        latest: list[JobEvent] = []
        latest_text: list[str] = []
        changed = asyncio.Event()
        finished = asyncio.Event()
        lines = ProgressLines(self.bot.estimates)

        async def read() -> None:
            try:
                async for event in ticking(self.bot.jobs.events(job_id)):
                    latest[:], latest_text[:] = [event], [await lines.text(event)]
                    changed.set()
            finally:
                finished.set()
                changed.set()

        reader = asyncio.create_task(read())
        loop = asyncio.get_running_loop()
        last_edit = loop.time() if shown is not None else 0.0
        try:
            while not finished.is_set():
                await changed.wait()
                changed.clear()
                if finished.is_set() or not latest or latest[0].finished:
                    break
                if latest_text[0] == shown or not reply.token_alive:
                    continue
                # Discord asks for calm edits: at most one a second per reply and the channel's and bot's budgets,
                # always showing the newest state when the turn comes.
                await asyncio.sleep(max(0.0, last_edit + self.progress_interval_s - loop.time()))
                if not await self.bot.budget.wait_turn_unless(edit_scopes(reply.channel_id), finished):
                    break
                if finished.is_set() or latest[0].finished:
                    break
                if latest_text[0] == shown:
                    continue
                text = latest_text[0]
                last_edit = loop.time()
                try:
                    await reply.edit_original(text, view=progress_view(job_id))
                    shown = text
                except discord.HTTPException as error:
                    log.warning("progress edit of job %s failed: %s", job_id, error)
                    if error.status == 429:  # still rate-limited after discord.py's own retries: try again later
                        self.bot.budget.back_off(edit_scopes(reply.channel_id), RETRY_AFTER_UNKNOWN_S)
                        changed.set()
            await reader
            await self.deliver(job_id)
        except Exception as exc:  # a watcher must never take the bot down
            log_unexpected(f"watching job {job_id}", exc)
        finally:
            reader.cancel()
            self._watched.discard(job_id)

    async def _watch_render(self, job_id: str, version: int) -> None:
        try:
            async for event in self.bot.jobs.events(job_id):
                if event.finished:
                    break
            await self.deliver_render(job_id, version)
        except Exception as exc:
            log_unexpected(f"watching the remap of job {job_id}", exc)

    # --------------------------------------------------------------------------------------------- delivery

    async def deliver(self, job_id: str) -> None:
        """Post a finished job's result (or its failure) exactly once."""
        result = await self.bot.jobs.result(job_id)
        if result.status == JobStatus.CANCELLED:
            reply = Reply(self.bot, result.reply_ref, _int(result.channel_id))
            if await self.bot.records.claim_job_delivery(job_id):
                await _quietly(reply.edit_original("Cancelled.", view=None))
            return
        if not result.status.finished or not await self.bot.records.claim_job_delivery(job_id):
            return
        try:
            if result.status == JobStatus.DONE and result.latest is not None:
                await self._post_result(result, result.latest)
            else:
                await self._post_failure(result)
        except Exception:
            await self.bot.records.release_job_delivery(job_id)
            raise

    async def _post_failure(self, result: JobResult) -> None:
        text = error_text(result.error or "WAVE could not finish this one.", result.error_id)
        reply = Reply(self.bot, result.reply_ref, _int(result.channel_id))
        await self.bot.budget.wait_urgent(edit_scopes(reply.channel_id))
        if not await reply.answer_privately(text):  # the token expired: the channel is the only way back
            await reply.send_to_channel(f"{texts.mention(result.owner)} {text}")

    async def _post_result(self, result: JobResult, render: RenderResult) -> None:
        reply = Reply(self.bot, result.reply_ref, _int(result.channel_id))
        names = {}
        if render.mix_compressed:
            names[render.mix_compressed] = f"wave-mix{render.mix_compressed.suffix}"
        if result.sheet:
            names[result.sheet] = "sound-sheet.json"
        if render.casting_png:
            names[render.casting_png] = "casting.png"
        plan = plan_files([render.mix_compressed, result.sheet, render.casting_png])
        too_large = [names.get(p, p.name) for p in plan.too_large]
        first, rest = (plan.batches[0], plan.batches[1:]) if plan.batches else ([], [])

        content = texts.result_text(result, render, mention_owner=False, too_large=too_large)
        await self.bot.budget.wait_urgent(edit_scopes(reply.channel_id))
        message = await reply.edit_original(content, files=attach(first, names), view=None)
        if message is not None:
            channel_id = message.channel.id if message.channel else reply.channel_id
            for batch in rest:
                await reply.webhook().send(files=attach(batch, names), wait=True)
        else:
            content = texts.result_text(result, render, mention_owner=True, too_large=too_large)
            message = await reply.send_to_channel(content, files=attach(first, names))
            channel_id = message.channel.id
            for batch in rest:
                await reply.send_to_channel("", files=attach(batch, names))
        ref = message_ref(channel_id, message.id)
        await self.bot.records.remember_message(ref, result.job_id, "result", render_version=render.version)
        await self.bot.records.mark_all_renders_delivered(result.job_id)
        try:
            await self._post_sources(result, reply, channel_id, message.id)
        except discord.HTTPException as exc:
            # The result itself is out; a missing thread must not make the whole delivery repeat.
            log_unexpected(f"the sound thread of job {result.job_id}", exc)

    async def _post_sources(self, result: JobResult, reply: Reply, channel_id: int, message_id: int) -> None:
        """A thread under the result with one message per sound, each with the four session reactions."""
        channel = self.bot.get_partial_messageable(channel_id, guild_id=reply.guild_id, type=discord.ChannelType.text)
        thread = await channel.get_partial_message(message_id).create_thread(
            name=texts.thread_name(result), auto_archive_duration=1440)
        for source in result.sources:
            plan = plan_files([source.effect])
            files = attach(plan.batches[0], {source.effect: f"{source.variant_id}.wav"}) if plan.batches else []
            posted = await thread.send(texts.source_text(source), files=files)
            await self.bot.records.remember_message(message_ref(thread.id, posted.id), result.job_id, "source",
                                                    variant_id=source.variant_id)
            for emoji in SESSION_EMOJI.values():
                await posted.add_reaction(emoji)

    async def deliver_render(self, job_id: str, version: int) -> None:
        """Post a remapped mix in the job's thread, once."""
        result = await self.bot.jobs.result(job_id)
        render = next((r for r in result.renders if r.version == version), None)
        if render is None or render.status not in ("done", "failed"):
            return
        if not await self.bot.records.claim_render_delivery(job_id, version):
            return
        try:
            posted = await self._post_render(result, render)
        except Exception:
            await self.bot.records.release_render_delivery(job_id, version)
            raise
        if posted is not None:
            await self.bot.records.remember_message(message_ref(posted.channel.id, posted.id), job_id, "remap",
                                                    render_version=version)
            await self._refresh_sources(result, render)

    async def _refresh_sources(self, result: JobResult, render: RenderResult) -> None:
        """After a remap, each sound whose part changed says what it plays now."""
        before = previous_render(result.renders, render.version)
        now, then = roles(render.report), roles(before.report if before else None)
        by_variant = {s.variant_id: s for s in result.sources}
        for ref, variant_id in await self.bot.records.source_messages(result.job_id):
            source = by_variant.get(variant_id)
            if source is None or now.get(variant_id) == then.get(variant_id):
                continue
            channel_id, message_id = parse_ref(ref)
            role = now.get(variant_id)
            shown = source.model_copy(update={"session": role.value if role else None})
            await self.bot.budget.wait_urgent(edit_scopes(channel_id))
            try:
                await self.bot.get_partial_messageable(channel_id).get_partial_message(message_id).edit(
                    content=texts.source_text(shown))
            except discord.HTTPException as error:  # one stale line must not undo the delivered mix
                log.warning("could not update the sound message %s: %s", ref, error)

    async def _post_render(self, result: JobResult, render: RenderResult) -> discord.Message | None:
        channel = await self._thread_of(result)
        version = render.version
        if render.status != "done":
            await channel.send(error_text(f"The remap to version {version} could not be played.", result.error_id))
            return None
        names = {render.mix_compressed: f"wave-mix-v{version}{render.mix_compressed.suffix}"} if render.mix_compressed else {}
        plan = plan_files([render.mix_compressed])
        too_large = [names.get(p, p.name) for p in plan.too_large]
        files = attach(plan.batches[0], names) if plan.batches else []
        return await channel.send(texts.remap_text(result, render, too_large=too_large), files=files)

    async def _thread_of(self, result: JobResult) -> discord.PartialMessageable:
        refs = await self.bot.records.messages_for(result.job_id, "source")
        guild_id = _int((result.reply_ref or {}).get("guild_id"))
        channel_id = parse_ref(refs[0])[0] if refs else int(result.channel_id)
        return self.bot.get_partial_messageable(channel_id, guild_id=guild_id, type=discord.ChannelType.public_thread)

    # ------------------------------------------------------------------------------------------------ sweep

    async def sweep(self) -> None:
        """Deliver what finished without a live watcher: while the bot was down, or after a lost event."""
        for job_id in await self.bot.records.undelivered_jobs():
            if job_id in self._watched:
                continue
            try:
                await self.deliver(job_id)
            except Exception as exc:
                log_unexpected(f"delivering job {job_id}", exc)
        for job_id, version in await self.bot.records.undelivered_renders():
            try:
                await self.deliver_render(job_id, version)
            except Exception as exc:
                log_unexpected(f"delivering version {version} of job {job_id}", exc)

    async def resume_watching(self) -> None:
        """After a restart: progress again in the replies of jobs still being made, while their token lives.
        A reply whose token has expired stays as it is; the sweep posts the result in the channel."""
        for running in await self.bot.records.running_jobs():
            reply = Reply(self.bot, running.reply_ref, _int(running.channel_id))
            if running.job_id not in self._watched and reply.token_alive:
                self.watch(running.job_id, reply)

    async def sweep_forever(self, interval_s: float) -> None:
        await self.bot.wait_until_ready()
        try:
            await self.resume_watching()
        except Exception as exc:  # noqa: BLE001 - results still arrive through the sweep
            log_unexpected("resuming progress after a restart", exc)
        while True:
            try:
                await self.sweep()
            except Exception as exc:
                log_unexpected("the delivery sweep", exc)
            await asyncio.sleep(interval_s)


async def _quietly(coro) -> None:
    try:
        await coro
    except discord.HTTPException as error:
        log.info("could not update a reply: %s", error)


def _int(value) -> int | None:
    return int(value) if value not in (None, "") else None


def edit_scopes(channel_id: int | None) -> tuple[str, str]:
    return "global", f"channel:{channel_id}"


__all__ = ["Delivery"]
