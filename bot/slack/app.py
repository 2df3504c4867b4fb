"""The Slack app: Bolt listeners for the ways in (/wave, message shortcut, mention), reactions and the gallery."""

from __future__ import annotations

import asyncio
import logging
import re

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.common import REMAP_DEBOUNCE_S, SLACK_HELP_TEXT, error_text, log_unexpected
from bot.debounce import RemapDebouncer
from bot.slack import gallery
from bot.slack.context import PLATFORM, SlackContext
from bot.slack.delivery import Delivery
from bot.slack.intake import split_mention, start_request
from bot.slack.pictures import complete, first_picture
from bot.slack.reactions import Reactions
from bot.slack.texts import home_view
from bot.slack.views import (
    IMAGE_BLOCK,
    PICTURE_SHORTCUT,
    REQUEST_CALLBACK,
    SONG_BLOCK,
    RequestOrigin,
    read_submission,
    request_modal,
    song_options,
)
from jobs.runtime import Runtime
from pipeline.errors import WaveInputError
from pipeline.types import Session
from wave_core.settings import Settings

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@[A-Z0-9]+>")
SWEEP_INTERVAL_S = 30.0


class SlackWave:
    """Bolt app plus the background work it needs: following jobs, debounced remaps, the delivery sweep."""

    def __init__(self, settings: Settings, runtime: Runtime, client: AsyncWebClient, *,
                 debounce_s: float = REMAP_DEBOUNCE_S, sweep_interval_s: float = SWEEP_INTERVAL_S) -> None:
        self.ctx = SlackContext.create(settings, runtime, client)
        self.delivery = Delivery(self.ctx)
        self.debouncer = RemapDebouncer(self._remap, delay=debounce_s)
        self.reactions = Reactions(self.ctx, self.debouncer)
        self.sweep_interval_s = sweep_interval_s
        self.app = AsyncApp(client=client, signing_secret=settings.slack_signing_secret or "",
                            process_before_response=False)
        self._register()

    async def start(self) -> None:
        """Deliver what finished while the app was away, and keep doing so."""
        self.ctx.spawn(self._sweep(), "slack delivery sweep")

    async def close(self) -> None:
        await self.debouncer.flush()
        await self.ctx.close()

    async def _sweep(self) -> None:
        while True:
            try:
                await self.delivery.deliver_pending()
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                log_unexpected("slack delivery sweep", exc)
            await asyncio.sleep(self.sweep_interval_s)

    async def _remap(self, job_id: str, moves: list[tuple[str, Session]]) -> None:
        self.ctx.spawn(self.delivery.remap(job_id, moves), "slack remap")

    def _start(self, **request) -> None:
        self.ctx.spawn(start_request(self.ctx, self.delivery, **request), "slack request")

    # ------------------------------------------------------------------------------------------- listeners

    def _register(self) -> None:
        app, ctx = self.app, self.ctx

        @app.middleware
        async def once_per_event(body: dict, request, next_) -> BoltResponse | None:
            """Slack sends an event again when it thinks the app missed it (``X-Slack-Retry-Num``); the same
            ``event_id`` is handled once, even when the retry reaches another process or comes after a restart."""
            event_id = body.get("event_id") if body.get("type") == "event_callback" else None
            if event_id and not await ctx.seen.first_time(PLATFORM, event_id):
                retry = (request.headers.get("x-slack-retry-num") or ["?"])[0]
                log.info("slack event %s came again (retry %s); already handled", event_id, retry)
                return BoltResponse(status=200, body="")
            await next_()
            return None

        @app.error
        async def on_error(error: Exception, body: dict) -> None:
            log_unexpected(f"slack {body.get('type') or body.get('command') or 'request'}", error)

        @app.command("/wave")
        async def wave_command(ack, body: dict, client: AsyncWebClient) -> None:
            text = (body.get("text") or "").strip()
            word, _, rest = text.partition(" ")
            team_id, user_id = body.get("team_id", ""), body["user_id"]
            if word.lower() == "help":
                await ack(text=SLACK_HELP_TEXT, response_type="ephemeral")
            elif word.lower() == "top":
                await ack(text=await gallery.top(ctx, team_id), response_type="ephemeral")
            elif word.lower() == "gallery":
                await ack(text=await gallery.set_gallery(ctx, team_id, user_id, rest), response_type="ephemeral")
            else:
                await ack()
                origin = RequestOrigin(channel=body["channel_id"])
                await client.views_open(trigger_id=body["trigger_id"], view=request_modal(origin, cue=text or None))

        @app.options(SONG_BLOCK)
        async def song_choices(ack, body: dict) -> None:
            await ack(options=song_options(body.get("value") or ""))

        @app.message_shortcut(PICTURE_SHORTCUT)
        async def picture_shortcut(ack, body: dict, client: AsyncWebClient) -> None:
            await ack()
            message = body.get("message") or {}
            channel, user_id = body["channel"]["id"], body["user"]["id"]
            try:
                file = first_picture(message.get("files") or [])
            except WaveInputError as exc:
                await ctx.tell_privately(channel, user_id, error_text(exc.user_message))
                return
            origin = RequestOrigin(channel=channel, thread_ts=message.get("thread_ts") or message["ts"],
                                   file_id=file["id"], file_name=file.get("name"))
            await client.views_open(trigger_id=body["trigger_id"], view=request_modal(origin))

        @app.view(REQUEST_CALLBACK)
        async def request_submitted(ack, body: dict, view: dict) -> None:
            request = read_submission(view)
            if request is None:
                await ack()
                return
            files = [{"id": request.origin.file_id}] if request.origin.file_id else request.files
            if not request.origin.file_id:
                try:  # type and size are checked before the modal closes, so the person can pick another file
                    first_picture([await complete(ctx, f) for f in files])
                except WaveInputError as exc:
                    await ack(response_action="errors", errors={IMAGE_BLOCK: exc.user_message})
                    return
            await ack()
            self._start(team_id=(body.get("team") or {}).get("id", ""), user_id=body["user"]["id"],
                        channel=request.origin.channel, thread_ts=request.origin.thread_ts, files=files,
                        song=request.song, cue=request.cue)

        @app.event("app_mention")
        async def mentioned(event: dict, body: dict, client: AsyncWebClient) -> None:
            text = MENTION.sub("", event.get("text") or "").strip()
            thread = event.get("thread_ts") or event["ts"]
            if text.lower() == "help" or not event.get("files"):
                hint = SLACK_HELP_TEXT if text.lower() == "help" else (
                    "Attach a photo to your message (`@WAVE [song] [a few words]`) and WAVE will make music from it.")
                await ctx.tell_privately(event["channel"], event["user"], hint, thread_ts=thread)
                return
            song, cue = split_mention(text)
            self._start(team_id=body.get("team_id") or event.get("team", ""), user_id=event["user"],
                        channel=event["channel"], thread_ts=thread, files=event["files"], song=song, cue=cue)

        @app.event("app_home_opened")
        async def home_opened(event: dict) -> None:
            if event.get("tab", "home") != "home":
                return
            user_id = event["user"]
            recent = await ctx.records.recent_jobs(user_id)
            links = {}
            for job in recent:
                ref = job.reply_ref or {}
                if ref.get("channel") and ref.get("ts"):
                    try:
                        links[job.job_id] = (await ctx.client.chat_getPermalink(
                            channel=ref["channel"], message_ts=ref["ts"]))["permalink"]
                    except SlackApiError:  # a removed message: the line stays, without its link
                        pass
            await ctx.client.views_publish(user_id=user_id, view=home_view(SLACK_HELP_TEXT, recent, links))

        @app.event("reaction_added")
        async def reaction_added(event: dict, body: dict) -> None:
            item = event.get("item") or {}
            if item.get("type") != "message":
                return
            await self.reactions.added(team_id=body.get("team_id", ""), user_id=event["user"],
                                       reaction=event["reaction"], channel=item["channel"], ts=item["ts"])

        @app.event("reaction_removed")
        async def reaction_removed(event: dict) -> None:
            item = event.get("item") or {}
            if item.get("type") == "message":
                await self.reactions.removed(user_id=event["user"], reaction=event["reaction"],
                                             channel=item["channel"], ts=item["ts"])
