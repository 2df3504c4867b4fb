"""The request modal (picture, song, cue) and the song options it loads from the library."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from bot.common import MAX_CUE_CHARS
from pipeline.songs import AUTO, list_songs
from pipeline.types import SongInfo

REQUEST_CALLBACK = "wave_request"
PICTURE_SHORTCUT = "wave_picture"
IMAGE_BLOCK = "image"
SONG_BLOCK = "song"
CUE_BLOCK = "cue"
# Slack's limits: 100 options per list, 75 characters of option text.
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
IMAGE_FILETYPES = ["png", "jpg", "jpeg", "gif", "webp", "bmp", "tiff"]


class RequestOrigin(BaseModel):
    """Where the request was made (the modal's private_metadata): the result goes back there."""

    channel: str
    thread_ts: str | None = None
    file_id: str | None = None  # the picture of a message shortcut; the modal then has no file input
    file_name: str | None = None


class ModalRequest(BaseModel):
    origin: RequestOrigin
    files: list[dict]
    song: str
    cue: str | None


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def _option(value: str, text: str) -> dict:
    if len(text) > MAX_OPTION_TEXT:
        text = text[: MAX_OPTION_TEXT - 1] + "…"
    return {"text": _plain(text), "value": value}


AUTO_OPTION = _option(AUTO, "Auto: a song that fits the picture")


def song_label(info: SongInfo) -> str:
    return f"{info.title} ({info.composer})"


def song_options(query: str = "") -> list[dict]:
    """Options for the song select, filtered by what the person has typed."""
    words = query.lower().split()
    matches = [
        info for info in list_songs()
        if all(w in f"{info.id} {info.title} {info.composer} {' '.join(info.mood)}".lower() for w in words)
    ]
    options = [AUTO_OPTION] if not words or all(w in "auto" for w in words) else []
    options += [_option(info.id, song_label(info)) for info in matches]
    return options[:MAX_OPTIONS]


def request_modal(origin: RequestOrigin, cue: str | None = None) -> dict:
    blocks: list[dict] = []
    if origin.file_id:
        name = origin.file_name or "the message's picture"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"Picture: *{name}*"}})
    else:
        blocks.append({
            "type": "input", "block_id": IMAGE_BLOCK, "label": _plain("Photo"),
            "element": {"type": "file_input", "action_id": IMAGE_BLOCK, "filetypes": IMAGE_FILETYPES, "max_files": 1},
        })
    blocks.append({
        "type": "input", "block_id": SONG_BLOCK, "label": _plain("Song"),
        "element": {"type": "external_select", "action_id": SONG_BLOCK, "min_query_length": 0,
                    "initial_option": AUTO_OPTION, "placeholder": _plain("auto, or a song from the library")},
    })
    cue_element = {"type": "plain_text_input", "action_id": CUE_BLOCK, "max_length": MAX_CUE_CHARS,
                   "placeholder": _plain("make it melancholic")}
    if cue:
        cue_element["initial_value"] = cue[:MAX_CUE_CHARS]
    blocks.append({"type": "input", "block_id": CUE_BLOCK, "optional": True, "label": _plain("Mood (optional)"),
                   "element": cue_element})
    return {
        "type": "modal", "callback_id": REQUEST_CALLBACK, "title": _plain("WAVE"), "submit": _plain("Make music"),
        "close": _plain("Cancel"), "private_metadata": origin.model_dump_json(exclude_none=True), "blocks": blocks,
    }


def read_submission(view: dict) -> ModalRequest | None:
    """The modal's values; None when its metadata is not WAVE's."""
    try:
        origin = RequestOrigin.model_validate_json(view.get("private_metadata") or "")
    except ValidationError:
        return None
    values = (view.get("state") or {}).get("values") or {}
    files = ((values.get(IMAGE_BLOCK) or {}).get(IMAGE_BLOCK) or {}).get("files") or []
    selected = ((values.get(SONG_BLOCK) or {}).get(SONG_BLOCK) or {}).get("selected_option") or {}
    cue = ((values.get(CUE_BLOCK) or {}).get(CUE_BLOCK) or {}).get("value")
    return ModalRequest(origin=origin, files=files, song=selected.get("value") or AUTO, cue=cue)
