"""A small local Discord: the REST API, the gateway and the attachment CDN on 127.0.0.1, for the real discord.py client.

It keeps Discord's rules, answering a broken rule the way Discord does and writing it down in ``violations``:
the first interaction response within 3 s, interaction tokens that expire (a clock the test can advance), at most
10 files and 10 MiB per file in a message, at most 25 autocomplete choices, 2000 characters of content. JSON
responses carry exactly ``application/json`` (discord.py checks that string). Every request is recorded in ``calls``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import unquote

from aiohttp import WSMsgType, web

from wave_testing.fake_server import FakeServer, wait_until

DISCORD_EPOCH_MS = 1420070400000
MAX_FILES = 10
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_CHOICES = 25
MAX_CONTENT = 2000
FIRST_RESPONSE_S = 3.0
IN_FLIGHT_GRACE_S = 0.25  # a call this soon after a refusal was sent before the client could know of it
TOKEN_LIFETIME_S = 15 * 60

# Permission bits used here.
ADD_REACTIONS = 1 << 6
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_HISTORY = 1 << 16
USE_COMMANDS = 1 << 31
EVERYONE = VIEW_CHANNEL | SEND_MESSAGES | ADD_REACTIONS | READ_HISTORY | USE_COMMANDS | ATTACH_FILES | EMBED_LINKS

# Interaction, callback and component types.
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL = 4, 5, 6, 7, 8, 9
BUTTON, SELECT_MENU, TEXT_INPUT = 2, 3, 4
EPHEMERAL, LOADING = 64, 128
OPTION_TYPES = {"sub_command": 1, "string": 3, "integer": 4, "channel": 7, "attachment": 11}


def iso(moment: float | None = None) -> str:
    return datetime.fromtimestamp(moment or time.time(), timezone.utc).isoformat()


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def error(status: int, code: int, message: str) -> web.Response:
    return json_response({"code": code, "message": message}, status)


def walk_components(components: list[dict]):
    """Every component, nested ones included (rows, and a label's one component)."""
    for component in components:
        yield component
        yield from walk_components(component.get("components") or [])
        if component.get("component"):
            yield from walk_components([component["component"]])


@dataclass
class FakeUser:
    id: int
    name: str
    roles: list[int] = field(default_factory=list)
    bot: bool = False

    def payload(self) -> dict:
        return {"id": str(self.id), "username": self.name, "global_name": self.name, "discriminator": "0",
                "avatar": None, "bot": self.bot, "flags": 0, "public_flags": 0}


@dataclass
class Call:
    method: str
    path: str
    body: Any
    files: list[tuple[str, int]]  # (filename, size)
    at: float  # time.monotonic()
    status: int = 0


@dataclass
class FakeInteraction:
    id: int
    token: str
    type: int
    user: FakeUser
    channel_id: int
    created: float  # time.monotonic(), for the 3 s rule
    created_clock: float  # the fake's clock, for the token lifetime
    acked_at: float | None = None
    response_type: int | None = None
    response: dict | None = None
    original_id: int | None = None
    message_id: int | None = None  # the message a component sits on
    payload: dict | None = None  # what INTERACTION_CREATE carried, for a redelivery

    @property
    def first_response_s(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.created

    @property
    def choices(self) -> list[dict]:
        return (self.response or {}).get("data", {}).get("choices", [])


class RuleBroken(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


class FakeDiscord(FakeServer):
    def __init__(self, *, token_lifetime_s: float = TOKEN_LIFETIME_S) -> None:
        super().__init__()
        self.token = "fake-bot-token"
        self.token_lifetime_s = token_lifetime_s
        self.clock_offset = 0.0
        self._ids = itertools.count(1)
        self.application_id = self.snowflake()
        self.bot = FakeUser(self.application_id, "WAVE", bot=True)
        self.guild_id = self.snowflake()
        self.admin_role = self.snowflake()
        self.roles = {self.guild_id: ("@everyone", EVERYONE), self.admin_role: ("Admins", EVERYONE | MANAGE_GUILD)}
        self.users: dict[int, FakeUser] = {self.bot.id: self.bot}
        self.channels: dict[int, dict] = {}
        self.general = self.add_channel("general")
        self.gallery = self.add_channel("gallery")
        self.messages: dict[int, dict] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.commands: dict[str, dict] = {}  # name -> registered command
        self.command_syncs: list[str] = []  # "global" or the guild id, per sync
        self.cdn: dict[str, tuple[bytes, str]] = {}  # path -> (data, content type)
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.refused: list[Call] = []  # calls answered with HTTP 429
        self._refuse_next: list[list] = []  # [method, path prefix, calls left, retry after]
        self._edit_limit: tuple[int, float] | None = None  # message edits per channel: (calls, per seconds)
        self._retry_windows: list[tuple[str, str, float, float]] = []  # (method, path, refused at, retry not before)
        self.sockets: list[web.WebSocketResponse] = []
        self.identified = asyncio.Event()
        self.sequence = 0

    # --------------------------------------------------------------------------------------------- set-up

    def snowflake(self) -> int:
        return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(self._ids) & 0x3FFFFF)

    def add_user(self, name: str, *, admin: bool = False) -> FakeUser:
        user = FakeUser(self.snowflake(), name, roles=[self.admin_role] if admin else [])
        self.users[user.id] = user
        return user

    def add_channel(self, name: str) -> int:
        channel_id = self.snowflake()
        self.channels[channel_id] = {"id": str(channel_id), "type": 0, "name": name, "guild_id": str(self.guild_id),
                                     "position": len(self.channels), "permission_overwrites": [], "nsfw": False,
                                     "parent_id": None, "topic": None, "last_message_id": None,
                                     "rate_limit_per_user": 0, "flags": 0}
        return channel_id

    @property
    def api_base(self) -> str:
        return f"http://{self.host}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}/"

    def now(self) -> float:
        """The fake's clock: real time plus what the test advanced it by (for token lifetimes)."""
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        self.clock_offset += seconds

    async def start(self) -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._api)
        app.router.add_get("/attachments/{tail:.*}", self._cdn)
        app.router.add_get("/", self._gateway)
        await self.serve(app)

    async def stop(self) -> None:
        for socket in list(self.sockets):
            await socket.close()
        await self.stop_serving()

    # ---------------------------------------------------------------------------------------- payloads

    def permissions(self, user: FakeUser) -> int:
        bits = self.roles[self.guild_id][1]
        for role in user.roles:
            bits |= self.roles[role][1]
        return bits

    def member(self, user: FakeUser, *, with_permissions: bool = False) -> dict:
        member = {"user": user.payload(), "roles": [str(r) for r in user.roles], "joined_at": iso(), "nick": None,
                  "avatar": None, "deaf": False, "mute": False, "flags": 0, "pending": False,
                  "premium_since": None, "communication_disabled_until": None}
        if with_permissions:
            member["permissions"] = str(self.permissions(user))
        return member

    def guild(self) -> dict:
        return {
            "id": str(self.guild_id), "name": "WAVE test server", "icon": None, "splash": None,
            "discovery_splash": None, "owner_id": str(self.snowflake()), "afk_channel_id": None, "afk_timeout": 300,
            "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
            "roles": [{"id": str(rid), "name": name, "permissions": str(bits), "position": i, "color": 0,
                       "hoist": False, "managed": False, "mentionable": False, "flags": 0, "icon": None,
                       "unicode_emoji": None}
                      for i, (rid, (name, bits)) in enumerate(self.roles.items())],
            "emojis": [], "stickers": [], "features": [], "mfa_level": 0, "application_id": None,
            "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None, "vanity_url_code": None,
            "description": None, "banner": None, "premium_tier": 0, "premium_subscription_count": 0,
            "preferred_locale": "en-US", "public_updates_channel_id": None, "nsfw_level": 0,
            "premium_progress_bar_enabled": False, "joined_at": iso(), "large": False, "unavailable": False,
            "member_count": len(self.users), "voice_states": [], "presences": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [], "threads": [],
            "members": [self.member(self.bot)],
            "channels": [c for c in self.channels.values() if c["type"] == 0],
        }

    def message_payload(self, message: dict) -> dict:
        payload = {key: value for key, value in message.items() if not key.startswith("_")}
        payload["attachments"] = [{k: v for k, v in a.items() if not k.startswith("_")} for a in message["attachments"]]
        payload["reactions"] = [
            {"emoji": {"id": None, "name": emoji}, "count": len(users), "me": self.bot.id in users,
             "me_burst": False, "burst_colors": [], "count_details": {"burst": 0, "normal": len(users)}}
            for emoji, users in message["_reactions"].items() if users
        ]
        return payload

    # -------------------------------------------------------------------------------------------- CDN

    def upload(self, filename: str, data: bytes, content_type: str | None, *, size: int | None = None) -> dict:
        """A file a user attached to a command: stored on the CDN; ``size`` may claim another size (as Discord
        reports the real one, tests pass it only to describe what the client would see)."""
        attachment_id = self.snowflake()
        path = f"{self.general}/{attachment_id}/{filename}"
        self.cdn[path] = (data, content_type or "application/octet-stream")
        return {"id": str(attachment_id), "filename": filename, "size": size if size is not None else len(data),
                "url": f"http://{self.host}/attachments/{path}", "proxy_url": f"http://{self.host}/attachments/{path}",
                "content_type": content_type, "ephemeral": True}

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        self.calls.append(Call("GET", request.path, None, [], time.monotonic(), 200))
        found = self.cdn.get(request.match_info["tail"])
        if found is None:
            return web.Response(status=404, text="Not Found")
        data, content_type = found
        return web.Response(body=data, headers={"Content-Type": content_type})

    def file_bytes(self, attachment: dict) -> bytes:
        return self.cdn[attachment["url"].split("/attachments/", 1)[1]][0]

    # ------------------------------------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        try:
            async for frame in socket:
                if frame.type != WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                op = message.get("op")
                if op == 1:
                    await socket.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif op == 2:
                    if message["d"].get("token") != self.token:
                        await socket.close(code=4004, message=b"Authentication failed.")
                        break
                    await self._ready(socket)
                elif op == 6:  # no sessions to resume here: ask for a fresh IDENTIFY
                    await socket.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
        finally:
            if socket in self.sockets:
                self.sockets.remove(socket)
        return socket

    async def _ready(self, socket: web.WebSocketResponse) -> None:
        await self._send(socket, "READY", {
            "v": 10, "user": self.bot.payload(), "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": secrets.token_hex(16), "resume_gateway_url": self.gateway_url, "shard": [0, 1],
            "application": {"id": str(self.application_id), "flags": 0}, "private_channels": [], "relationships": [],
        })
        await self._send(socket, "GUILD_CREATE", self.guild())
        self.identified.set()

    async def _send(self, socket: web.WebSocketResponse, event: str, data: dict) -> None:
        self.sequence += 1
        await socket.send_str(json.dumps({"op": 0, "t": event, "s": self.sequence, "d": data}))

    async def dispatch(self, event: str, data: dict) -> None:
        for socket in list(self.sockets):
            if not socket.closed:
                await self._send(socket, event, data)

    # ------------------------------------------------------------------------------------ what users do

    def _options(self, definitions: list[dict], values: dict[str, Any], resolved: dict, focused: str | None) -> list:
        options = []
        for name, value in values.items():
            definition = next((d for d in definitions if d["name"] == name), None)
            if definition is None:
                raise AssertionError(f"the bot registered no option {name!r}")
            kind = definition["type"]
            option: dict[str, Any] = {"name": name, "type": kind}
            if kind == OPTION_TYPES["attachment"]:
                resolved.setdefault("attachments", {})[value["id"]] = value
                option["value"] = value["id"]
            elif kind == OPTION_TYPES["channel"]:
                channel = self.channels[value]
                resolved.setdefault("channels", {})[str(value)] = {
                    "id": str(value), "name": channel["name"], "type": channel["type"], "permissions": str(EVERYONE),
                    "parent_id": None, "nsfw": False, "position": 0, "topic": None, "last_message_id": None,
                    "rate_limit_per_user": 0, "guild_id": str(self.guild_id), "flags": 0}
                option["value"] = str(value)
            else:
                option["value"] = value
            if name == focused:
                option["focused"] = True
            options.append(option)
        return options

    def _interaction_payload(self, interaction: FakeInteraction, data: dict, message: dict | None = None) -> dict:
        channel = self.channels[interaction.channel_id]
        payload = {
            "id": str(interaction.id), "application_id": str(self.application_id), "type": interaction.type,
            "token": interaction.token, "version": 1, "guild_id": str(self.guild_id),
            "guild": {"id": str(self.guild_id), "locale": "en-US", "features": []},
            "channel_id": str(interaction.channel_id), "channel": channel,
            "member": self.member(interaction.user, with_permissions=True),
            "app_permissions": str(EVERYONE), "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)}, "context": 0,
            "attachment_size_limit": MAX_FILE_BYTES, "data": data,
        }
        if message is not None:
            payload["message"] = self.message_payload(message)
        return payload

    def _new_interaction(self, kind: int, user: FakeUser, channel_id: int) -> FakeInteraction:
        interaction = FakeInteraction(self.snowflake(), "itok-" + secrets.token_urlsafe(24), kind, user,
                                      channel_id, time.monotonic(), self.now())
        self.interactions[interaction.id] = interaction
        return interaction

    async def slash(self, name: str, user: FakeUser, options: dict[str, Any] | None = None, *,
                    subcommand: str | None = None, channel_id: int | None = None,
                    focused: str | None = None) -> FakeInteraction:
        """``user`` runs ``/name`` (or ``/name subcommand``); with ``focused``, types into that option instead."""
        command = self.commands.get(name)
        if command is None:
            raise AssertionError(f"the bot registered no /{name} (has {sorted(self.commands)})")
        resolved: dict = {}
        definitions = command.get("options", [])
        if subcommand:
            sub = next(o for o in definitions if o["name"] == subcommand)
            inner = self._options(sub.get("options", []), options or {}, resolved, focused)
            data_options = [{"name": subcommand, "type": OPTION_TYPES["sub_command"], "options": inner}]
        else:
            data_options = self._options(definitions, options or {}, resolved, focused)
        data = {"id": command["id"], "name": name, "type": 1, "guild_id": str(self.guild_id),
                "options": data_options}
        if resolved:
            data["resolved"] = resolved
        interaction = self._new_interaction(AUTOCOMPLETE if focused else APPLICATION_COMMAND, user,
                                            channel_id or self.general)
        interaction.payload = self._interaction_payload(interaction, data)
        await self.dispatch("INTERACTION_CREATE", interaction.payload)
        return interaction

    async def click(self, message_id: int, custom_id: str, user: FakeUser) -> FakeInteraction:
        message = self.messages[message_id]
        interaction = self._new_interaction(MESSAGE_COMPONENT, user, int(message["channel_id"]))
        interaction.message_id = message_id
        data = {"custom_id": custom_id, "component_type": BUTTON}
        interaction.payload = self._interaction_payload(interaction, data, message)
        await self.dispatch("INTERACTION_CREATE", interaction.payload)
        return interaction

    async def choose(self, message_id: int, custom_id: str, value: str, user: FakeUser) -> FakeInteraction:
        """``user`` picks ``value`` in the select ``custom_id`` on a message."""
        message = self.messages[message_id]
        interaction = self._new_interaction(MESSAGE_COMPONENT, user, int(message["channel_id"]))
        interaction.message_id = message_id
        data = {"custom_id": custom_id, "component_type": SELECT_MENU, "values": [value]}
        interaction.payload = self._interaction_payload(interaction, data, message)
        await self.dispatch("INTERACTION_CREATE", interaction.payload)
        return interaction

    async def submit(self, modal: dict, value: str, user: FakeUser, channel_id: int) -> FakeInteraction:
        """``user`` sends a modal the bot opened back with its one text field set to ``value``."""
        field = next(c for c in walk_components(modal["components"]) if c.get("type") == TEXT_INPUT)
        interaction = self._new_interaction(MODAL_SUBMIT, user, channel_id)
        data = {"custom_id": modal["custom_id"],
                "components": [{"type": 1, "components": [{"type": TEXT_INPUT, "custom_id": field["custom_id"],
                                                           "value": value}]}]}
        interaction.payload = self._interaction_payload(interaction, data)
        await self.dispatch("INTERACTION_CREATE", interaction.payload)
        return interaction

    async def redeliver(self, interaction: FakeInteraction) -> None:
        """The same INTERACTION_CREATE again, as a gateway may replay it after a reconnect."""
        await self.dispatch("INTERACTION_CREATE", interaction.payload)

    # ------------------------------------------------------------------------------------- rate limits

    def refuse_next(self, method: str, path_prefix: str, *, retry_after: float = 0.5, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` on paths starting with ``path_prefix`` get HTTP 429."""
        self._refuse_next.append([method, path_prefix, times, retry_after])

    def limit_edits(self, calls: int, per_s: float) -> None:
        """Refuse (HTTP 429) a message edit past ``calls`` in any ``per_s`` seconds in one channel."""
        self._edit_limit = (calls, per_s)

    def _rate_limited(self, request: web.Request, path: str, now: float) -> float | None:
        for method, refused_path, refused_at, not_before in self._retry_windows:
            if request.method == method and path == refused_path and refused_at + IN_FLIGHT_GRACE_S < now < not_before:
                self.violations.append(f"{method} {path} {not_before - now:.2f} s before its retry_after had passed")
        for rule in self._refuse_next:
            method, prefix, left, retry_after = rule
            if left > 0 and request.method == method and path.startswith(prefix):
                rule[2] -= 1
                return retry_after
        if self._edit_limit and request.method == "PATCH" and "/messages/" in path:
            calls, per_s = self._edit_limit
            channel = self._edited_channel(path)
            recent = [c for c in self.calls[:-1] if c.method == "PATCH" and c.at > now - per_s and c.status != 429
                      and self._edited_channel(c.path) == channel]
            if len(recent) >= calls:
                return recent[len(recent) - calls].at + per_s - now
        return None

    def _edited_channel(self, path: str) -> int | None:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[0] == "channels":
            return int(parts[1])
        interaction = self._interaction_by_token(parts[2]) if parts[0] == "webhooks" and len(parts) > 2 else None
        return interaction.channel_id if interaction else None

    def edits_per_channel(self) -> dict[int | None, list[float]]:
        """When each accepted message edit reached the fake, by channel."""
        edits: dict[int | None, list[float]] = {}
        for call in self.calls:
            if call.method == "PATCH" and "/messages/" in call.path and call.status != 429:
                edits.setdefault(self._edited_channel(call.path), []).append(call.at)
        return edits

    def user_post(self, channel_id: int, user: FakeUser, content: str) -> int:
        """A message someone wrote in a channel; returns its id."""
        return int(self._create_message(channel_id, user, {"content": content}, [])["id"])

    async def react(self, message_id: int, emoji: str, user: FakeUser) -> None:
        message = self.messages[message_id]
        message["_reactions"].setdefault(emoji, set()).add(user.id)
        await self._reaction_event("MESSAGE_REACTION_ADD", message, emoji, user)

    async def unreact(self, message_id: int, emoji: str, user: FakeUser) -> None:
        message = self.messages[message_id]
        message["_reactions"].get(emoji, set()).discard(user.id)
        await self._reaction_event("MESSAGE_REACTION_REMOVE", message, emoji, user)

    async def _reaction_event(self, event: str, message: dict, emoji: str, user: FakeUser) -> None:
        data = {"user_id": str(user.id), "channel_id": message["channel_id"], "message_id": message["id"],
                "guild_id": str(self.guild_id), "emoji": {"id": None, "name": emoji}, "burst": False, "type": 0,
                "burst_colors": []}
        if event == "MESSAGE_REACTION_ADD":
            data["member"] = self.member(user)
            data["message_author_id"] = message["author"]["id"]
        await self.dispatch(event, data)

    # ---------------------------------------------------------------------------------- test helpers

    async def until(self, condition: Callable[[], Any], *, timeout: float = 30.0, what: str = "condition") -> Any:
        return await wait_until(condition, timeout=timeout, what=what)

    def messages_in(self, channel_id: int) -> list[dict]:
        return [m for m in self.messages.values() if int(m["channel_id"]) == channel_id and not m.get("_deleted")]

    def followups(self, interaction: FakeInteraction) -> list[dict]:
        """Messages sent through the interaction's webhook after its first response."""
        return [m for m in self.messages.values() if m.get("_interaction") == interaction.id]

    def private_answer(self, interaction: FakeInteraction) -> dict | None:
        """The ephemeral followup the person who asked got, once the public reply is gone."""
        original = self.original(interaction)
        private = [m for m in self.followups(interaction) if m["flags"] & EPHEMERAL]
        return private[-1] if private and (original is None or original.get("_deleted")) else None

    def reactors(self, message_id: int, emoji: str) -> set[int]:
        return set(self.messages[message_id]["_reactions"].get(emoji, set()))

    def original(self, interaction: FakeInteraction) -> dict | None:
        return self.messages.get(interaction.original_id) if interaction.original_id else None

    # ------------------------------------------------------------------------------------------- REST

    async def _api(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        call = Call(request.method, path, None, [], time.monotonic())
        self.calls.append(call)
        retry_after = self._rate_limited(request, path, call.at)
        if retry_after is not None:
            call.status = 429
            self.refused.append(call)
            self._retry_windows.append((request.method, path, call.at, call.at + retry_after))
            # Discord's answer to a rate limit; discord.py treats a 429 without ``Via`` as a Cloudflare ban.
            body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
            return web.Response(body=json.dumps(body).encode(), status=429, headers={
                "Content-Type": "application/json", "Retry-After": str(math.ceil(retry_after)),
                "X-RateLimit-Scope": "user", "Via": "1.1 google"})
        try:
            response = await self._route(request, path, call)
        except RuleBroken as broken:
            response = broken.response
        call.status = response.status
        return response

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    async def _route(self, request: web.Request, path: str, call: Call) -> web.StreamResponse:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        method = request.method
        if parts[0] in ("interactions", "webhooks"):
            return await self._interaction_route(request, method, parts, call)
        if not self._authorised(request):
            return error(401, 0, "401: Unauthorized")
        if parts == ["users", "@me"]:
            return json_response(self.bot.payload())
        if parts in (["applications", "@me"], ["oauth2", "applications", "@me"]):
            return json_response(self._application())
        if parts in (["gateway"], ["gateway", "bot"]):
            return json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": {
                "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
        if parts[0] == "applications" and parts[-1] == "commands":
            return await self._commands(request, method, parts, call)
        if parts[0] == "channels":
            return await self._channel_route(request, method, parts, call)
        return error(404, 0, "404: Not Found")

    def _application(self) -> dict:
        return {"id": str(self.application_id), "name": "WAVE", "icon": None, "description": "", "rpc_origins": [],
                "bot_public": True, "bot_require_code_grant": False, "terms_of_service_url": None,
                "privacy_policy_url": None, "owner": self.bot.payload(), "summary": "", "verify_key": "0" * 64,
                "team": None, "flags": 0, "interactions_endpoint_url": None, "bot": self.bot.payload(),
                "approximate_guild_count": 1, "redirect_uris": [], "tags": []}

    async def _commands(self, request: web.Request, method: str, parts: list[str], call: Call) -> web.Response:
        if method == "GET":
            return json_response(list(self.commands.values()))
        if method != "PUT":
            return error(405, 0, "405: Method Not Allowed")
        body = await request.json()
        call.body = body
        registered = {}
        for command in body:
            name = command["name"]
            if not (1 <= len(name) <= 32 and name == name.lower()) or len(command.get("description", "")) > 100:
                self.violations.append(f"invalid command definition {name!r}")
                return error(400, 50035, "Invalid Form Body")
            registered[name] = {**command, "id": str(self.snowflake()), "application_id": str(self.application_id),
                                "version": str(self.snowflake()), "type": command.get("type", 1),
                                "default_member_permissions": command.get("default_member_permissions"),
                                "nsfw": command.get("nsfw", False),
                                **({"guild_id": parts[3]} if parts[2] == "guilds" else {})}
        self.commands = registered
        self.command_syncs.append(parts[3] if parts[2] == "guilds" else "global")
        return json_response(list(registered.values()))

    # ----------------------------------------------------------------------- bodies and message rules

    async def _read_body(self, request: web.Request, call: Call) -> tuple[dict, list[tuple[str, bytes, str]]]:
        """The JSON payload and the uploaded files; refuses what Discord refuses."""
        if not request.content_type.startswith("multipart/"):
            body = await request.json() if request.can_read_body else {}
            call.body = body
            return body, []
        payload: dict = {}
        files: list[tuple[str, bytes, str]] = []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":
                payload = json.loads(await part.text())
                continue
            data = bytearray()
            while chunk := await part.read_chunk(1 << 16):
                data += chunk
                if len(data) > MAX_FILE_BYTES:
                    self.violations.append(f"file {part.filename!r} over 10 MiB")
                    raise RuleBroken(error(413, 40005, "Request entity too large"))
            files.append((part.filename or "file", bytes(data), part.headers.get("Content-Type", "")))
        call.body = payload
        call.files = [(name, len(data)) for name, data, _ in files]
        if len(files) > MAX_FILES:
            self.violations.append(f"{len(files)} files in one message")
            raise RuleBroken(error(400, 50035, "Invalid Form Body: files: Must be 10 or fewer in length."))
        return payload, files

    def _check_content(self, payload: dict) -> None:
        content = payload.get("content") or ""
        if len(content) > MAX_CONTENT:
            self.violations.append(f"content of {len(content)} characters")
            raise RuleBroken(error(400, 50035, "Invalid Form Body: content: Must be 2000 or fewer in length."))

    def _store_files(self, channel_id: int, files: list[tuple[str, bytes, str]]) -> list[dict]:
        attachments = []
        for filename, data, content_type in files:
            attachment_id = self.snowflake()
            path = f"{channel_id}/{attachment_id}/{filename}"
            self.cdn[path] = (data, content_type)
            url = f"http://{self.host}/attachments/{path}"
            attachments.append({"id": str(attachment_id), "filename": filename, "size": len(data), "url": url,
                                "proxy_url": url, "content_type": content_type or None})
        return attachments

    def _create_message(self, channel_id: int, author: FakeUser, payload: dict, files: list, **extra) -> dict:
        self._check_content(payload)
        message_id = self.snowflake()
        message = {
            "id": str(message_id), "channel_id": str(channel_id), "guild_id": str(self.guild_id),
            "author": author.payload(), "content": payload.get("content") or "", "timestamp": iso(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": self._store_files(channel_id, files), "embeds": payload.get("embeds") or [],
            "pinned": False, "type": 0, "flags": int(payload.get("flags") or 0),
            "components": payload.get("components") or [], "_reactions": {}, "_edits": [],  # (monotonic time, content)
            "_allowed_mentions": payload.get("allowed_mentions"), **extra,
        }
        self.messages[message_id] = message
        return message

    def _edit_message(self, message: dict, payload: dict, files: list) -> dict:
        self._check_content(payload)
        if "content" in payload:
            message["content"] = payload["content"] or ""
        if "components" in payload:
            message["components"] = payload["components"] or []
        if "embeds" in payload:
            message["embeds"] = payload["embeds"] or []
        if "attachments" in payload or files:
            kept = {str(a.get("id")) for a in payload.get("attachments") or []}
            existing = [a for a in message["attachments"] if a["id"] in kept]
            message["attachments"] = existing + self._store_files(int(message["channel_id"]), files)
            if len(message["attachments"]) > MAX_FILES:
                self.violations.append(f"{len(message['attachments'])} files on one message")
                raise RuleBroken(error(400, 50035, "Invalid Form Body: attachments: Must be 10 or fewer in length."))
        message["flags"] = message["flags"] & ~LOADING
        message["edited_timestamp"] = iso()
        message["_edits"].append((time.monotonic(), message["content"]))
        return message

    # ------------------------------------------------------------------------------------ interactions

    def _interaction_by_token(self, token: str) -> FakeInteraction | None:
        return next((i for i in self.interactions.values() if i.token == token), None)

    async def _interaction_route(self, request: web.Request, method: str, parts: list[str], call: Call):
        if parts[0] == "interactions":  # /interactions/{id}/{token}/callback
            return await self._callback(request, int(parts[1]), parts[2], call)
        # /webhooks/{application}/{token}[/messages/{id}]
        interaction = self._interaction_by_token(parts[2]) if len(parts) >= 3 else None
        if interaction is None or parts[1] != str(self.application_id):
            return error(404, 10015, "Unknown Webhook")
        if self.now() - interaction.created_clock > self.token_lifetime_s:
            return error(401, 50027, "Invalid Webhook Token")
        if interaction.acked_at is None:
            self.violations.append("webhook used before the interaction was acknowledged")
            return error(404, 10015, "Unknown Webhook")
        if len(parts) == 3 and method == "POST":  # a followup message
            payload, files = await self._read_body(request, call)
            message = self._create_message(interaction.channel_id, self.bot, payload, files,
                                           webhook_id=str(self.application_id), _interaction=interaction.id)
            return json_response(self.message_payload(message))
        if len(parts) == 5 and parts[3] == "messages":
            target = interaction.original_id if parts[4] == "@original" else int(parts[4])
            message = self.messages.get(target or 0)
            if message is None or message.get("_deleted"):
                return error(404, 10008, "Unknown Message")
            if method == "GET":
                return json_response(self.message_payload(message))
            if method == "PATCH":
                payload, files = await self._read_body(request, call)
                return json_response(self.message_payload(self._edit_message(message, payload, files)))
            if method == "DELETE":
                message["_deleted"] = True
                return web.Response(status=204)
        return error(405, 0, "405: Method Not Allowed")

    async def _callback(self, request: web.Request, interaction_id: int, token: str, call: Call):
        interaction = self.interactions.get(interaction_id)
        if interaction is None or interaction.token != token:
            return error(404, 10062, "Unknown interaction")
        payload, files = await self._read_body(request, call)
        late = time.monotonic() - interaction.created
        if interaction.acked_at is not None:
            self.violations.append(f"interaction {interaction_id} acknowledged twice")
            return error(400, 40060, "Interaction has already been acknowledged.")
        if late > FIRST_RESPONSE_S:
            self.violations.append(f"interaction {interaction_id} first answered after {late:.2f} s")
            return error(404, 10062, "Unknown interaction")
        kind = payload.get("type")
        data = payload.get("data") or {}
        if kind == AUTOCOMPLETE_RESULT:
            if interaction.type != AUTOCOMPLETE:
                return error(400, 50035, "Invalid Form Body")
            if len(data.get("choices", [])) > MAX_CHOICES:
                self.violations.append(f"{len(data['choices'])} autocomplete choices")
                return error(400, 50035, "Invalid Form Body: choices: Must be 25 or fewer in length.")
        interaction.acked_at = time.monotonic()
        interaction.response_type = kind
        interaction.response = payload
        resource: dict = {"type": kind}
        if kind in (CHANNEL_MESSAGE, DEFERRED_MESSAGE):
            flags = int(data.get("flags") or 0) | (LOADING if kind == DEFERRED_MESSAGE else 0)
            message = self._create_message(interaction.channel_id, self.bot, {**data, "flags": flags}, files,
                                           webhook_id=str(self.application_id))
            interaction.original_id = int(message["id"])
            resource["message"] = self.message_payload(message)
        elif kind == UPDATE_MESSAGE and interaction.message_id:
            message = self._edit_message(self.messages[interaction.message_id], data, files)
            interaction.original_id = interaction.message_id  # a component's @original is the message holding it
            resource["message"] = self.message_payload(message)
        elif kind == DEFERRED_UPDATE and interaction.message_id:
            interaction.original_id = interaction.message_id
        elif kind not in (DEFERRED_UPDATE, AUTOCOMPLETE_RESULT, MODAL):  # a modal is kept in ``response``
            return error(400, 50035, f"Invalid Form Body: type {kind}")
        flags = int(data.get("flags") or 0)
        return json_response({
            "interaction": {"id": str(interaction.id), "type": interaction.type,
                            "response_message_id": str(interaction.original_id) if interaction.original_id else None,
                            "response_message_loading": kind == DEFERRED_MESSAGE,
                            "response_message_ephemeral": bool(flags & EPHEMERAL)},
            "resource": resource,
        })

    # ----------------------------------------------------------------------------------------- channels

    async def _channel_route(self, request: web.Request, method: str, parts: list[str], call: Call):
        channel_id = int(parts[1])
        if channel_id not in self.channels:
            return error(404, 10003, "Unknown Channel")
        if len(parts) == 2 and method == "GET":
            return json_response(self.channels[channel_id])
        if len(parts) == 2 and method == "DELETE":  # a deleted thread takes its messages; later posts find nothing
            channel = self.channels.pop(channel_id)
            for message in self.messages.values():
                if int(message["channel_id"]) == channel_id:
                    message["_deleted"] = True
            return json_response(channel)
        if parts[2:] == ["messages"] and method == "POST":
            payload, files = await self._read_body(request, call)
            message = self._create_message(channel_id, self.bot, payload, files)
            return json_response(self.message_payload(message))
        if len(parts) < 4 or parts[2] != "messages":
            return error(404, 0, "404: Not Found")
        message = self.messages.get(int(parts[3]))
        if message is None or message.get("_deleted") or int(message["channel_id"]) != channel_id:
            return error(404, 10008, "Unknown Message")
        rest = parts[4:]
        if not rest:
            if method == "GET":
                return json_response(self.message_payload(message))
            if method == "PATCH":
                payload, files = await self._read_body(request, call)
                return json_response(self.message_payload(self._edit_message(message, payload, files)))
            if method == "DELETE":
                message["_deleted"] = True
                await self.dispatch("MESSAGE_DELETE", {"id": message["id"], "channel_id": message["channel_id"],
                                                       "guild_id": str(self.guild_id)})
                return web.Response(status=204)
        if rest[0] == "reactions" and len(rest) == 3:
            emoji, who = rest[1], rest[2]
            if method == "PUT" and who == "@me":
                message["_reactions"].setdefault(emoji, set()).add(self.bot.id)
                await self._reaction_event("MESSAGE_REACTION_ADD", message, emoji, self.bot)
                return web.Response(status=204)
            if method == "DELETE":
                user = self.bot if who == "@me" else self.users.get(int(who))
                if user is None:
                    return error(404, 10013, "Unknown User")
                message["_reactions"].get(emoji, set()).discard(user.id)
                await self._reaction_event("MESSAGE_REACTION_REMOVE", message, emoji, user)
                return web.Response(status=204)
        if rest == ["threads"] and method == "POST":
            body, _ = await self._read_body(request, call)
            name = body.get("name") or ""
            if not 1 <= len(name) <= 100:
                self.violations.append(f"thread name of {len(name)} characters")
                return error(400, 50035, "Invalid Form Body: name")
            thread_id = int(message["id"])  # Discord gives a thread started from a message the message's id
            thread = {"id": str(thread_id), "type": 11, "guild_id": str(self.guild_id), "parent_id": str(channel_id),
                      "owner_id": str(self.bot.id), "name": name, "last_message_id": None, "rate_limit_per_user": 0,
                      "message_count": 0, "member_count": 1, "flags": 0, "total_message_sent": 0,
                      "thread_metadata": {"archived": False, "auto_archive_duration": body.get("auto_archive_duration", 1440),
                                          "archive_timestamp": iso(), "locked": False}}
            self.channels[thread_id] = thread
            message["thread"] = thread
            await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
            return json_response(thread, 201)
        return error(405, 0, "405: Method Not Allowed")
