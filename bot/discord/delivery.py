"""Discord's side of delivery: the interaction reply edited as a job moves on, and results posted there (or in the
channel once the token has expired), with a thread of the job's sounds. Claims, retries and the sweep are
:mod:`bot.delivery`'s."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.common import CANCELLED_TEXT, SESSION_EMOJI, error_text, failure_text
from bot.delivery import Deliveries, Undeliverable, follow_timeout_s
from bot.discord import texts
from bot.discord.buttons import result_view
from bot.discord.live_reply import LiveReply, edit_scopes
from bot.discord.moves import move_view
from bot.discord.replies import Reply, attach, message_ref, optional_int, parse_ref, plan_files
from bot.progress import LiveText
from bot.records import RunningJob
from bot.sound_updates import SoundUpdate, sound_updates
from jobs.client import JobResult, RenderResult

if TYPE_CHECKING:
    from bot.discord.app import WaveBot

log = logging.getLogger(__name__)

REFUSED_STATUSES = (400, 413)  # the request itself breaks a rule (Invalid Form Body, too large): again is no better


def create_deliveries(bot: WaveBot) -> Deliveries:
    return Deliveries(DiscordPort(bot), bot.jobs, bot.records, estimates=bot.estimates,
                      follow_timeout_s=follow_timeout_s(bot.settings))


class DiscordPort:
    def __init__(self, bot: WaveBot) -> None:
        self.bot = bot

    def refused_for_good(self, error: BaseException) -> bool:
        return isinstance(error, discord.HTTPException) and error.status in REFUSED_STATUSES

    def resume(self, running: RunningJob) -> LiveText | None:
        """A reply whose token has expired stays as it is; the sweep posts the result in the channel."""
        reply = Reply(self.bot, running.reply_ref, optional_int(running.channel_id))
        return LiveReply(self.bot, reply, running.job_id) if reply.token_alive else None

    def _reply(self, result: JobResult) -> Reply:
        return Reply(self.bot, result.reply_ref, optional_int(result.channel_id))

    @staticmethod
    def _private(result: JobResult) -> bool:
        """A private reply (the server's private mode): everything goes to the requester only, never the channel."""
        return bool((result.reply_ref or {}).get("private"))

    def _private_reply(self, result: JobResult) -> Reply:
        reply = self._reply(result)
        if not reply.token_alive:
            raise Undeliverable("a private reply whose interaction token has expired has no private way back")
        return reply

    async def post_cancelled(self, result: JobResult, live: LiveText | None) -> None:
        await self._reply(result).edit_original(CANCELLED_TEXT, view=None)

    async def post_failure(self, result: JobResult, live: LiveText | None) -> None:
        text = failure_text(result.error, result.error_id)
        reply = self._private_reply(result) if self._private(result) else self._reply(result)
        await self.bot.budget.wait_urgent(edit_scopes(reply.channel_id))
        if not await reply.answer_privately(text):  # the token expired: the channel is the only way back
            if self._private(result):
                raise Undeliverable("the private reply's token expired")
            await reply.send_to_channel(f"{texts.mention(result.owner)} {text}")

    async def post_result(self, result: JobResult, render: RenderResult, live: LiveText | None) -> str:
        """The mix, the sheet and the casting in the reply (in the channel once its token has expired)."""
        reply = self._private_reply(result) if self._private(result) else self._reply(result)
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

        content = texts.result_text(result, render, mention_owner=False, too_large=too_large,
                                    private=self._private(result))
        await self.bot.budget.wait_urgent(edit_scopes(reply.channel_id))
        message = await reply.edit_original(content, files=attach(first, names), view=result_view(result.job_id))
        if message is None and self._private(result):
            raise Undeliverable("the private reply's token expired while posting")
        if message is not None:
            channel_id = message.channel.id if message.channel else reply.channel_id
            for batch in rest:
                await reply.webhook().send(files=attach(batch, names), wait=True, ephemeral=self._private(result))
        else:
            content = texts.result_text(result, render, mention_owner=True, too_large=too_large)
            message = await reply.send_to_channel(content, files=attach(first, names), view=result_view(result.job_id))
            channel_id = message.channel.id
            for batch in rest:
                await reply.send_to_channel("", files=attach(batch, names))
        ref = message_ref(channel_id, message.id)
        await self.bot.records.remember_message(ref, result.job_id, "result", render_version=render.version)
        return ref

    async def post_sources(self, result: JobResult, posted_ref: str) -> None:
        """A thread under the result with one message per sound, each with the four session reactions.
        A private result has no thread (an ephemeral message has none): its sounds follow it privately."""
        if self._private(result):
            await self._post_sources_privately(result)
            return
        channel_id, message_id = parse_ref(posted_ref)
        guild_id = optional_int((result.reply_ref or {}).get("guild_id"))
        channel = self.bot.get_partial_messageable(channel_id, guild_id=guild_id, type=discord.ChannelType.text)
        thread = await channel.get_partial_message(message_id).create_thread(
            name=texts.thread_name(result), auto_archive_duration=1440)
        for source in result.sources:
            plan = plan_files([source.effect])
            files = attach(plan.batches[0], {source.effect: f"{source.variant_id}.wav"}) if plan.batches else []
            sent = await thread.send(texts.source_text(source), files=files)
            await self.bot.records.remember_message(message_ref(thread.id, sent.id), result.job_id, "source",
                                                    variant_id=source.variant_id)
            for emoji in SESSION_EMOJI.values():
                await sent.add_reaction(emoji)

    async def _post_sources_privately(self, result: JobResult, reply: Reply | None = None, *,
                                      only: dict[str, SoundUpdate] | None = None, version: int | None = None) -> None:
        """The sounds as private messages, each with a select of the parts (an ephemeral message takes no reactions);
        with ``only``, just the sounds a new version made again, with their new files."""
        reply = reply or self._reply(result)
        if not reply.token_alive:
            return
        webhook = reply.webhook()
        for source in result.sources:
            if only is not None:
                if source.variant_id not in only:
                    continue
                source = only[source.variant_id].source
            plan = plan_files([source.effect])
            files = attach(plan.batches[0], {source.effect: f"{source.variant_id}.wav"}) if plan.batches else []
            text = texts.source_text(source, new_take_in=version, too_large=bool(plan.too_large))
            view = move_view(result.job_id, source.variant_id)
            await webhook.send(text, files=files, ephemeral=True, wait=True, **({"view": view} if view else {}))

    def _private_reply_for(self, result: JobResult, live: LiveText | None) -> Reply:
        """Where a private change is answered: the reply of whoever asked for it while its token lives (a moved
        sound's own pick), else the result's."""
        if isinstance(live, LiveReply) and live.reply.token_alive:
            return live.reply
        return self._private_reply(result)

    async def post_render(self, result: JobResult, render: RenderResult, live: LiveText | None) -> None:
        """The new mix in the job's thread; then each sound whose part changed says what it plays now, and a sound
        made again carries its new file. Privately: the new mix and the new sounds as private messages."""
        if self._private(result):
            reply = self._private_reply_for(result, live)
            names = {render.mix_compressed: f"wave-mix-v{render.version}{render.mix_compressed.suffix}"} \
                if render.mix_compressed else {}
            plan = plan_files([render.mix_compressed])
            await reply.webhook().send(
                texts.remap_text(result, render, too_large=[names.get(p, p.name) for p in plan.too_large]),
                files=attach(plan.batches[0], names) if plan.batches else [], ephemeral=True, wait=True)
            await self._end_change(live, f"✅ Version {render.version} is ready below.")
            renewed = {vid: u for vid, u in sound_updates(result, render).items() if u.renewed}
            if renewed:
                await self._post_sources_privately(result, reply, only=renewed, version=render.version)
            return
        channel = await self._thread_of(result)
        version = render.version
        names = {render.mix_compressed: f"wave-mix-v{version}{render.mix_compressed.suffix}"} if render.mix_compressed else {}
        plan = plan_files([render.mix_compressed])
        too_large = [names.get(p, p.name) for p in plan.too_large]
        files = attach(plan.batches[0], names) if plan.batches else []
        posted = await channel.send(texts.remap_text(result, render, too_large=too_large), files=files)
        await self.bot.records.remember_message(message_ref(posted.channel.id, posted.id), result.job_id, "remap",
                                                render_version=version)
        await self._end_change(live, f"✅ Version {render.version} is ready in the thread.")
        await self._refresh_sources(result, render)

    async def _end_change(self, live: LiveText | None, text: str) -> bool:
        """The private progress of a change someone asked for ends saying how it went; False when it cannot."""
        if not isinstance(live, LiveReply) or not live.reply.token_alive:
            return False
        await self.bot.budget.wait_urgent(edit_scopes(live.reply.channel_id))
        try:
            return await live.reply.edit_original(text, view=None) is not None
        except discord.HTTPException as error:  # the new version is out either way
            log.info("could not end the progress of job %s: %s", live.job_id, error)
            return False

    async def post_render_failure(self, result: JobResult, render: RenderResult, live: LiveText | None) -> None:
        text = error_text(f"Version {render.version} could not be played.", result.error_id)
        if self._private(result):
            if not await self._end_change(live, text):
                await self._private_reply(result).webhook().send(text, ephemeral=True, wait=True)
            return
        channel = await self._thread_of(result)
        await channel.send(text)
        await self._end_change(live, text)

    async def _refresh_sources(self, result: JobResult, render: RenderResult) -> None:
        """After a new version, each sound whose part changed says what it plays now, and a sound made again
        carries its new file in place of the old one."""
        updates = sound_updates(result, render)
        for ref, variant_id in await self.bot.records.source_messages(result.job_id):
            update = updates.get(variant_id)
            if update is None:
                continue
            channel_id, message_id = parse_ref(ref)
            edit: dict = {}
            too_large = False
            if update.renewed:
                plan = plan_files([update.source.effect])
                too_large = bool(plan.too_large)
                edit["attachments"] = attach(plan.batches[0], {update.source.effect: f"{variant_id}.wav"}) \
                    if plan.batches else []
            edit["content"] = texts.source_text(update.source, new_take_in=render.version if update.renewed else None,
                                                too_large=too_large)
            await self.bot.budget.wait_urgent(edit_scopes(channel_id))
            try:
                await self.bot.get_partial_messageable(channel_id).get_partial_message(message_id).edit(**edit)
            except discord.HTTPException as error:  # one stale line must not undo the delivered mix
                log.warning("could not update the sound message %s: %s", ref, error)

    async def _thread_of(self, result: JobResult) -> discord.PartialMessageable:
        refs = await self.bot.records.messages_for(result.job_id, "source")
        guild_id = optional_int((result.reply_ref or {}).get("guild_id"))
        channel_id = parse_ref(refs[0])[0] if refs else int(result.channel_id)
        return self.bot.get_partial_messageable(channel_id, guild_id=guild_id, type=discord.ChannelType.public_thread)


