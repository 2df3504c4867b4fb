"""Slack's side of delivery: the progress message becomes the result; the mix, the sheet and the casting go to its
thread with one message per sound and the session reactions; remaps are posted in the same thread. Claims, retries
and the sweep are :mod:`bot.delivery`'s."""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel, ValidationError
from slack_sdk.errors import SlackApiError

from bot.common import CANCELLED_TEXT, SESSION_SLACK_EMOJI, error_text, failure_text
from bot.delivery import Deliveries, Undeliverable, follow_timeout_s
from bot.progress import LiveText
from bot.records import RunningJob
from bot.slack.buttons import CONTROLS, CONTROLS_TEXT, controls_blocks
from bot.slack.context import SlackContext, message_ref, parse_message_ref
from bot.slack.live import LiveMessage
from bot.slack.texts import new_takes_comment, remap_done_text, remap_started_text, result_text, source_text
from bot.sound_updates import sound_updates
from jobs.client import JobResult, RenderResult, SourceResult
from pipeline.types import SESSIONS

log = logging.getLogger(__name__)

RESULT = "result"  # the request's progress message, which becomes the result: ⭐ shares it, ❌ cancels the job
SOURCE = "source"  # one sound of the job: session reactions move it
SOUNDS_COMMENT = "Each sound on its own; the messages below say what each one is."
# Slack's answers that refuse the call itself: the same call would be refused again.
REFUSALS = ("invalid_arguments", "invalid_blocks", "msg_too_long", "no_text", "too_many_attachments",
            "file_too_large", "invalid_file_type")


class ReplyRef(BaseModel):
    """Stored with the job (``reply_ref``): the progress message and the thread the result goes to."""

    channel: str
    ts: str
    thread_ts: str | None = None

    @property
    def thread(self) -> str:
        return self.thread_ts or self.ts


def create_deliveries(ctx: SlackContext) -> Deliveries:
    return Deliveries(SlackPort(ctx), ctx.jobs, ctx.records, estimates=ctx.estimates,
                      follow_timeout_s=follow_timeout_s(ctx.settings))


