"""A server's own preferences (a Discord guild or a Slack workspace): default song, the channels WAVE answers in,
and private mode. Values are checked here, once, for both platforms."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from db.models import Workspace
from jobs.client import _check_song
from jobs.runtime import Runtime
from pipeline.errors import WaveInputError

MAX_ANSWER_CHANNELS = 25
# What a channel id looks like on each platform; anything else is refused before it is stored.
CHANNEL_ID_PATTERNS = {
    "discord": re.compile(r"^[0-9]{15,21}$"),
    "slack": re.compile(r"^[CG][A-Z0-9]{2,20}$"),
}


class ServerPrefs(BaseModel):
    """What an admin chose for the server. No channels means every channel."""

    default_song: str | None = None
    channels: list[str] = Field(default_factory=list)
    private: bool = False

    @field_validator("channels", mode="before")
    @classmethod
    def _none_is_everywhere(cls, value: object) -> object:
        return [] if value is None else value

    def answers_in(self, channel_id: str | int | None) -> bool:
        return not self.channels or str(channel_id) in self.channels


def check_channels(platform: str, channels: list[str]) -> list[str]:
    """The channel ids, de-duplicated in order; a malformed one (or too many) is refused in words."""
    pattern = CHANNEL_ID_PATTERNS.get(platform)
    if pattern is None:
        raise WaveInputError(f"WAVE has no channel settings for {platform!r}.")
    unique = list(dict.fromkeys(str(c).strip() for c in channels))
    if len(unique) > MAX_ANSWER_CHANNELS:
        raise WaveInputError(f"At most {MAX_ANSWER_CHANNELS} channels can be chosen.")
    bad = [c for c in unique if not pattern.match(c)]
    if bad:
        raise WaveInputError(f"{bad[0][:40]!r} is not a channel; name channels as #channel.")
    return unique


def check_default_song(song: str | None) -> str | None:
    """A library song id or ``auto``; empty clears the default."""
    song = (song or "").strip().lower().replace("-", "_")
    return _check_song(song) if song else None


def _prefs(workspace: Workspace | None) -> ServerPrefs:
    if workspace is None:
        return ServerPrefs()
    return ServerPrefs(default_song=workspace.default_song, channels=workspace.answer_channels,
                       private=bool(workspace.private_mode))


async def read_prefs(runtime: Runtime, platform: str, workspace_id: str | None) -> ServerPrefs:
    if workspace_id is None:
        return ServerPrefs()
    async with runtime.db() as db:
        return _prefs(await db.scalar(select(Workspace).where(
            Workspace.platform == platform, Workspace.platform_workspace_id == str(workspace_id))))


_UNSET = object()


async def write_prefs(runtime: Runtime, platform: str, workspace_id: str, *, default_song: object = _UNSET,
                      channels: object = _UNSET, private: object = _UNSET) -> ServerPrefs:
    """Check and store the values given (the others stay as they are); returns the server's preferences now."""
    values: dict[str, object] = {}
    if default_song is not _UNSET:
        values["default_song"] = check_default_song(default_song)  # type: ignore[arg-type]
    if channels is not _UNSET:
        values["answer_channels"] = check_channels(platform, list(channels or [])) or None  # type: ignore[call-overload]
    if private is not _UNSET:
        values["private_mode"] = bool(private)
    for attempt in range(2):
        async with runtime.db() as db:
            query = select(Workspace).where(Workspace.platform == platform,
                                            Workspace.platform_workspace_id == str(workspace_id))
            workspace = await db.scalar(query)
            if workspace is None:
                workspace = Workspace(platform=platform, platform_workspace_id=str(workspace_id))
                db.add(workspace)
            for key, value in values.items():
                setattr(workspace, key, value)
            try:
                await db.commit()
            except IntegrityError:  # the row was created at the same moment: update that one
                if attempt:
                    raise
                continue
            return _prefs(workspace)
    raise AssertionError("unreachable")


def describe(prefs: ServerPrefs, channel_mention) -> str:
    """The preferences in words; ``channel_mention`` turns a channel id into the platform's mention."""
    channels = ", ".join(channel_mention(c) for c in prefs.channels) if prefs.channels else "every channel"
    return (f"• default song: {prefs.default_song or 'auto'}\n"
            f"• answers in: {channels}\n"
            f"• private mode: {'on (results only to the person who asked, nothing to the gallery)' if prefs.private else 'off'}")


def elsewhere_text(prefs: ServerPrefs, channel_mention) -> str:
    """The private note for a request in a channel WAVE does not answer in."""
    return "WAVE only answers in " + ", ".join(channel_mention(c) for c in prefs.channels) + "; try there."
