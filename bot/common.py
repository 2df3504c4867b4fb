"""What every chat adapter shares: texts, progress formatting, emoji to session, limits, error ids."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass

from db.models import JobStatus
from jobs.events import WORKER_LOST_MESSAGE, JobEvent
from pipeline.session_table import rows
from pipeline.types import SESSIONS, Session
from pipeline.vision.intake import MAX_CUE_CHARS, MAX_IMAGE_BYTES, PICTURE_FORMATS

log = logging.getLogger(__name__)

# Reactions on a sound's message move it to that session (the emoji are in the session table).
SESSION_EMOJI: dict[Session, str] = {row.session: row.emoji for row in rows()}
EMOJI_SESSION: dict[str, Session] = {emoji: session for session, emoji in SESSION_EMOJI.items()}
# Slack names its emoji; these are the names of the ones above.
SESSION_SLACK_EMOJI: dict[Session, str] = {row.session: row.slack_emoji for row in rows()}
SLACK_EMOJI_SESSION: dict[str, Session] = {name: session for session, name in SESSION_SLACK_EMOJI.items()}
STAR = "⭐"
CANCEL = "❌"
SLACK_STAR = "star"
SLACK_CANCEL = "x"

IMAGE_CONTENT_TYPES = ("image/png", "image/jpeg", "image/jpg", "image/webp", "image/gif", "image/bmp", "image/tiff")
# Types that say nothing about the file: the name's extension decides.
GENERIC_CONTENT_TYPES = ("", "application/octet-stream", "binary/octet-stream")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")
MAX_TITLE_CHARS = 80
TITLE_SOURCES = 3  # a gallery title names the song and this many of the band's sounds at most
PROGRESS_EDIT_INTERVAL_S = 1.0
CANCELLED_TEXT = "Cancelled."
# Quick reactions (a swap is often two) become one remap; the wait is part of every remap's latency, so keep it short.
REMAP_DEBOUNCE_S = 0.8

STAGE_TEXT: dict[JobStatus, str] = {
    JobStatus.QUEUED: "Waiting in line",
    JobStatus.SEEING: "Looking at your picture",
    JobStatus.HEARING: "Making the sounds",
    JobStatus.CASTING: "Casting the band",
    JobStatus.BUILDING: "Building the instruments",
    JobStatus.PLAYING: "Playing the song",
    JobStatus.DONE: "Done",
    JobStatus.FAILED: "Something went wrong",
    JobStatus.CANCELLED: "Cancelled",
}


def _band_list(emoji: dict[Session, str] | None = None, form: str = "") -> str:
    """'drums, bass, guitar, keyboard'; with emoji, each name after its emoji ('🥁 drums, ..., 🎸 guitar or 🎹 keyboard')."""
    names = [form.format(emoji[s]) + s.value if emoji else s.value for s in SESSIONS]
    return ", ".join(names) if not emoji else ", ".join(names[:-1]) + " or " + names[-1]


HELP_TEXT = (
    "**WAVE** listens to your photo: it finds what in the picture could make sound, makes those sounds, turns them "
    f"into a band ({_band_list()}) and plays a song with it.\n"
    "• `/wave image:<photo> song:<name or auto> [cue:<a few words>]` — make a mix. `auto` picks a song that fits "
    "the picture's mood; the cue steers the mood (\"make it melancholic\").\n"
    f"• React on a sound's message with {_band_list(SESSION_EMOJI, '{} ')} to move it there (in private mode, pick "
    "the part under the sound); only the music is played again.\n"
    f"• {STAR} on your result shares it to the server's gallery; {STAR} on gallery posts are votes. "
    f"{CANCEL} on your request cancels it.\n"
    "• `/wave-top` shows the best mixes here (this week or all time); 🎵 under a gallery post remixes it with "
    "your song.\n"
    "• `/wave-me` shows your limits and what is running; `/wave-show` brings one of your mixes back.\n"
    "• Admins: `/wave-settings` sets the default song, the channels WAVE answers in and private mode."
)

SLACK_HELP_TEXT = (
    "*WAVE* listens to your photo: it finds what in the picture could make sound, makes those sounds, turns them "
    f"into a band ({_band_list()}) and plays a song with it.\n"
    "• `/wave` opens a form: attach a photo, pick a song (or *auto*, which picks one that fits the picture's mood) "
    "and, if you like, a few words to steer the mood (\"make it melancholic\").\n"
    "• Or mention @WAVE with a photo attached (`@WAVE [song] [a few words]`), or use *Make music with WAVE* "
    "from the ⋮ menu of a message that has a photo.\n"
    f"• React on a sound's message with {_band_list(SESSION_SLACK_EMOJI, ':{}: ')} to move it there; only the music "
    "is played again.\n"
    f"• :{SLACK_STAR}: on your result shares it to the gallery channel; :{SLACK_STAR}: on gallery posts are votes. "
    f":{SLACK_CANCEL}: on your request while it runs cancels it.\n"
    "• `/wave top [week]` shows the best mixes here; 🎵 under a gallery post remixes it with your song; an admin "
    "sets the gallery with `/wave gallery #channel`.\n"
    "• `/wave me` shows your limits and what is running; `/wave show` brings one of your mixes back.\n"
    "• Admins: `/wave settings` shows and sets the default song, the channels WAVE answers in and private mode."
)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def progress_bar(fraction: float, width: int = 12) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "▰" * filled + "▱" * (width - filled)


def progress_text(event: JobEvent) -> str:
    """One line for the progress message: stage, bar, percentage and queue position."""
    status = event.status
    if status == JobStatus.FAILED:
        return failure_text(event.error, event.error_id)
    if status == JobStatus.CANCELLED:
        return CANCELLED_TEXT
    line = f"{STAGE_TEXT[status]}… {progress_bar(event.progress)} {event.progress * 100:.0f}%"
    if status == JobStatus.QUEUED and event.queue_position:
        line += f" · {ordinal(event.queue_position)} in line"
    if event.message == WORKER_LOST_MESSAGE:
        line += f" · {WORKER_LOST_MESSAGE}"
    return line


def error_text(message: str, error_id: str | None = None) -> str:
    return f"⚠️ {message}" + (f" (error id `{error_id}`)" if error_id else "")


def failure_text(error: str | None, error_id: str | None = None) -> str:
    """What a failed job says to the person who asked."""
    return error_text(error or "WAVE could not finish this one.", error_id)


def new_error_id() -> str:
    return uuid.uuid4().hex[:8]


def log_unexpected(where: str, exc: BaseException) -> str:
    """Log an unexpected failure with a short id the user also sees; returns the id."""
    error_id = new_error_id()
    log.error("%s failed (error id %s)", where, error_id, exc_info=exc)
    return error_id


def _cast(report: dict | None, session: Session) -> dict:
    return ((report or {}).get("sessions") or {}).get(session.value) or {}


def cast_summary(report: dict | None, previous: dict | None = None) -> str:
    """"🥁 drums: rain on the roof (sharp onsets, noisy -> drums)" per session. With ``previous`` (the report of
    the version before a remap), only the parts that changed say so, naming the sound that played them before."""
    if not report:
        return ""
    lines = []
    for session in SESSIONS:
        entry = _cast(report, session)
        who = entry.get("effect_name") or entry.get("effect")
        if not who:
            continue
        if previous is None:
            why = entry.get("fallback") or entry.get("reason") or ""
        else:
            before = _cast(previous, session)
            changed = before.get("effect") != entry.get("effect")
            why = f"🔁 changed (was {before.get('effect_name') or before.get('effect') or 'nobody'})" if changed else ""
        lines.append(f"{SESSION_EMOJI[session]} **{session.value}**: {who}" + (f" — {why}" if why else ""))
    song = report.get("song") or {}
    title = f"🎵 {song.get('title', '')} ({song.get('composer', '')})" if song else ""
    return "\n".join(([title] if title else []) + lines)


def cut_at_word(text: str, limit: int) -> str:
    """``text`` if it fits, else as many whole words as fit before an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    words = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return words.rstrip(" ,;:·—-") + "…"