class SlackPort:
    def __init__(self, ctx: SlackContext) -> None:
        self.ctx = ctx

    def refused_for_good(self, error: BaseException) -> bool:
        return isinstance(error, SlackApiError) and error.response.get("error") in REFUSALS

    def resume(self, running: RunningJob) -> LiveText | None:
        return None  # a progress message left by an earlier run stays as it was; the sweep posts the result

    def _ref(self, result: JobResult) -> ReplyRef:
        ref = reply_ref(result)
        if ref is None:
            raise Undeliverable("the job has no Slack message to answer")
        return ref

    def _target(self, result: JobResult, live: LiveText | None) -> tuple[ReplyRef, LiveMessage]:
        """Where the job's answer goes, and its progress message (the one being followed, or the stored one)."""
        ref = self._ref(result)
        return ref, live if isinstance(live, LiveMessage) else self.ctx.live(ref.channel, ref.ts)

    async def post_cancelled(self, result: JobResult, live: LiveText | None) -> None:
        _, live = self._target(result, live)
        await live.show_now(CANCELLED_TEXT)

    async def post_failure(self, result: JobResult, live: LiveText | None) -> None:
        ref = self._ref(result)
        await self.ctx.tell_privately(ref.channel, result.owner, failure_text(result.error, result.error_id),
                                      thread_ts=ref.thread_ts, replacing_ts=ref.ts)

    async def post_result(self, result: JobResult, render: RenderResult, live: LiveText | None) -> str:
        """The progress message becomes the result; the mix, the sheet and the casting go to its thread."""
        ref, live = self._target(result, live)
        await live.show_now(result_text(result))
        await self._post_result_files(result, ref)
        controls = await self.ctx.client.chat_postMessage(channel=ref.channel, thread_ts=ref.thread,
                                                          text=CONTROLS_TEXT, blocks=controls_blocks(result.job_id))
        await self.ctx.records.remember_message(message_ref(ref.channel, controls["ts"]), result.job_id, CONTROLS)
        return message_ref(ref.channel, ref.ts)

    async def _post_result_files(self, result: JobResult, ref: ReplyRef) -> None:
        latest = result.latest
        uploads = [_upload(latest.mix_compressed or latest.mix, "wave-mix", f"{_title(latest)}")]
        if result.sheet:
            uploads.append(_upload(result.sheet, "sound-sheet", "Sound sheet (JSON)"))
        if latest.casting_png:
            uploads.append(_upload(latest.casting_png, "casting", "Who plays what"))
        await self.ctx.client.files_upload_v2(
            channel=ref.channel, thread_ts=ref.thread, file_uploads=[u for u in uploads if u],
            initial_comment="The mix, the sound sheet and the casting.",
        )

    async def post_sources(self, result: JobResult, posted_ref: str) -> None:
        """One message per sound in the result's thread, each with its sound and the session reactions."""
        ref, client = self._ref(result), self.ctx.client
        links = await self._share_sounds(ref, result.sources, SOUNDS_COMMENT)
        for index, source in enumerate(result.sources, start=1):
            posted = await client.chat_postMessage(
                channel=ref.channel, thread_ts=ref.thread, text=source_text(index, source, links.get(source.variant_id)),
                unfurl_links=False,
            )
            await self.ctx.records.remember_message(message_ref(ref.channel, posted["ts"]), result.job_id, SOURCE,
                                                    variant_id=source.variant_id)
            for session in SESSIONS:
                await client.reactions_add(channel=ref.channel, timestamp=posted["ts"], name=SESSION_SLACK_EMOJI[session])

    async def _share_sounds(self, ref: ReplyRef, sources: list[SourceResult], comment: str) -> dict[str, str]:
        """The sounds' files shared into the thread, so that everyone in the channel can play them (a file completed
        without a channel stays private to the uploader); returns variant id -> permalink, for their messages."""
        with_effect = [s for s in sources if s.effect]
        if not with_effect:
            return {}
        response = await self.ctx.client.files_upload_v2(
            channel=ref.channel, thread_ts=ref.thread, initial_comment=comment,
            file_uploads=[_upload(s.effect, s.variant_id, s.name) for s in with_effect],
        )
        return {source.variant_id: file["permalink"]
                for source, file in zip(with_effect, response.get("files") or []) if file.get("permalink")}

    async def _refresh_sources(self, result: JobResult, render: RenderResult, ref: ReplyRef) -> None:
        """After a new version, a sound made again is shared into the thread and its message links the new take.
        (Slack's sound messages leave the part each plays to the casting summaries, so a remap leaves them be.)"""
        renewed = {vid: u for vid, u in sound_updates(result, render).items() if u.renewed}
        if not renewed:
            return
        links = await self._share_sounds(ref, [u.source for u in renewed.values()], new_takes_comment(render.version))
        for message, variant_id in await self.ctx.records.source_messages(result.job_id):
            update = renewed.get(variant_id)
            if update is None:
                continue
            channel, ts = parse_message_ref(message)
            text = source_text(update.number, update.source, links.get(variant_id), new_take_in=render.version)
            try:
                await self.ctx.client.chat_update(channel=channel, ts=ts, text=text)
            except SlackApiError as error:  # one stale line must not undo the delivered mix
                log.warning("could not update the sound message %s: %s", message, error)

    async def post_render_failure(self, result: JobResult, render: RenderResult, live: LiveText | None) -> None:
        ref = self._ref(result)
        await self.ctx.tell_privately(
            ref.channel, result.owner, error_text(result.error or "The new mix could not be made.", result.error_id),
            thread_ts=ref.thread, replacing_ts=live.ts if isinstance(live, LiveMessage) else None)

    async def post_render(self, result: JobResult, render: RenderResult, live: LiveText | None) -> None:
        ref = self._ref(result)
        if not isinstance(live, LiveMessage):
            posted = await self.ctx.client.chat_postMessage(channel=ref.channel, thread_ts=ref.thread,
                                                            text=remap_started_text(result, render.change))
            live = self.ctx.live(ref.channel, posted["ts"])
        await live.show_now(remap_done_text(result, render))
        await self.ctx.client.files_upload_v2(
            channel=ref.channel, thread_ts=ref.thread,
            file_uploads=[_upload(render.mix_compressed or render.mix, f"wave-mix-v{render.version}",
                                  f"{_title(render)} (version {render.version})")],
        )
        await self._refresh_sources(result, render, ref)


def reply_ref(result: JobResult) -> ReplyRef | None:
    try:
        return ReplyRef.model_validate(result.reply_ref or {})
    except ValidationError:
        return None


def _title(render: RenderResult) -> str:
    song = (render.report or {}).get("song") or {}
    return song.get("title") or "WAVE mix"


def _upload(path: Path | None, stem: str, title: str) -> dict | None:
    if path is None:
        return None
    return {"file": str(path), "filename": f"{stem}{path.suffix}", "title": title}
