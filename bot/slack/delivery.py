"""Following a job in its progress message and posting the result: the mix, the sheet, the casting, one message
per sound with the session reactions; later renders (remaps) are posted in the same thread."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ValidationError

from bot.common import SESSION_SLACK_EMOJI, error_text, log_unexpected
from bot.progress import ProgressLines, ticking
from bot.slack.context import SlackContext, message_ref
from bot.slack.live import LiveMessage
from bot.slack.texts import remap_done_text, remap_started_text, result_text, source_text
from db.models import JobStatus
from jobs.client import JobResult, RenderResult
from pipeline.errors import WaveInputError
from pipeline.types import SESSIONS, Session

log = logging.getLogger(__name__)

RESULT = "result"  # the request's progress message, which becomes the result: ⭐ shares it, ❌ cancels the job
SOURCE = "source"  # one sound of the job: session reactions move it
FOLLOW_MARGIN_S = 120


class ReplyRef(BaseModel):
    """Stored with the job (``reply_ref``): the progress message and the thread the result goes to."""

    channel: str
    ts: str
    thread_ts: str | None = None

    @property
    def thread(self) -> str:
        return self.thread_ts or self.ts


class Delivery:
    def __init__(self, ctx: SlackContext) -> None:
        self.ctx = ctx
        self._followed: Counter[str] = Counter()  # jobs this process follows live; the sweep leaves them alone

    @property
    def _follow_timeout_s(self) -> float:
        settings = self.ctx.settings
        return settings.gpu_stage_timeout_s + settings.cpu_stage_timeout_s + FOLLOW_MARGIN_S

    # --------------------------------------------------------------------------------------------- first result

    async def follow(self, job_id: str, live: LiveMessage) -> None:
        """Stage and queue position in place until the job ends, then the result."""
        self._followed[job_id] += 1
        try:
            lines = ProgressLines(self.ctx.estimates)
            async for event in ticking(self.ctx.jobs.events(job_id, timeout_s=self._follow_timeout_s)):
                if not event.finished:
                    live.show(await lines.text(event))
            await live.settle()
            await self.deliver_job(job_id, live)
        finally:
            self._unfollow(job_id)

    async def deliver_job(self, job_id: str, live: LiveMessage | None = None) -> None:
        """Post a finished job's result once, whoever asks first (the live follower or the restart sweep)."""
        records = self.ctx.records
        if not (await self.ctx.jobs.status(job_id)).finished:
            return  # still running (its follower gave up waiting): the sweep delivers it once it ends
        if not await records.claim_job_delivery(job_id):
            return
        try:
            result = await self.ctx.jobs.result(job_id)
            ref = _reply_ref(result)
            if ref is None:
                log.warning("job %s has no Slack message to answer; skipped", job_id)
                return
            live = live or self.ctx.live(ref.channel, ref.ts)
            if result.status == JobStatus.CANCELLED:
                await live.show_now("Cancelled.")
                return
            if result.status != JobStatus.DONE or result.latest is None:
                await self.ctx.tell_privately(ref.channel, result.owner, _failure_text(result),
                                              thread_ts=ref.thread_ts, replacing_ts=ref.ts)
                return
            await live.show_now(result_text(result))
            await self._post_result_files(result, ref)
            await self._post_sources(result, ref)
            await records.mark_all_renders_delivered(job_id)
        except BaseException:
            await records.release_job_delivery(job_id)
            raise

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

    async def _post_sources(self, result: JobResult, ref: ReplyRef) -> None:
        client = self.ctx.client
        with_effect = [s for s in result.sources if s.effect]
        links: dict[str, str] = {}
        if with_effect:
            # Uploaded without a channel, then linked from each sound's message, so every message carries its sound.
            response = await client.files_upload_v2(file_uploads=[
                _upload(s.effect, s.variant_id, s.name) for s in with_effect
            ])
            for source, file in zip(with_effect, response.get("files") or []):
                if file.get("permalink"):
                    links[source.variant_id] = file["permalink"]
        for index, source in enumerate(result.sources, start=1):
            posted = await client.chat_postMessage(
                channel=ref.channel, thread_ts=ref.thread, text=source_text(index, source, links.get(source.variant_id)),
                unfurl_links=False,
            )
            await self.ctx.records.remember_message(message_ref(ref.channel, posted["ts"]), result.job_id, SOURCE,
                                                    variant_id=source.variant_id)
            for session in SESSIONS:
                await client.reactions_add(channel=ref.channel, timestamp=posted["ts"], name=SESSION_SLACK_EMOJI[session])

    # ---------------------------------------------------------------------------------------------- remaps

    async def remap(self, job_id: str, moves: list[tuple[str, Session]]) -> None:
        """Apply debounced moves as one new render, follow it in the thread and post the new mix."""
        result = await self.ctx.jobs.result(job_id)
        ref = _reply_ref(result)
        if ref is None:
            return
        try:
            version = await self.ctx.jobs.remap_many(job_id, moves)
        except WaveInputError as exc:
            await self.ctx.tell_privately(ref.channel, result.owner, error_text(exc.user_message),
                                          thread_ts=ref.thread)
            return
        except Exception as exc:  # noqa: BLE001 - the person gets an error id, the log gets the details
            await self.ctx.tell_privately(ref.channel, result.owner, error_text(
                "The new mix could not be started; try again in a moment.", log_unexpected("slack remap", exc)),
                thread_ts=ref.thread)
            return
        result = await self.ctx.jobs.result(job_id)
        started = remap_started_text(result, next((r.change for r in result.renders if r.version == version), None))
        posted = await self.ctx.client.chat_postMessage(channel=ref.channel, thread_ts=ref.thread, text=started)
        live = self.ctx.live(ref.channel, posted["ts"], text=started)
        self._followed[job_id] += 1
        try:
            lines = ProgressLines(steps=False)
            async for event in ticking(self.ctx.jobs.events(job_id, timeout_s=self._follow_timeout_s)):
                if not event.finished and event.render_version in (None, version):
                    live.show(f"{started}\n{await lines.text(event)}")
            await live.settle()
            await self.deliver_render(job_id, version, live)
        finally:
            self._unfollow(job_id)

    def _unfollow(self, job_id: str) -> None:
        self._followed[job_id] -= 1
        if self._followed[job_id] <= 0:
            del self._followed[job_id]

    async def deliver_render(self, job_id: str, version: int, live: LiveMessage | None = None) -> None:
        records = self.ctx.records
        result = await self.ctx.jobs.result(job_id)
        render = next((r for r in result.renders if r.version == version), None)
        ref = _reply_ref(result)
        if render is None or render.status not in ("done", "failed") or ref is None:
            return  # still rendering; its own follower or the next sweep posts it
        if not await records.claim_render_delivery(job_id, version):
            return
        try:
            if render.status != "done":
                await self.ctx.tell_privately(
                    ref.channel, result.owner, error_text(result.error or "The new mix could not be made.",
                                                          result.error_id),
                    thread_ts=ref.thread, replacing_ts=live.ts if live else None)
                return
            if live is None:
                posted = await self.ctx.client.chat_postMessage(channel=ref.channel, thread_ts=ref.thread,
                                                                text=remap_started_text(result, render.change))
                live = self.ctx.live(ref.channel, posted["ts"])
            await live.show_now(remap_done_text(result, render))
            await self.ctx.client.files_upload_v2(
                channel=ref.channel, thread_ts=ref.thread,
                file_uploads=[_upload(render.mix_compressed or render.mix, f"wave-mix-v{version}",
                                      f"{_title(render)} (version {version})")],
            )
        except BaseException:
            await records.release_render_delivery(job_id, version)
            raise

    # ---------------------------------------------------------------------------------------------- restart

    async def deliver_pending(self) -> None:
        """Results that finished while nobody was following them (for example while the app was down)."""
        for job_id in await self.ctx.records.undelivered_jobs():
            if job_id not in self._followed:
                await self._try(self.deliver_job(job_id), f"delivering job {job_id}")
        for job_id, version in await self.ctx.records.undelivered_renders():
            if job_id not in self._followed:
                await self._try(self.deliver_render(job_id, version), f"delivering version {version} of job {job_id}")

    @staticmethod
    async def _try(delivery, what: str) -> None:
        """One result that cannot be posted is logged and tried again next round; the others still go out."""
        try:
            await delivery
        except Exception as exc:  # noqa: BLE001
            log_unexpected(what, exc)


def _reply_ref(result: JobResult) -> ReplyRef | None:
    try:
        return ReplyRef.model_validate(result.reply_ref or {})
    except ValidationError:
        return None


def _failure_text(result: JobResult) -> str:
    return error_text(result.error or "WAVE could not finish this one.", result.error_id)


def _title(render: RenderResult) -> str:
    song = (render.report or {}).get("song") or {}
    return song.get("title") or "WAVE mix"


def _upload(path: Path | None, stem: str, title: str) -> dict | None:
    if path is None:
        return None
    return {"file": str(path), "filename": f"{stem}{path.suffix}", "title": title}