def gallery_title(report: dict | None) -> str:
    """"Song · rain on the roof, kettle, door" : the song and the band's main sounds (drums first), cut at a word."""
    report = report or {}
    song = (report.get("song") or {}).get("title") or "A WAVE mix"
    names: list[str] = []
    for session in SESSIONS:
        entry = (report.get("sessions") or {}).get(session.value) or {}
        name = entry.get("effect_name") or entry.get("effect")
        if name and name not in names:
            names.append(name)
    title = f"{song} · {', '.join(names[:TITLE_SOURCES])}" if names else song
    return cut_at_word(title, MAX_TITLE_CHARS)


def describe_change(change: str | None, names: dict[str, str]) -> str:
    """A remap's change ("chair-1 moved keyboard -> drums") in the words people see: sounds by their names."""
    if not change:
        return "new casting"
    for variant_id in sorted(names, key=len, reverse=True):
        change = re.sub(rf"(?<![\w-]){re.escape(variant_id)}(?![\w-])", names[variant_id], change)
    change = re.sub(r"moved (\w+) -> (\w+)", r"moved from \1 to \2", change)
    return change.replace(" (instead of ", " (replacing ")


MAX_NOTICE_CHARS = 300
UNSURE_TEXT = "WAVE was not sure what this picture shows; a cue saying what is in it helps."


def sheet_notice(low_confidence: bool, notices: list[str]) -> str | None:
    """One short line about how sure the picture's reading is (plain text: each platform escapes it), or None."""
    if notices:
        return "🤔 " + cut_at_word(" ".join(notices), MAX_NOTICE_CHARS)
    return f"🤔 {UNSURE_TEXT}" if low_confidence else None


def roles(report: dict | None) -> dict[str, Session]:
    """variant id -> the session it plays in a render (sounds borrowed to fill a gap do not count)."""
    return {entry["effect"]: session for session in SESSIONS
            if (entry := _cast(report, session)).get("effect") and not entry.get("fallback")}


def previous_render(renders: list, version: int):
    """The finished render just before ``version`` (what a remap changed), or None."""
    earlier = [r for r in renders if r.version < version and r.status == "done"]
    return earlier[-1] if earlier else None


@dataclass(frozen=True)
class UploadCheck:
    ok: bool
    message: str = ""


def check_upload(filename: str, content_type: str | None, size: int) -> UploadCheck:
    """Type and size checks made before anything is downloaded."""
    name = (filename or "").lower()
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared in GENERIC_CONTENT_TYPES:
        type_ok = name.endswith(IMAGE_EXTENSIONS)
    else:  # a declared type that is not a picture is not one, whatever the name says
        type_ok = declared in IMAGE_CONTENT_TYPES
    if not type_ok:
        return UploadCheck(False, f"That file is not a picture WAVE can read: send a {PICTURE_FORMATS} photo.")
    if size <= 0:
        return UploadCheck(False, "That picture is empty.")
    if size > MAX_IMAGE_BYTES:
        return UploadCheck(False, f"That picture is {size / 2**20:.1f} MiB; the limit is {MAX_IMAGE_BYTES // 2**20} MiB.")
    return UploadCheck(True)


def clean_cue(cue: str | None) -> str | None:
    if not cue:
        return None
    cue = " ".join(cue.split())[:MAX_CUE_CHARS]
    return cue or None
