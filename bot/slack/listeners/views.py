"""The request form submitted: the picture is checked before the form closes, then the request starts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.slack.pictures import complete, first_picture
from bot.slack.views import IMAGE_BLOCK, REQUEST_CALLBACK, read_submission
from pipeline.errors import WaveInputError

if TYPE_CHECKING:
    from bot.slack.app import SlackWave


def register(app: AsyncApp, wave: SlackWave) -> None:
    ctx = wave.ctx

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
        wave.start_request(team_id=(body.get("team") or {}).get("id", ""), user_id=body["user"]["id"],
                           channel=request.origin.channel, thread_ts=request.origin.thread_ts, files=files,
                           song=request.song, cue=request.cue)
