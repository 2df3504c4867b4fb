"""How often a chat platform may be asked to edit messages, shared by every message of a bot.

Limits are sliding windows ("at most 5 calls in any 5 s") per scope: a scope is ``kind`` or ``kind:id``
(``workspace``, ``channel:C123``, ``global``), and each kind has its platform's published limits. Progress edits
wait for their turn and, when several wait, the one waiting longest goes first; a caller keeps only its newest text
while it waits, so queue positions are coalesced. Results and errors never wait for a window (they only respect a
platform's ``Retry-After``), but they count, so progress makes room for them.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limit:
    calls: int
    per_s: float


# Slack: chat.update is a Tier 3 method (about 50 a minute per workspace, bursts tolerated) and a channel takes
# about one message a second. 45 leaves room for calls that reach Slack later than they were sent; the 5-in-5 s
# window spreads a minute's budget instead of spending it in one burst.
SLACK_EDIT_LIMITS: dict[str, tuple[Limit, ...]] = {
    "workspace": (Limit(45, 60.0), Limit(5, 5.0)),
    "channel": (Limit(1, 1.0),),
}
# Discord: 5 message edits per 5 s per channel (and per webhook), 50 requests a second per bot.
DISCORD_EDIT_LIMITS: dict[str, tuple[Limit, ...]] = {
    "global": (Limit(50, 1.0),),
    "channel": (Limit(5, 5.0),),
}
# When a waiter is passed over for an older one that can go, it looks again after at most this long.
RECHECK_S = 0.05
MAX_BACK_OFF_S = 300.0  # a Retry-After beyond this is not believed (progress would freeze for good)
MAX_IDLE_SCOPES = 1000  # past this many scopes, those with no recent calls are forgotten


@dataclass(eq=False)
class _Waiter:
    number: int
    scopes: frozenset[str]


@dataclass
class _Scope:
    calls: deque[float] = field(default_factory=deque)
    blocked_until: float = float("-inf")


class RateBudget:
    def __init__(self, limits: Mapping[str, Sequence[Limit]], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = {kind: tuple(kind_limits) for kind, kind_limits in limits.items()}
        self.clock = clock
        self._scopes: dict[str, _Scope] = {}
        self._waiting: list[_Waiter] = []
        self._numbers = itertools.count()
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------------------------------------ callers

    async def wait_turn(self, scopes: Sequence[str]) -> None:
        """For edits that may be late or skipped (progress): wait until every scope has room, oldest first."""
        waiter = _Waiter(next(self._numbers), frozenset(scopes))
        self._waiting.append(waiter)
        try:
            while True:
                changed = self._changed
                now = self.clock()
                delay = self.delay(waiter.scopes, now)
                if delay <= 0 and not self._older_can_go(waiter, now):
                    self._record(waiter.scopes, now)
                    return
                timeout = delay if delay > 0 else RECHECK_S
                try:
                    await asyncio.wait_for(changed.wait(), timeout)
                except TimeoutError:
                    pass
        finally:
            self._waiting.remove(waiter)
            self._notify()

    async def wait_turn_unless(self, scopes: Sequence[str], stop: asyncio.Event) -> bool:
        """:meth:`wait_turn`, given up when ``stop`` is set first (the job ended: its result goes out instead)."""
        turn = asyncio.ensure_future(self.wait_turn(scopes))
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({turn, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not turn.done():
                turn.cancel()
            await asyncio.gather(turn, stopped, return_exceptions=True)
        return turn.done() and not turn.cancelled() and turn.exception() is None

    async def wait_urgent(self, scopes: Sequence[str]) -> None:
        """For what must go through (results, errors): waits only while a scope is backing off after a refusal."""
        await self.wait_out_back_off(scopes)
        self._record(frozenset(scopes), self.clock())

    async def wait_out_back_off(self, scopes: Sequence[str]) -> None:
        """Until no scope is backing off (the latest ``Retry-After`` of any of them has passed)."""
        while (blocked := self._blocked_for(frozenset(scopes), self.clock())) > 0:
            await asyncio.sleep(blocked)

    def back_off(self, scopes: Sequence[str], seconds: float) -> None:
        """The platform refused a call and said when to come back (``Retry-After``)."""
        until = self.clock() + min(max(0.0, seconds), MAX_BACK_OFF_S)
        for name in scopes:
            scope = self._scope(name)
            scope.blocked_until = max(scope.blocked_until, until)
        self._notify()

    # ---------------------------------------------------------------------------------------------- the rules

    def delay(self, scopes: frozenset[str] | Sequence[str], now: float | None = None) -> float:
        """Seconds until a call in all ``scopes`` fits every window and no scope is backing off (0 if it fits now)."""
        now = self.clock() if now is None else now
        wait = self._blocked_for(frozenset(scopes), now)
        for name in scopes:
            calls = self._trimmed(name, now)
            for limit in self.limits.get(_kind(name), ()):
                recent = [t for t in calls if t > now - limit.per_s]
                if len(recent) >= limit.calls:
                    wait = max(wait, recent[len(recent) - limit.calls] + limit.per_s - now)
        return max(0.0, wait)

    def _blocked_for(self, scopes: frozenset[str], now: float) -> float:
        return max([self._scope(name).blocked_until - now for name in scopes] + [0.0])

    def _older_can_go(self, waiter: _Waiter, now: float) -> bool:
        return any(other.number < waiter.number and other.scopes & waiter.scopes and self.delay(other.scopes, now) <= 0
                   for other in self._waiting)

    def _record(self, scopes: frozenset[str], now: float) -> None:
        for name in scopes:
            self._scope(name).calls.append(now)
        if len(self._scopes) > MAX_IDLE_SCOPES:
            self._forget_idle(now)
        self._notify()

    def _forget_idle(self, now: float) -> None:
        for name in list(self._scopes):
            if not self._trimmed(name, now) and self._scopes[name].blocked_until <= now:
                del self._scopes[name]

    def _trimmed(self, name: str, now: float) -> deque[float]:
        calls = self._scope(name).calls
        longest = max((limit.per_s for limit in self.limits.get(_kind(name), ())), default=0.0)
        while calls and calls[0] <= now - longest:
            calls.popleft()
        return calls

    def _scope(self, name: str) -> _Scope:
        scope = self._scopes.get(name)
        if scope is None:
            scope = self._scopes[name] = _Scope()
        return scope

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


def _kind(scope: str) -> str:
    return scope.split(":", 1)[0]
