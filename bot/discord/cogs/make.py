"""/wave: a picture and a song in, progress in the reply, the mix out. ❌ or the Cancel button stops it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.common import (
    CANCEL,
    check_upload,
    clean_cue,
    error_text,
    log_unexpected,
    progress_text,
)
from bot.discord import texts
from bot.discord.access import may_steer
from bot.discord.live_reply import LiveReply, edit_scopes
from bot.discord.replies import Reply, message_ref, reply_ref_for
from bot.discord.views import progress_view
from bot.download import fetch
from jobs.client import QuotaExceeded, SubmitRequest
from jobs.prefs import elsewhere_text, read_prefs
from pipeline.errors import WaveInputError
from pipeline.songs import list_songs
from pipeline.vision.intake import MAX_IMAGE_BYTES

if TYPE_CHECKING:
    from bot.discord.app import WaveBot

MAX_CHOICES = 25  # Discord's cap on autocomplete choices
AUTO = "auto"


def song_choices(typed: str) -> list[app_commands.Choice[str]]:
    """"auto" plus the library songs whose title or id contains what was typed, at most 25."""
    typed = typed.strip().lower()
    choices = [app_commands.Choice(name="auto — pick a song that fits the picture", value=AUTO)] \
        if not typed or typed in AUTO else []
    for song in list_songs():
        if typed in song.title.lower() or typed in song.id:
            choices.append(app_commands.Choice(name=song.title[:100], value=song.id))
    return choices[:MAX_CHOICES]


async def follow_request(bot: WaveBot, reply: Reply, channel_id: int | None, reply_id: int | None,
                         job_id: str) -> None:
    """A new job's reply shows its progress with the Cancel button, then its result."""
    if reply_id is not None:  # remembered before it shows the Cancel button, so that ❌ on it always works
        await bot.records.remember_message(message_ref(channel_id, reply_id), job_id, "request")
    status = await bot.jobs.status(job_id)
    shown = progress_text(status)
    await bot.budget.wait_turn(edit_scopes(channel_id))
    await reply.edit_original(shown, view=None if status.finished else progress_view(job_id))
    bot.delivery.watch(job_id, LiveReply(bot, reply, job_id, shown=shown))


def private_reply_ref(interaction: discord.Interaction, private: bool) -> dict:
    """The reply's ref; a private one says so, and delivery then never posts in the channel."""
    return {**reply_ref_for(interaction), "private": True} if private else reply_ref_for(interaction)


class MakeCog(commands.Cog):
    def __init__(self, bot: "WaveBot") -> None:
        self.bot = bot

    @app_commands.command(name="wave", description="Turn a photo into music played by its own sounds.")
    @app_commands.describe(image="A photo", song="A song from the library, or auto", cue="A few words to steer the mood")
    @app_commands.guild_only()
    async def wave(self, interaction: discord.Interaction, image: discord.Attachment, song: str | None = None,
                   cue: str | None = None) -> None:
        check = check_upload(image.filename, image.content_type, image.size)
        if not check.ok:
            await interaction.response.send_message(error_text(check.message), ephemeral=True)
            return
        prefs = await read_prefs(self.bot.runtime, "discord", str(interaction.guild_id))
        if not prefs.answers_in(interaction.channel_id):
            await interaction.response.send_message(error_text(elsewhere_text(prefs, texts.channel_mention)),
                                                    ephemeral=True)
            return
        # Discord drops an interaction that is not answered within 3 s: acknowledge before any slow work.
        acknowledged = await interaction.response.defer(thinking=True, ephemeral=prefs.private)
        reply_id = acknowledged.message_id if acknowledged else None
        reply = Reply(self.bot, private_reply_ref(interaction, prefs.private), interaction.channel_id,
                      interaction.guild_id)
        try:
            await self.bot.jobs.check_quota("discord", str(interaction.user.id), str(interaction.guild_id),
                                            user_name=interaction.user.display_name)  # before the download
            data = await fetch(image.url, allowed_hosts=self.bot.settings.discord_attachment_hosts,
                               max_bytes=MAX_IMAGE_BYTES, session=self.bot.download_session)
            workspace = await self.bot.records.workspace(str(interaction.guild_id))
            job_id = await self.bot.jobs.submit(SubmitRequest(
                image=data, song=song or prefs.default_song or AUTO, cue=clean_cue(cue),
                profile=workspace.default_profile if workspace and workspace.default_profile else None,
                platform="discord", user_id=str(interaction.user.id), user_name=interaction.user.display_name,
                workspace_id=str(interaction.guild_id), workspace_name=interaction.guild.name if interaction.guild else None,
                channel_id=str(interaction.channel_id), reply_ref=reply.reply_ref,
            ))
        except (QuotaExceeded, WaveInputError) as refused:
            await reply.answer_privately(error_text(refused.user_message))
            return
        except Exception as exc:
            error_id = log_unexpected("/wave", exc)
            await reply.answer_privately(error_text("WAVE could not take this request.", error_id))
            return
        await follow_request(self.bot, reply, interaction.channel_id, reply_id, job_id)

    @wave.autocomplete("song")
    async def song_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return song_choices(current)

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if str(payload.emoji) != CANCEL or payload.user_id == self.bot.user.id:
            return
        async with self.bot.reaction_failures.guard("cancelling by reaction", payload, "Cancelling did not work."):
            info = await self.bot.records.message(message_ref(payload.channel_id, payload.message_id))
            if info is None or info.kind != "request" or not may_steer(payload.user_id, info.owner, payload.member):
                return
            await self.bot.jobs.cancel(info.job_id)
