"""The Cancel button under a running job. Its id carries the job, so it keeps working after a restart."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord

from bot.common import CANCEL, CANCELLED_TEXT, error_text, log_unexpected
from bot.discord.access import interaction_is_admin
from bot.discord.once import first_time

if TYPE_CHECKING:
    from bot.discord.app import WaveBot


class CancelButton(discord.ui.DynamicItem[discord.ui.Button], template=r"wave:cancel:(?P<job_id>[0-9a-f]{32})"):
    def __init__(self, job_id: str) -> None:
        super().__init__(discord.ui.Button(label="Cancel", emoji=CANCEL, style=discord.ButtonStyle.secondary,
                                           custom_id=f"wave:cancel:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> "CancelButton":
        return cls(match["job_id"])

    async def interaction_check(self, interaction: discord.Interaction["WaveBot"], /) -> bool:
        return await first_time(interaction)

    async def callback(self, interaction: discord.Interaction["WaveBot"]) -> None:
        bot = interaction.client
        try:
            result = await bot.jobs.status(self.job_id)
            owner = (await bot.jobs.result(self.job_id)).owner
            if str(interaction.user.id) != owner and not interaction_is_admin(interaction):
                await interaction.response.send_message("Only the person who asked for this mix can cancel it.",
                                                        ephemeral=True)
                return
            if result.finished or not await bot.jobs.cancel(self.job_id):
                await interaction.response.send_message("This one has already finished.", ephemeral=True)
                return
            await interaction.response.edit_message(content=CANCELLED_TEXT, view=None)
        except Exception as exc:
            error_id = log_unexpected("the cancel button", exc)
            if not interaction.response.is_done():
                await interaction.response.send_message(error_text("Cancelling failed.", error_id), ephemeral=True)


def progress_view(job_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id))
    return view
