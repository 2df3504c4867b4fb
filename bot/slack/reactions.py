"""Reactions: session emoji on a sound remap it (owner or admin), ⭐ shares or votes, ❌ cancels."""

from __future__ import annotations

import logging

from bot.common import SLACK_CANCEL, SLACK_EMOJI_SESSION, SLACK_STAR, error_text
from bot.debounce import RemapDebouncer
from bot.records import MessageInfo
from bot.slack import gallery
from bot.slack.context import SlackContext, message_ref
from bot.slack.delivery import RESULT, SOURCE
from pipeline.errors import WaveInputError

log = logging.getLogger(__name__)

TOO_LATE_TO_CANCEL = "This mix had already finished, so there was nothing left to cancel."


def emoji_name(reaction: str) -> str:
    """``thumbsup::skin-tone-2`` -> ``thumbsup``."""
    return reaction.split("::", 1)[0]


class Reactions:
    def __init__(self, ctx: SlackContext, debouncer: RemapDebouncer) -> None:
        self.ctx = ctx
        self.debouncer = debouncer

    async def added(self, *, team_id: str, user_id: str, reaction: str, channel: str, ts: str) -> None:
        name = emoji_name(reaction)
        ref = message_ref(channel, ts)
        if name == SLACK_STAR and await gallery.vote(self.ctx, ref, user_id, up=True):
            return
        if name not in SLACK_EMOJI_SESSION and name not in (SLACK_STAR, SLACK_CANCEL):
            return
        info = await self.ctx.records.message(ref)
        if info is None:
            return
        if info.kind == SOURCE and name in SLACK_EMOJI_SESSION and info.variant_id:
            if await self._may_change(info, user_id):
                self.debouncer.add(info.job_id, info.variant_id, SLACK_EMOJI_SESSION[name])
        elif info.kind == RESULT and name == SLACK_STAR:
            await self._share(team_id, info, user_id, channel)
        elif info.kind == RESULT and name == SLACK_CANCEL and await self._may_change(info, user_id):
            await self._cancel(info, user_id, channel)

    async def removed(self, *, user_id: str, reaction: str, channel: str, ts: str) -> None:
        if emoji_name(reaction) == SLACK_STAR:
            await gallery.vote(self.ctx, message_ref(channel, ts), user_id, up=False)

    async def _may_change(self, info: MessageInfo, user_id: str) -> bool:
        return user_id == info.owner or await self.ctx.is_admin(user_id)

    async def _cancel(self, info: MessageInfo, user_id: str, channel: str) -> None:
        if not await self.ctx.jobs.cancel(info.job_id):  # a cancel that comes too late says so
            await self.ctx.tell_privately(channel, user_id, TOO_LATE_TO_CANCEL)

    async def _share(self, team_id: str, info: MessageInfo, user_id: str, channel: str) -> None:
        if user_id != info.owner:
            return  # a star from someone else on a result is just a star
        result = await self.ctx.jobs.result(info.job_id)
        try:
            await gallery.share(self.ctx, team_id, result, user_id)
        except WaveInputError as exc:
            await self.ctx.tell_privately(channel, user_id, error_text(exc.user_message))
