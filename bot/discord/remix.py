"""🎵 Remix under a gallery post (and a mix brought back with /wave-show): the same band plays a song the presser
picks, as the presser's own job. Ids carry the job (and the song), so the buttons work after a restart."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord

from bot.common import error_text, log_unexpected
from bot.discord.cogs.make import follow_request, private_reply_ref
from bot.discord.once import first_time
from bot.discord.replies import Reply
from jobs.client import QuotaExceeded
from jobs.prefs import read_prefs
from jobs.remix import remix
from jobs.usage import visible_job
from pipeline.errors import WaveInputError
from pipeline.songs import list_songs

if TYPE_CHECKING:
    from bot.discord.app import WaveBot

REMIX = "🎵"
SONGS_PER_ROW = 5
MAX_SONG_BUTTONS = 25  # Discord's cap on components in one message


class RemixButton(discord.ui.DynamicItem[discord.ui.Button], template=r"wave:remix:(?P<job_id>[0-9a-f]{32})"):
    """Offers the songs (privately) to whoever presses it."""

    def __init__(self, job_id: str) -> None:
        super().__init__(discord.ui.Button(label="Remix with another song", emoji=REMIX,
                                           style=discord.ButtonStyle.secondary, custom_id=f"wave:remix:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> RemixButton:
        return cls(match["job_id"])

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await first_time(interaction)

    async def callback(self, interaction: discord.Interaction[WaveBot]) -> None:
        try:
            await visible_job(interaction.client.runtime, "discord", str(interaction.user.id),
                              str(interaction.guild_id), self.job_id)
        except WaveInputError as refused:
            await interaction.response.send_message(error_text(refused.user_message), ephemeral=True)
            return
        await interaction.response.send_message(f"{REMIX} Which song should this band play for you?",
                                                view=song_picker(self.job_id), ephemeral=True)


class RemixSongButton(discord.ui.DynamicItem[discord.ui.Button],
                      template=r"wave:remix:(?P<job_id>[0-9a-f]{32}):(?P<song>[a-z0-9_]{1,40})"):
    def __init__(self, job_id: str, song: str, label: str | None = None) -> None:
        super().__init__(discord.ui.Button(label=(label or song)[:80], style=discord.ButtonStyle.primary,
                                           custom_id=f"wave:remix:{job_id}:{song}"))
        self.job_id = job_id
        self.song = song

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> RemixSongButton:
        return cls(match["job_id"], match["song"])

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await first_time(interaction)

    async def callback(self, interaction: discord.Interaction[WaveBot]) -> None:
        bot = interaction.client
        prefs = await read_prefs(bot.runtime, "discord", str(interaction.guild_id))
        private = prefs.private or not prefs.answers_in(interaction.channel_id)
        acknowledged = await interaction.response.defer(thinking=True, ephemeral=private)
        reply = Reply(bot, private_reply_ref(interaction, private), interaction.channel_id, interaction.guild_id)
        try:
            await visible_job(bot.runtime, "discord", str(interaction.user.id), str(interaction.guild_id), self.job_id)
            job_id = await remix(bot.jobs, self.job_id, self.song, platform="discord",
                                 user_id=str(interaction.user.id), user_name=interaction.user.display_name,
                                 workspace_id=str(interaction.guild_id), channel_id=str(interaction.channel_id),
                                 reply_ref=reply.reply_ref)
        except (QuotaExceeded, WaveInputError) as refused:
            await reply.answer_privately(error_text(refused.user_message))
            return
        except Exception as exc:
            await reply.answer_privately(error_text("WAVE could not start the remix.", log_unexpected("remix", exc)))
            return
        await follow_request(bot, reply, interaction.channel_id,
                             acknowledged.message_id if acknowledged else None, job_id)


def song_picker(job_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for index, song in enumerate(list_songs()[:MAX_SONG_BUTTONS]):
        button = RemixSongButton(job_id, song.id, song.title)
        button.item.row = index // SONGS_PER_ROW
        view.add_item(button)
    return view


def remix_view(job_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RemixButton(job_id))
    return view
