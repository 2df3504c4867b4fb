"""A local stand-in for Slack: the Web API the app calls (recording every call and keeping Slack's rules that
matter here), and what Slack sends to the app: signed requests over HTTP or envelopes over Socket Mode's WebSocket
(commands, interactions, options, events)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import math
import secrets
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp
from aiohttp import WSMsgType, web

from wave_testing.fake_server import FakeServer, wait_until

BOT_USER = "UWAVEBOT"
TEAM = "T0WAVE"
TRIGGER_LIFETIME_S = 3.0  # Slack's trigger_id expires after 3 seconds
MAX_TEXT = 40000
MAX_MODAL_TITLE = 24
IN_FLIGHT_GRACE_S = 0.25  # a call this soon after a refusal was sent before the app could know of it


@dataclass
class Call:
    method: str
    args: dict
    at: float


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str
    thread_ts: str | None = None
    files: list[str] = field(default_factory=list)
    reactions: list[tuple[str, str]] = field(default_factory=list)  # (name, user)
    edits: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, text)


@dataclass
class StoredFile:
    id: str
    name: str
    mimetype: str
    content: bytes | None
    declared_length: int | None = None
    title: str = ""

    def info(self, host: str) -> dict:
        size = len(self.content or b"")
        return {
            "id": self.id, "name": self.name, "title": self.title or self.name, "mimetype": self.mimetype,
            "filetype": self.name.rsplit(".", 1)[-1], "size": size, "user": BOT_USER,
            "url_private": f"http://{host}/files-pri/{self.id}/{self.name}",
            "url_private_download": f"http://{host}/files-pri/{self.id}/download/{self.name}",
            "permalink": f"http://{host}/files/{self.id}/{self.name}",
        }


class FakeSlack(FakeServer):
    """``api_url`` goes to the WebClient's ``base_url``; ``host`` goes to ``slack_file_hosts``. With an
    ``app_token`` (xapp-...), ``apps.connections.open`` hands out Socket Mode connections served by ``socket``."""

    def __init__(self, token: str, *, app_token: str | None = None, admins: set[str] = frozenset()) -> None:
        super().__init__()
        self.token = token
        self.app_token = app_token
        self.socket = SocketMode(self)
        self.admins = set(admins)
        self.unreachable_channels: set[str] = set()
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.files: dict[str, StoredFile] = {}
        self.downloads: list[tuple[str, bool]] = []  # (file id, authorised)
        self.triggers: dict[str, float] = {}
        self.violations: list[str] = []
        self.ephemerals: list[tuple[str, Message]] = []  # (the one person who sees it, the message)
        self.deleted: list[Message] = []
        self.home_views: dict[str, dict] = {}  # user -> the App Home view published for them
        self.refused: list[Call] = []  # calls answered with HTTP 429
        self._refuse_next: dict[str, list[int]] = {}  # method -> [calls left to refuse, Retry-After seconds]
        self._limits: dict[str, list[tuple[int, float, bool]]] = {}  # method -> [(calls, per_s, per channel)]
        self._retry_window: dict[str, tuple[float, float]] = {}  # method -> (refused at, retry not before)
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)

    # ------------------------------------------------------------------------------------------- lifecycle

    async def start(self) -> "FakeSlack":
        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{file_id}/{rest:.*}", self._download)
        app.router.add_get("/link/", self.socket.serve)
        await self.serve(app)
        return self

    async def close(self) -> None:
        await self.socket.close()
        await self.stop_serving()

    @property
    def api_url(self) -> str:
        return f"http://{self.host}/api/"

    # ------------------------------------------------------------------------------- what people do in Slack

    def new_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.{next(self._ids):06d}"

    def add_file(self, name: str, mimetype: str, content: bytes) -> dict:
        """A file someone uploaded; returns its object as Slack puts it in payloads."""
        file = StoredFile(f"F{next(self._ids):08d}", name, mimetype, content)
        self.files[file.id] = file
        return file.info(self.host)

    def user_message(self, channel: str, user: str, text: str, files: list[dict] | None = None,
                     thread_ts: str | None = None) -> Message:
        message = Message(channel, self.new_ts(), user, text, thread_ts, [f["id"] for f in files or []])
        self.messages[(channel, message.ts)] = message
        return message

    def trigger(self) -> str:
        trigger_id = f"{next(self._ids)}.trigger"
        self.triggers[trigger_id] = time.monotonic()
        return trigger_id

    # ---------------------------------------------------------------------------------------- rate limits

    def refuse_next(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` get HTTP 429 with ``Retry-After``, as Slack answers a rate limit."""
        self._refuse_next[method] = [times, retry_after]

    def limit(self, method: str, calls: int, per_s: float, *, per_channel: bool = False) -> None:
        """Refuse (HTTP 429) a call of ``method`` past ``calls`` in any ``per_s`` seconds (per channel if asked)."""
        self._limits.setdefault(method, []).append((calls, per_s, per_channel))

    def _rate_limited(self, method: str, args: dict, now: float) -> int | None:
        """Seconds to send back in ``Retry-After``, or None when the call may go through."""
        refused_at, not_before = self._retry_window.get(method, (0.0, 0.0))
        if refused_at + IN_FLIGHT_GRACE_S < now < not_before:  # calls already on their way when refused are fine
            self.violations.append(f"{method} called {not_before - now:.2f} s before its Retry-After had passed")
        refusal = self._refuse_next.get(method)
        if refusal and refusal[0] > 0:
            refusal[0] -= 1
            return refusal[1]
        for calls, per_s, per_channel in self._limits.get(method, []):
            recent = [c for c in self.calls[:-1] if c.method == method and c.at > now - per_s
                      and c not in self.refused and (not per_channel or c.args.get("channel") == args.get("channel"))]
            if len(recent) >= calls:
                return max(1, math.ceil(recent[len(recent) - calls].at + per_s - now))
        return None

    # -------------------------------------------------------------------------------------------- queries

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        return sorted((m for m in self.messages.values() if m.channel == channel and m.thread_ts == thread_ts),
                      key=lambda m: float(m.ts))

    def private_to(self, user: str) -> list[Message]:
        """Ephemeral messages only ``user`` saw."""
        return [message for to, message in self.ephemerals if to == user]

    def bot_messages(self, channel: str | None = None) -> list[Message]:
        return [m for m in self.messages.values() if m.user == BOT_USER and (channel is None or m.channel == channel)]

    async def wait_for(self, condition, timeout: float = 60.0, what: str = "condition"):
        return await wait_until(condition, timeout=timeout, what=what)

    # ------------------------------------------------------------------------------------------- HTTP side

    async def _arguments(self, request: web.Request) -> dict:
        args: dict = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._arguments(request)
        self.calls.append(Call(method, args, time.monotonic()))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or args.get("token")
        if not token or token not in (self.token, self.app_token):
            return _json({"ok": False, "error": "invalid_auth"})
        if (method == "apps.connections.open") != (token == self.app_token):  # each token opens only its own door
            return _json({"ok": False, "error": "not_allowed_token_type"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return _json({"ok": False, "error": "unknown_method"})
        retry_after = self._rate_limited(method, args, self.calls[-1].at)
        if retry_after is not None:
            self.refused.append(self.calls[-1])
            self._retry_window[method] = (self.calls[-1].at, self.calls[-1].at + retry_after)
            return web.Response(text=json.dumps({"ok": False, "error": "ratelimited"}), status=429,
                                content_type="application/json", headers={"Retry-After": str(retry_after)})
        try:
            return _json({"ok": True, **handler(args)})
        except SlackError as error:
            return _json({"ok": False, "error": str(error)})

    async def _upload(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["file_id"])
        if file is None:
            return web.Response(status=404)
        file.content = await request.read()
        return web.Response(text="OK - %d" % len(file.content))

    async def _download(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["file_id"])
        authorised = request.headers.get("Authorization") == f"Bearer {self.token}"
        self.downloads.append((request.match_info["file_id"], authorised))
        if file is None:
            return web.Response(status=404)
        if not authorised:  # Slack sends people without the token to the sign-in page
            raise web.HTTPFound("https://slack.com/signin")
        return web.Response(body=file.content, content_type=file.mimetype)

    # -------------------------------------------------------------------------------------------- methods

    def _message(self, channel: str, ts: str) -> Message:
        message = self.messages.get((channel, ts))
        if message is None:
            raise SlackError("message_not_found")
        return message

    def _post(self, args: dict, user: str = BOT_USER) -> Message:
        channel = args.get("channel") or ""
        if not channel:
            raise SlackError("channel_not_found")
        if channel in self.unreachable_channels:
            raise SlackError("not_in_channel")
        if channel.startswith("U"):  # a message to a person goes to the app's direct message with them
            channel = "D" + channel[1:]
        text = args.get("text") or ""
        if not text and not args.get("blocks"):
            raise SlackError("no_text")
        if len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        thread_ts = args.get("thread_ts") or None
        if thread_ts:
            self._message(channel, thread_ts)
        message = Message(channel, self.new_ts(), user, text, thread_ts)
        self.messages[(channel, message.ts)] = message
        return message

    def _m_auth_test(self, args: dict) -> dict:
        return {"url": "https://wave-test.slack.com/", "team": "WAVE test", "user": "wave", "team_id": TEAM,
                "user_id": BOT_USER, "bot_id": "B0WAVE", "is_enterprise_install": False}

    def _m_apps_connections_open(self, args: dict) -> dict:
        return {"url": self.socket.new_url()}

    def _m_chat_postMessage(self, args: dict) -> dict:
        message = self._post(args)
        return {"channel": message.channel, "ts": message.ts, "message": {"text": message.text, "ts": message.ts}}

    def _m_chat_update(self, args: dict) -> dict:
        message = self._message(args.get("channel", ""), args.get("ts", ""))
        if message.user != BOT_USER:
            raise SlackError("cant_update_message")
        text = args.get("text") or ""
        if len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        message.text = text
        message.edits.append((time.monotonic(), text))
        return {"channel": message.channel, "ts": message.ts, "text": text}

    def _m_chat_postEphemeral(self, args: dict) -> dict:
        if not args.get("user") or not args.get("channel"):
            raise SlackError("invalid_arguments")
        if args["channel"] in self.unreachable_channels:
            raise SlackError("not_in_channel")
        ephemeral = Message(args["channel"], self.new_ts(), BOT_USER, args.get("text") or "",
                            args.get("thread_ts") or None)
        self.ephemerals.append((args["user"], ephemeral))
        return {"message_ts": ephemeral.ts}

    def _m_chat_delete(self, args: dict) -> dict:
        message = self._message(args.get("channel", ""), args.get("ts", ""))
        if message.user != BOT_USER:
            raise SlackError("cant_delete_message")
        del self.messages[(message.channel, message.ts)]
        self.deleted.append(message)
        return {"channel": message.channel, "ts": message.ts}

    def _m_chat_getPermalink(self, args: dict) -> dict:
        message = self._message(args.get("channel", ""), args.get("message_ts", ""))
        return {"channel": message.channel,
                "permalink": f"https://wave-test.slack.com/archives/{message.channel}/p{message.ts.replace('.', '')}"}

    def _m_views_open(self, args: dict) -> dict:
        issued = self.triggers.pop(args.get("trigger_id", ""), None)
        if issued is None:
            raise SlackError("invalid_trigger_id")
        if time.monotonic() - issued > TRIGGER_LIFETIME_S:
            raise SlackError("expired_trigger_id")
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        if (view.get("type") != "modal" or len(view["title"]["text"]) > MAX_MODAL_TITLE
                or len(view.get("blocks", [])) > 100 or len(view.get("private_metadata", "")) > 3000):
            raise SlackError("invalid_arguments")
        return {"view": {**view, "id": f"V{next(self._ids)}", "state": {"values": {}}}}

    def _m_views_publish(self, args: dict) -> dict:
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        user = args.get("user_id") or ""
        if not user.startswith("U"):
            raise SlackError("invalid_arguments")
        if not view or view.get("type") != "home" or len(view.get("blocks", [])) > 100:
            raise SlackError("invalid_arguments")
        self.home_views[user] = view
        return {"view": {**view, "id": f"V{next(self._ids)}"}}

    def _m_reactions_add(self, args: dict) -> dict:
        message = self._message(args.get("channel", ""), args.get("timestamp", ""))
        name = args.get("name") or ""
        if not name:
            raise SlackError("invalid_name")
        if (name, BOT_USER) in message.reactions:
            raise SlackError("already_reacted")
        message.reactions.append((name, BOT_USER))
        return {}

    def _m_users_info(self, args: dict) -> dict:
        user = args.get("user") or ""
        if not user.startswith("U"):
            raise SlackError("user_not_found")
        admin = user in self.admins
        return {"user": {"id": user, "name": user.lower(), "is_admin": admin, "is_owner": False}}

    def _m_files_info(self, args: dict) -> dict:
        file = self.files.get(args.get("file", ""))
        if file is None:
            raise SlackError("file_not_found")
        return {"file": file.info(self.host)}

    def _m_files_getUploadURLExternal(self, args: dict) -> dict:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            raise SlackError("invalid_arguments")
        name = args["filename"]
        file = StoredFile(f"F{next(self._ids):08d}", name, _mimetype(name), None, int(args["length"]))
        self.files[file.id] = file
        return {"file_id": file.id, "upload_url": f"http://{self.host}/upload/{file.id}"}

    def _m_files_completeUploadExternal(self, args: dict) -> dict:
        entries = json.loads(args.get("files") or "[]")
        stored = []
        for entry in entries:
            file = self.files.get(entry.get("id", ""))
            if file is None or file.content is None or len(file.content) != file.declared_length:
                raise SlackError("file_upload_incomplete")
            file.title = entry.get("title") or file.name
            stored.append(file)
        channel = args.get("channel_id")
        if channel:
            message = self._post({"channel": channel, "thread_ts": args.get("thread_ts"),
                                  "text": args.get("initial_comment") or " "})
            message.files = [f.id for f in stored]
        return {"files": [f.info(self.host) for f in stored]}


class SlackError(Exception):
    pass


def _json(data: dict) -> web.Response:
    return web.Response(text=json.dumps(data), content_type="application/json")


def _mimetype(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower()
    return {"mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "json": "application/json",
            "png": "image/png"}.get(suffix, "application/octet-stream")


# ------------------------------------------------------------------------------------- Slack -> the app

_request_ids = itertools.count(1)


def command_payload(text: str, *, user: str, channel: str, trigger_id: str) -> dict[str, str]:
    """A /wave slash command as Slack sends it (form fields over HTTP, the same fields as JSON over Socket Mode)."""
    return {"token": "legacy", "team_id": TEAM, "team_domain": "wave-test", "channel_id": channel,
            "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": "/wave", "text": text,
            "api_app_id": "A0WAVE", "is_enterprise_install": "false",
            "response_url": f"http://127.0.0.1:9/commands/{next(_request_ids)}", "trigger_id": trigger_id}


def interaction_payload(payload: dict) -> dict:
    return {"team": {"id": TEAM, "domain": "wave-test"}, "api_app_id": "A0WAVE", "token": "legacy", **payload}


def event_payload(event: dict, event_id: str | None = None) -> dict:
    return {"token": "legacy", "team_id": TEAM, "api_app_id": "A0WAVE", "event": event, "type": "event_callback",
            "event_id": event_id or f"Ev{next(_request_ids):08d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}


def reaction_event(user: str, name: str, channel: str, ts: str, *, added: bool = True) -> dict:
    return {"type": "reaction_added" if added else "reaction_removed", "user": user, "reaction": name,
            "item_user": BOT_USER, "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": f"{time.time():.6f}"}


class SignedSender:
    """Sends what Slack sends to an app's request URL, signed with the signing secret like Slack does."""

    def __init__(self, url: str, signing_secret: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self.session = session

    def signature(self, timestamp: str, body: str, secret: str | None = None) -> str:
        base = f"v0:{timestamp}:{body}".encode()
        return "v0=" + hmac.new((secret or self.signing_secret).encode(), base, hashlib.sha256).hexdigest()

    async def send(self, body: str, content_type: str, *, timestamp: float | None = None,
                   secret: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
        stamp = str(int(time.time() if timestamp is None else timestamp))
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": self.signature(stamp, body, secret), **(headers or {})}
        async with self.session.post(self.url, data=body.encode(), headers=headers) as response:
            return response.status, await response.text()

    async def command(self, text: str, *, user: str, channel: str, trigger_id: str, **signing) -> tuple[int, str]:
        form = command_payload(text, user=user, channel=channel, trigger_id=trigger_id)
        return await self.send(urlencode(form), "application/x-www-form-urlencoded", **signing)

    async def interaction(self, payload: dict, **signing) -> tuple[int, str]:
        return await self.send(urlencode({"payload": json.dumps(interaction_payload(payload))}),
                               "application/x-www-form-urlencoded", **signing)

    async def event(self, event: dict, **signing) -> tuple[int, str]:
        return await self.send(json.dumps(event_payload(event)), "application/json", **signing)

    async def event_again(self, event: dict, event_id: str, *, retry_num: int | None = None) -> tuple[int, str]:
        """An event with a given ``event_id``: Slack's retry of one the app already got (``retry_num`` set) or a
        replay of the same delivery."""
        headers = {} if retry_num is None else {"X-Slack-Retry-Num": str(retry_num),
                                                "X-Slack-Retry-Reason": "http_timeout"}
        return await self.send(json.dumps(event_payload(event, event_id)), "application/json", headers=headers)

    async def reaction(self, user: str, name: str, channel: str, ts: str, *, added: bool = True) -> tuple[int, str]:
        return await self.event(reaction_event(user, name, channel, ts, added=added))


# ------------------------------------------------------------------------------------------- Socket Mode

ACK_DEADLINE_S = 3.0  # Slack counts an envelope not acknowledged within 3 seconds as failed (and retries events)
RESPONSE_PAYLOAD_INTERACTIONS = ("view_submission", "block_suggestion")  # the interactions answered in the ack


@dataclass
class Envelope:
    id: str
    type: str  # "slash_commands", "events_api" or "interactive"
    payload: dict
    accepts_response_payload: bool
    connection: int
    sent_at: float
    acked_at: float | None = None
    response: dict | None = None  # the payload the app sent back with its acknowledgement
    acked: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ack_s(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.sent_at


@dataclass
class Connection:
    number: int
    socket: web.WebSocketResponse
    pings: int = 0
    closed_at: float | None = None


class SocketMode:
    """Slack's end of Socket Mode: a one-use URL per ``apps.connections.open``, a ``hello`` on connect, pongs to
    the client's pings, envelopes that must be acknowledged with their ``envelope_id`` within 3 seconds, and
    ``disconnect`` messages that send the client to a new connection. Broken rules are written down in
    ``violations``."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.tickets: set[str] = set()
        self.connections: list[Connection] = []
        self.envelopes: list[Envelope] = []
        self.violations: list[str] = []
        self.ack_wait_s = ACK_DEADLINE_S * 3  # how long ``send`` waits: past the deadline, so late acks are seen

    def new_url(self) -> str:
        ticket = secrets.token_hex(8)
        self.tickets.add(ticket)
        return f"ws://{self.fake.host}/link/?ticket={ticket}&app_id=A0WAVE"

    @property
    def current(self) -> Connection | None:
        open_ = [c for c in self.connections if c.closed_at is None and not c.socket.closed]
        return open_[-1] if open_ else None

    async def serve(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self.tickets:  # each URL opens one connection
            self.violations.append(f"connected with an unknown or used ticket {ticket!r}")
            return web.Response(status=401, text="invalid ticket")
        self.tickets.discard(ticket)
        socket = web.WebSocketResponse(autoping=False)
        await socket.prepare(request)
        connection = Connection(len(self.connections) + 1, socket)
        self.connections.append(connection)
        await socket.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0WAVE"},
                                "debug_info": {"host": "applink-wave-test", "build_number": 1,
                                               "approximate_connection_time": 18060}})
        async for message in socket:
            if message.type == WSMsgType.PING:
                connection.pings += 1
                await socket.pong(message.data)
            elif message.type == WSMsgType.TEXT:
                self._acknowledged(message.data)
        connection.closed_at = time.monotonic()
        return socket

    def _acknowledged(self, data: str) -> None:
        now = time.monotonic()
        try:
            message = json.loads(data)
        except ValueError:
            self.violations.append(f"sent something that is not JSON: {data[:100]!r}")
            return
        envelope = next((e for e in self.envelopes if e.id == message.get("envelope_id")), None)
        if envelope is None:
            self.violations.append(f"acknowledged an envelope that was never sent: {data[:100]!r}")
            return
        if envelope.acked_at is not None:
            self.violations.append(f"acknowledged envelope {envelope.id} twice")
            return
        envelope.acked_at, envelope.response = now, message.get("payload")
        if envelope.response and not envelope.accepts_response_payload:
            self.violations.append(f"answered {envelope.type} envelope {envelope.id}, which takes no answer")
        if envelope.ack_s > ACK_DEADLINE_S:
            self.violations.append(f"acknowledged {envelope.type} envelope {envelope.id} after {envelope.ack_s:.1f} s")
        envelope.acked.set()

    async def connected(self, count: int = 1, timeout: float = 30.0) -> Connection:
        """The newest connection once ``count`` have been made."""
        await self.fake.wait_for(lambda: len(self.connections) >= count and self.current, timeout=timeout,
                                 what=f"Socket Mode connection {count}")
        return self.current

    async def send(self, kind: str, payload: dict, *, accepts_response_payload: bool,
                   retry_attempt: int = 0) -> Envelope:
        """Sends one envelope and waits ``ack_wait_s`` for its acknowledgement."""
        connection = await self.connected()
        envelope = Envelope(str(uuid.uuid4()), kind, payload, accepts_response_payload, connection.number,
                            time.monotonic())
        self.envelopes.append(envelope)
        message = {"envelope_id": envelope.id, "type": kind, "payload": payload,
                   "accepts_response_payload": accepts_response_payload}
        if kind == "events_api":
            message.update(retry_attempt=retry_attempt, retry_reason="timeout" if retry_attempt else "")
        await connection.socket.send_json(message)
        try:
            await asyncio.wait_for(envelope.acked.wait(), self.ack_wait_s)
        except TimeoutError:
            self.violations.append(f"{kind} envelope {envelope.id} was never acknowledged")
        return envelope

    async def command(self, text: str, *, user: str, channel: str, trigger_id: str) -> Envelope:
        return await self.send("slash_commands", command_payload(text, user=user, channel=channel,
                                                                 trigger_id=trigger_id),
                               accepts_response_payload=True)

    async def interaction(self, payload: dict) -> Envelope:
        return await self.send("interactive", interaction_payload(payload),
                               accepts_response_payload=payload.get("type") in RESPONSE_PAYLOAD_INTERACTIONS)

    async def event(self, event: dict) -> Envelope:
        return await self.send("events_api", event_payload(event), accepts_response_payload=False)

    async def reaction(self, user: str, name: str, channel: str, ts: str, *, added: bool = True) -> Envelope:
        return await self.event(reaction_event(user, name, channel, ts, added=added))

    async def event_again(self, event: dict, event_id: str, *, retry_attempt: int = 0) -> Envelope:
        """An event with a given ``event_id``, in a new envelope: Slack's retry (``retry_attempt`` set) or a
        redelivery after a reconnect."""
        return await self.send("events_api", event_payload(event, event_id), accepts_response_payload=False,
                               retry_attempt=retry_attempt)

    async def refresh(self, reason: str = "refresh_requested") -> Connection:
        """Asks the client to move to a new connection, as Slack does every few hours; the old one is closed once
        the new one is up. Returns the new connection."""
        old = await self.connected()
        await old.socket.send_json({"type": "disconnect", "reason": reason,
                                    "debug_info": {"host": "applink-wave-test"}})
        new = await self.connected(old.number + 1)
        if not old.socket.closed:
            await old.socket.close()
        return new

    def unacknowledged(self) -> list[Envelope]:
        return [e for e in self.envelopes if e.acked_at is None]

    async def close(self) -> None:
        for connection in self.connections:
            if not connection.socket.closed:
                await connection.socket.close()
