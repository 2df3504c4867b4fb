"""The buttons under a Slack result (🎲 🎵 ✏️ ⬇️ 🗑), the forms they open and what they do.

A button's action id names the action and its value carries the job id (checked before use), so buttons keep
working after a restart: the listeners are registered at start-up. Refusals and errors go only to the presser.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot import actions
from bot.actions import ResultAction
from bot.common import error_text, log_unexpected
from bot.slack.context import SlackContext, parse_message_ref
from jobs.actions import check_job_id, sheet_edit_text
from jobs.client import JobResult
from pipeline.errors import WaveInputError

if TYPE_CHECKING:
    from bot.delivery import Deliveries

log = logging.getLogger(__name__)

CONTROLS = "controls"  # the chat records' kind of the message holding the buttons
CONTROLS_TEXT = "Change this mix: a new sound, another song, an edited sheet; or take its instruments."
PICK_BLOCK = "pick"
SHEET_BLOCK = "sheet"
MAX_SLACK_INPUT_CHARS = 3000  # a plain_text_input holds at most this much
FORMS = {"sound": "wave:pick-sound", "song": "wave:pick-song", "edit": "wave:sheet"}
SLACK_UPLOAD_LIMIT = 1024 * 1024 * 1024  # Slack takes files up to 1 GB
DELETED_KINDS = ("source", "remap", CONTROLS, "gallery", "result", "request")


def controls_blocks(job_id: str) -> list[dict]:
    buttons = []
    for action in actions.RESULT_ACTIONS:
        button = {"type": "button", "action_id": f"wave:{action.name}", "value": job_id,
                  "text": {"type": "plain_text", "text": f"{action.emoji} {action.label}", "emoji": True}}
        if action is actions.DELETE:
            button["style"] = "danger"
            button["confirm"] = {"title": {"type": "plain_text", "text": "Delete this mix?"},
                                 "text": {"type": "plain_text", "text": "Its messages and files are removed."},
                                 "confirm": {"type": "plain_text", "text": "Delete"},
                                 "deny": {"type": "plain_text", "text": "Keep it"}, "style": "danger"}
        buttons.append(button)
    return [{"type": "actions", "block_id": "wave_controls", "elements": buttons}]


class Place:
    """Where a press happened: private answers go there (in its thread)."""

    def __init__(self, channel: str, thread_ts: str | None, user_id: str) -> None:
        self.channel, self.thread_ts, self.user_id = channel, thread_ts, user_id

    def to_metadata(self, job_id: str) -> str:
        return json.dumps({"job": job_id, "channel": self.channel, "thread": self.thread_ts})

    @classmethod
    def from_metadata(cls, metadata: str, user_id: str) -> tuple[str, Place]:
        data = json.loads(metadata or "{}")
        return check_job_id(str(data.get("job", ""))), cls(str(data.get("channel", "")), data.get("thread"), user_id)


class SlackButtons:
    def __init__(self, ctx: SlackContext, delivery: Deliveries) -> None:
        self.ctx = ctx
        self.delivery = delivery

    async def _tell(self, place: Place, text: str) -> None:
        await self.ctx.tell_privately(place.channel, place.user_id, text, thread_ts=place.thread_ts)

    async def _result_if_allowed(self, action: ResultAction, job_id: str, place: Place) -> JobResult | None:
        result = await self.ctx.jobs.result(job_id)
        is_admin = action.changes and place.user_id != result.owner and await self.ctx.is_admin(place.user_id)
        if not actions.may_change(action, place.user_id, result.owner, is_admin):
            await self._tell(place, actions.NOT_YOURS)
            return None
        return result

    async def pressed(self, name: str, job_id: str, place: Place, trigger_id: str) -> None:
        action = actions.ACTIONS_BY_NAME[name]
        try:
            result = await self._result_if_allowed(action, check_job_id(job_id), place)
            if result is None:
                return
            if name in FORMS:
                await self.ctx.client.views_open(trigger_id=trigger_id, view=self._form(name, result, place))
            elif name == "zip":
                await self._send_instruments(result, place)
            else:
                await self._delete(result, place)
        except WaveInputError as exc:
            await self._tell(place, error_text(exc.user_message))
        except Exception as exc:  # noqa: BLE001 - the presser hears of it with an id; the log has the rest
            await self._tell(place, error_text("That did not work.", log_unexpected(f"the {name} button", exc)))

    def _form(self, name: str, result: JobResult, place: Place) -> dict:
        if name == "edit":
            text = sheet_edit_text((s.variant_id, s.play_method) for s in result.sources)
            element = {"type": "plain_text_input", "action_id": SHEET_BLOCK, "multiline": True,
                       "initial_value": text[:MAX_SLACK_INPUT_CHARS], "max_length": MAX_SLACK_INPUT_CHARS}
            title, label = actions.SHEET_EDIT_TITLE, actions.SHEET_EDIT_LABEL
            block_id = SHEET_BLOCK
        else:
            choices = (actions.source_choices(result) if name == "sound"
                       else actions.song_choices(actions.playing_song(result)))
            element = {"type": "static_select", "action_id": PICK_BLOCK, "options": [
                {"text": {"type": "plain_text", "text": label}, "value": value} for value, label in choices]}
            title = "New sound" if name == "sound" else "Another song"
            label = actions.PICK_SOURCE if name == "sound" else actions.PICK_SONG
            block_id = PICK_BLOCK
        return {"type": "modal", "callback_id": FORMS[name], "private_metadata": place.to_metadata(result.job_id),
                "title": {"type": "plain_text", "text": title}, "submit": {"type": "plain_text", "text": "Go"},
                "blocks": [{"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
                            "element": element}]}

    async def submitted(self, callback_id: str, view: dict, user_id: str) -> dict | None:
        """A form sent back: None when it was taken, else the errors to show in the form."""
        job_id, place = Place.from_metadata(view.get("private_metadata", ""), user_id)
        values = (view.get("state") or {}).get("values") or {}
        action = {"wave:pick-sound": actions.NEW_SOUND, "wave:pick-song": actions.NEW_SONG}.get(
            callback_id, actions.EDIT_SHEET)
        block = SHEET_BLOCK if action is actions.EDIT_SHEET else PICK_BLOCK
        field = (values.get(block) or {}).get(block) or {}
        try:
            result = await self._result_if_allowed(action, job_id, place)
            if result is None:
                return None
            if action is actions.EDIT_SHEET:
                version = await self.ctx.jobs.edit_sheet(job_id, str(field.get("value") or ""))
                text = actions.NOTHING_CHANGED if version is None else actions.sheet_edit_started()
            else:
                choice = str((field.get("selected_option") or {}).get("value") or "")
                if action is actions.NEW_SOUND:
                    version = await self.ctx.jobs.new_sound(job_id, choice)
                    text = actions.new_sound_started(actions.source_name(result, choice))
                else:
                    version = await self.ctx.jobs.change_song(job_id, choice)
                    text = actions.new_song_started(dict(actions.song_choices(None)).get(choice, choice))
        except WaveInputError as exc:
            return {block: exc.user_message}
        if version is not None:
            self.delivery.watch_render(job_id, version)
        self.ctx.spawn(self._tell(place, text), "a private answer to a form")
        return None

    async def _send_instruments(self, result: JobResult, place: Place) -> None:
        path = await self.ctx.jobs.instruments_zip(result.job_id)
        if path.stat().st_size > SLACK_UPLOAD_LIMIT:
            await self._tell(place, error_text(actions.too_large_text(path.stat().st_size, SLACK_UPLOAD_LIMIT)))
            return
        await self.ctx.client.files_upload_v2(
            channel=place.channel, thread_ts=place.thread_ts, initial_comment=actions.INSTRUMENTS_TEXT,
            file_uploads=[{"file": str(path), "filename": f"wave-instruments-{result.job_id[:8]}.zip",
                           "title": "WAVE instruments (SFZ, SF2, samples)"}])

    async def _delete(self, result: JobResult, place: Place) -> None:
        for kind in DELETED_KINDS:
            for ref in await self.ctx.records.messages_for(result.job_id, kind):
                channel, ts = parse_message_ref(ref)
                try:
                    await self.ctx.client.chat_delete(channel=channel, ts=ts)
                except SlackApiError as exc:
                    log.info("message %s of deleted job %s stays: %s", ref, result.job_id, exc.response.get("error"))
        await self.ctx.jobs.delete(result.job_id)
        await self._tell(place, actions.DELETED)

