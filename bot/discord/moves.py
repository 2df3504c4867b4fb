"""Moving a sound to another part where reactions cannot go: a private result's messages are ephemeral and take no
reactions, so each of its sounds carries a select of the parts instead. A pick is a remap like a reaction's, and its
progress and new mix come in the picker's own private reply (a fresh interaction, so it works after the result's
own reply has expired)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord

from bot import actions
from bot.actions import JOB_ID_PATTERN
from bot.common import SESSION_EMOJI
from bot.discord.buttons import guarded
from bot.discord.live_reply import change_reply
from bot.discord.once import first_time
from jobs.client import JobResult
from pipeline.errors import WaveInputError
from pipeline.types import SESSIONS, Session

if TYPE_CHECKING:
    from bot.discord.app import WaveBot

MAX_CUSTOM_ID_CHARS = 100  # Discord's limit on a component's id
SOUND_ID_PATTERN = r"[a-z0-9][a-z0-9_-]*"


def move_view(job_id: str, variant_id: str) -> discord.ui.View | None:
    """The parts a sound can move to, as a select; None when its id does not fit in a component's id."""
    custom_id = f"wave:move:{job_id}:{variant_id}"
    if len(custom_id) > MAX_CUSTOM_ID_CHARS or not re.fullmatch(SOUND_ID_PATTERN, variant_id):
        return None
    options = [discord.SelectOption(label=f"Move to {s.value}", value=s.value, emoji=SESSION_EMOJI[s])
               for s in SESSIONS]
    view = discord.ui.View(timeout=None)
    view.add_item(MoveChoice(job_id, variant_id, discord.ui.Select(
        custom_id=custom_id, options=options, placeholder=f"{actions.MOVE_SOUND.emoji} {actions.MOVE_SOUND.label}")))
    return view


class MoveChoice(discord.ui.DynamicItem[discord.ui.Select],
                 template=rf"wave:move:(?P<job_id>{JOB_ID_PATTERN}):(?P<variant_id>{SOUND_ID_PATTERN})"):
    def __init__(self, job_id: str, variant_id: str, item: discord.ui.Select) -> None:
        super().__init__(item)
        self.job_id = job_id
        self.variant_id = variant_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Select,
                             match: re.Match[str]) -> MoveChoice:
        return cls(match["job_id"], match["variant_id"], item)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await first_time(interaction)

    async def callback(self, interaction: discord.Interaction) -> None:
        values = list(self.item.values) or list((interaction.data or {}).get("values") or [])

        async def move(result: JobResult) -> None:
            if len(values) != 1 or values[0] not in {s.value for s in SESSIONS}:
                raise WaveInputError("Choose one part.")
            bot: WaveBot = interaction.client
            version = await bot.jobs.remap(self.job_id, self.variant_id, Session(values[0]))
            text = actions.move_started(actions.source_name(result, self.variant_id), values[0])
            await interaction.response.send_message(text, ephemeral=True)
            bot.delivery.watch_render(self.job_id, version, change_reply(bot, interaction, self.job_id, text),
                                      heading=text)

        await guarded(interaction, actions.MOVE_SOUND, self.job_id, move)
