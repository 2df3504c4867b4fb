"""The buttons under a Discord result (🎲 🎵 ✏️ ⬇️ 🗑) and the choices they open.

Buttons and selects are dynamic items: their custom ids carry the action and the job, and the bot registers the
templates at start-up, so they answer after a restart. Every refusal and error is private to the person who pressed.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord

from bot import actions
from bot.actions import ACTION_NAMES, ACTIONS_BY_NAME, JOB_ID_PATTERN, ResultAction
from bot.common import error_text, log_unexpected
from bot.discord.access import interaction_is_admin
from bot.discord.live_reply import change_reply
from bot.discord.once import first_time
from bot.discord.replies import parse_ref
from jobs.actions import MAX_SHEET_EDIT_CHARS, sheet_edit_text
from jobs.client import JobResult
from pipeline.errors import WaveInputError

if TYPE_CHECKING:
    from bot.discord.app import WaveBot

log = logging.getLogger(__name__)

DELETED_KINDS = ("source", "remap", "gallery", "result", "request")  # the thread first, the reply last


def result_view(job_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in actions.RESULT_ACTIONS:
        view.add_item(ResultButton(action, job_id))
    return view


async def _private(interaction: discord.Interaction, text: str, **kwargs) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(text, ephemeral=True, **kwargs)


async def guarded(interaction: discord.Interaction, action: ResultAction, job_id: str, work) -> None:
    """Checks who pressed, runs ``work(result)`` and turns every failure into a private message."""
    bot: WaveBot = interaction.client
    try:
        result = await bot.jobs.result(job_id)
        if not actions.may_change(action, str(interaction.user.id), result.owner, interaction_is_admin(interaction)):
            await _private(interaction, actions.NOT_YOURS)
            return
        await work(result)
    except WaveInputError as exc:
        await _private(interaction, error_text(exc.user_message))
    except Exception as exc:  # noqa: BLE001 - the person hears of it with an id; the log has the rest
        error_id = log_unexpected(f"the {action.name} button", exc)
        try:
            await _private(interaction, error_text("That did not work.", error_id))
        except discord.HTTPException:
            pass


class ResultButton(discord.ui.DynamicItem[discord.ui.Button],
                   template=rf"wave:(?P<action>{ACTION_NAMES}):(?P<job_id>{JOB_ID_PATTERN})"):
    def __init__(self, action: ResultAction, job_id: str) -> None:
        style = discord.ButtonStyle.danger if action is actions.DELETE else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=action.label, emoji=action.emoji, style=style,
                                           custom_id=f"wave:{action.name}:{job_id}"))
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> ResultButton:
        return cls(ACTIONS_BY_NAME[match["action"]], match["job_id"])

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await first_time(interaction)

    async def callback(self, interaction: discord.Interaction) -> None:
        handler = {"sound": self._sound, "song": self._song, "edit": self._edit, "zip": self._zip,
                   "delete": self._delete}[self.action.name]
        await guarded(interaction, self.action, self.job_id, lambda result: handler(interaction, result))

    async def _sound(self, interaction: discord.Interaction, result: JobResult) -> None:
        choices = actions.source_choices(result)
        await _private(interaction, actions.PICK_SOURCE, view=_choice_view("sound", self.job_id, choices))

    async def _song(self, interaction: discord.Interaction, result: JobResult) -> None:
        choices = actions.song_choices(actions.playing_song(result))
        await _private(interaction, actions.PICK_SONG, view=_choice_view("song", self.job_id, choices))

    async def _edit(self, interaction: discord.Interaction, result: JobResult) -> None:
        text = sheet_edit_text((s.variant_id, s.play_method) for s in result.sources)
        await interaction.response.send_modal(SheetModal(self.job_id, text))

    async def _zip(self, interaction: discord.Interaction, result: JobResult) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        path = await interaction.client.jobs.instruments_zip(self.job_id)
        size, limit = path.stat().st_size, interaction.filesize_limit
        if size > limit:
            await _private(interaction, error_text(actions.too_large_text(size, limit)))
            return
        await _private(interaction, actions.INSTRUMENTS_TEXT,
                       file=discord.File(path, filename=f"wave-instruments-{self.job_id[:8]}.zip"))

    async def _delete(self, interaction: discord.Interaction, result: JobResult) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot: WaveBot = interaction.client
        threads: set[int] = set()
        for kind in DELETED_KINDS:
            for ref in await bot.records.messages_for(self.job_id, kind):
                channel_id, message_id = parse_ref(ref)
                if kind in ("source", "remap"):
                    threads.add(channel_id)
                try:
                    await bot.get_partial_messageable(channel_id).get_partial_message(message_id).delete()
                except (discord.NotFound, discord.Forbidden) as error:
                    log.info("message %s of deleted job %s stays: %s", ref, self.job_id, error)
        for thread_id in threads:
            try:
                await bot.http.delete_channel(thread_id, reason="its WAVE mix was deleted")
            except discord.HTTPException as error:
                log.info("thread %s of deleted job %s stays: %s", thread_id, self.job_id, error)
        await bot.jobs.delete(self.job_id)
        await _private(interaction, actions.DELETED)


def _where(result: JobResult) -> str:
    """Where a change's new mix comes: a private result's changes come in the private answer to the press."""
    return actions.HERE if (result.reply_ref or {}).get("private") else actions.IN_THE_THREAD


def _choice_view(kind: str, job_id: str, choices: list[tuple[str, str]]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    options = [discord.SelectOption(label=label[:100], value=value) for value, label in choices]
    view.add_item(ResultChoice(kind, job_id, discord.ui.Select(custom_id=f"wave:pick-{kind}:{job_id}", options=options,
                                                               placeholder="Choose…")))
    return view


class ResultChoice(discord.ui.DynamicItem[discord.ui.Select],
                   template=rf"wave:pick-(?P<kind>sound|song):(?P<job_id>{JOB_ID_PATTERN})"):
    """The sound for a new take, or the song for the band: what the 🎲 and 🎵 buttons open."""

    def __init__(self, kind: str, job_id: str, item: discord.ui.Select) -> None:
        super().__init__(item)
        self.kind = kind
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Select,
                             match: re.Match[str]) -> ResultChoice:
        return cls(match["kind"], match["job_id"], item)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await first_time(interaction)

    async def callback(self, interaction: discord.Interaction) -> None:
        values = list(self.item.values) or list((interaction.data or {}).get("values") or [])
        action = actions.NEW_SOUND if self.kind == "sound" else actions.NEW_SONG

        async def choose(result: JobResult) -> None:
            if len(values) != 1:
                raise WaveInputError("Choose one.")
            bot: WaveBot = interaction.client
            if self.kind == "sound":
                version = await bot.jobs.new_sound(self.job_id, values[0])
                text = actions.new_sound_started(actions.source_name(result, values[0]), _where(result))
            else:
                version = await bot.jobs.change_song(self.job_id, values[0])
                titles = dict(actions.song_choices(None))
                text = actions.new_song_started(titles.get(values[0], values[0]), _where(result))
            await interaction.response.edit_message(content=text, view=None)
            bot.delivery.watch_render(self.job_id, version, change_reply(bot, interaction, self.job_id, text),
                                      heading=text)

        await guarded(interaction, action, self.job_id, choose)


class SheetModal(discord.ui.Modal):
    """The sheet as ``sound-id: play method`` lines; what changed is made again."""

    def __init__(self, job_id: str, text: str) -> None:
        super().__init__(title=actions.SHEET_EDIT_TITLE, custom_id=f"wave:sheet:{job_id}", timeout=900)
        self.job_id = job_id
        self.sheet = discord.ui.TextInput(label=actions.SHEET_EDIT_LABEL, style=discord.TextStyle.paragraph,
                                          default=text[:MAX_SHEET_EDIT_CHARS], max_length=MAX_SHEET_EDIT_CHARS)
        self.add_item(self.sheet)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        async def apply(result: JobResult) -> None:
            bot: WaveBot = interaction.client
            version = await bot.jobs.edit_sheet(self.job_id, self.sheet.value)
            if version is None:
                await _private(interaction, actions.NOTHING_CHANGED)
                return
            text = actions.sheet_edit_started(_where(result))
            await _private(interaction, text)
            bot.delivery.watch_render(self.job_id, version, change_reply(bot, interaction, self.job_id, text),
                                      heading=text)

        await guarded(interaction, actions.EDIT_SHEET, self.job_id, apply)
