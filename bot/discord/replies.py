"""Discord's message rules and where a job's messages go: the interaction reply while its token lives, else the channel."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import discord

log = logging.getLogger(__name__)

MAX_FILES_PER_MESSAGE = 10
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_CONTENT_CHARS = 2000
INTERACTION_TOKEN_LIFETIME_S = 15 * 60
# Stop using a token a little before Discord does, so a slow upload does not straddle the expiry.
TOKEN_MARGIN_S = 30
# Discord's code for an expired or unknown interaction token.
INVALID_WEBHOOK_TOKEN = 50027
UNKNOWN_WEBHOOK = 10015


def message_ref(channel_id: int | str, message_id: int | str) -> str:
    return f"discord:{channel_id}:{message_id}"


def parse_ref(ref: str) -> tuple[int, int]:
    _, channel_id, message_id = ref.split(":")
    return int(channel_id), int(message_id)


def jump_url(guild_id: int | str, ref: str) -> str:
    channel_id, message_id = parse_ref(ref)
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def fit(content: str) -> str:
    return content if len(content) <= MAX_CONTENT_CHARS else content[: MAX_CONTENT_CHARS - 1] + "…"


@dataclass(frozen=True)
class FilePlan:
    batches: list[list[Path]]  # each batch fits one message
    too_large: list[Path]  # files Discord would refuse


def plan_files(paths: list[Path | None]) -> FilePlan:
    """Groups files into messages of at most 10 files; files over 10 MiB cannot be attached at all."""
    present = [p for p in paths if p is not None and p.exists()]
    fitting = [p for p in present if p.stat().st_size <= MAX_FILE_BYTES]
    too_large = [p for p in present if p.stat().st_size > MAX_FILE_BYTES]
    batches = [fitting[i:i + MAX_FILES_PER_MESSAGE] for i in range(0, len(fitting), MAX_FILES_PER_MESSAGE)]
    return FilePlan(batches, too_large)


def attach(paths: list[Path], names: dict[Path, str] | None = None) -> list[discord.File]:
    return [discord.File(p, filename=(names or {}).get(p, p.name)) for p in paths]


def reply_ref_for(interaction: discord.Interaction) -> dict:
    """What is stored with the job so that its result can reach the reply later, even after a restart."""
    return {
        "application_id": str(interaction.application_id),
        "token": interaction.token,
        "expires_at": interaction.created_at.timestamp() + INTERACTION_TOKEN_LIFETIME_S,
        "guild_id": str(interaction.guild_id) if interaction.guild_id else None,
    }


def token_expired(error: discord.HTTPException) -> bool:
    return error.status in (401, 404) or error.code in (INVALID_WEBHOOK_TOKEN, UNKNOWN_WEBHOOK)


class Reply:
    """The message a job's progress and first result live in."""

    def __init__(self, client: discord.Client, reply_ref: dict | None, channel_id: int | None,
                 guild_id: int | None = None) -> None:
        self.client = client
        self.reply_ref = reply_ref or {}
        self.channel_id = channel_id
        self.guild_id = guild_id or optional_int(self.reply_ref.get("guild_id"))

    @property
    def token_alive(self) -> bool:
        expires_at = self.reply_ref.get("expires_at") or 0
        return bool(self.reply_ref.get("token")) and time.time() < expires_at - TOKEN_MARGIN_S

    def webhook(self) -> discord.Webhook:
        webhook = discord.Webhook.partial(int(self.reply_ref["application_id"]), self.reply_ref["token"],
                                          client=self.client)
        webhook.type = discord.WebhookType.application  # an interaction's webhook (partial() assumes an incoming one)
        return webhook

    def channel(self) -> discord.PartialMessageable:
        if self.channel_id is None:
            raise ValueError("this reply has no channel")
        return self.client.get_partial_messageable(self.channel_id, guild_id=self.guild_id,
                                                   type=discord.ChannelType.text)

    async def edit_original(self, content: str, *, files: list[discord.File] | None = None,
                            view: discord.ui.View | None = None) -> discord.WebhookMessage | None:
        """Edits the interaction reply; None when its token has expired (the caller then posts in the channel)."""
        if not self.token_alive:
            return None
        try:
            kwargs = {"content": fit(content), "view": view,
                      "allowed_mentions": discord.AllowedMentions(users=True, roles=False, everyone=False)}
            if files is not None:
                kwargs["attachments"] = files
            return await self.webhook().edit_message("@original", **kwargs)
        except discord.HTTPException as error:
            if token_expired(error):
                log.info("interaction token of channel %s expired; posting in the channel instead", self.channel_id)
                self.reply_ref = {**self.reply_ref, "expires_at": 0}
                return None
            raise

    async def answer_privately(self, content: str) -> bool:
        """An error or refusal only the person who asked sees (ephemeral); the public reply is removed.
        False when the token has expired (Discord then offers no private way back)."""
        if not self.token_alive:
            return False
        webhook = self.webhook()
        try:
            await webhook.send(fit(content), ephemeral=True, wait=True)
            await webhook.delete_message("@original")
        except discord.HTTPException as error:
            if token_expired(error):
                self.reply_ref = {**self.reply_ref, "expires_at": 0}
                return False
            raise
        return True

    async def send_to_channel(self, content: str, *, files: list[discord.File] | None = None,
                              view: discord.ui.View | None = None) -> discord.Message:
        extra = {"view": view} if view is not None else {}
        return await self.channel().send(
            fit(content), files=files or [], allowed_mentions=discord.AllowedMentions(users=True, roles=False,
                                                                                       everyone=False), **extra)


def optional_int(value) -> int | None:
    return int(value) if value not in (None, "") else None
