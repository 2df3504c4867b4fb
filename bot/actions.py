"""The buttons under a result, for every chat platform: which there are, who may press them, what they say.

Each button's id carries its action and the job id (``wave:<action>:<job id>`` on Discord; the action id and the
button's value on Slack), so a button keeps working after a restart; the job id is checked before it is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jobs.client import JobResult, SourceResult

JOB_ID_PATTERN = r"[0-9a-f]{32}"
MAX_CHOICES = 25  # a Discord select and a Slack static select show at most this many options
MAX_OPTION_CHARS = 75  # Slack's option text limit; Discord allows 100


@dataclass(frozen=True)
class ResultAction:
    name: str  # in ids: wave:<name>:<job id>
    emoji: str
    label: str
    changes: bool  # only the owner (or an admin) may press it


NEW_SOUND = ResultAction("sound", "🎲", "New sound", True)
NEW_SONG = ResultAction("song", "🎵", "Another song", True)
EDIT_SHEET = ResultAction("edit", "✏️", "Edit the sheet", True)
INSTRUMENTS = ResultAction("zip", "⬇️", "Instruments", False)
DELETE = ResultAction("delete", "🗑", "Delete", True)
RESULT_ACTIONS = (NEW_SOUND, NEW_SONG, EDIT_SHEET, INSTRUMENTS, DELETE)
# Not under the result but on each sound where reactions cannot go (a private result): the part it plays.
MOVE_SOUND = ResultAction("move", "🔀", "Move to…", True)
ACTIONS_BY_NAME = {action.name: action for action in RESULT_ACTIONS}
ACTION_NAMES = "|".join(ACTIONS_BY_NAME)
ACTION_ID = re.compile(rf"wave:(?P<action>{ACTION_NAMES}):(?P<job_id>{JOB_ID_PATTERN})")

NOT_YOURS = "Only the person who made this mix (or a server admin) can change or delete it."
PICK_SOURCE = "🎲 Which sound should get a new take? The music is played again with it."
PICK_SONG = "🎵 Which song should the same band play?"
SHEET_EDIT_LABEL = "sound-id: how it is played (keep the ids)"
SHEET_EDIT_TITLE = "Edit the sound sheet"
NOTHING_CHANGED = "Nothing changed in the sheet, so nothing was made again."
DELETED = "🗑 Deleted: the mix, its messages and its files."
INSTRUMENTS_TEXT = ("⬇️ The band's instruments: one folder per part with an SFZ, an SF2 and the samples. "
                    "Open the SFZ in an SFZ player (sforzando, Sfizz) or the SF2 in your DAW.")


def may_change(action: ResultAction, user_id: str, owner_id: str, is_admin: bool) -> bool:
    return not action.changes or user_id == owner_id or is_admin


def source_label(source: SourceResult) -> str:
    label = f"{source.name} ({source.play_method})"
    return label if len(label) <= MAX_OPTION_CHARS else label[: MAX_OPTION_CHARS - 1] + "…"


def source_choices(result: JobResult) -> list[tuple[str, str]]:
    """(variant id, label) of the sounds one can ask a new take of."""
    return [(s.variant_id, source_label(s)) for s in result.sources][:MAX_CHOICES]


def song_choices(current: str | None) -> list[tuple[str, str]]:
    """(song id, title) of the library songs other than the one playing now."""
    from pipeline.songs import list_songs

    return [(info.id, info.title[:MAX_OPTION_CHARS]) for info in list_songs() if info.id != current][:MAX_CHOICES]


def playing_song(result: JobResult) -> str | None:
    latest = result.latest
    return (latest.casting.song if latest else None) or result.song


def source_name(result: JobResult, variant_id: str) -> str:
    return next((s.name for s in result.sources if s.variant_id == variant_id), variant_id)


IN_THE_THREAD, HERE = "in the thread", "here"  # where a change's new mix comes: a private result has no thread


def new_sound_started(name: str, where: str = IN_THE_THREAD) -> str:
    return f"🎲 Making a new sound for **{name}**; the new mix comes {where}."


def new_song_started(title: str, where: str = IN_THE_THREAD) -> str:
    return f"🎵 The band is learning **{title}**; the new mix comes {where}."


def move_started(name: str, session: str) -> str:
    return f"🔀 Moving **{name}** to {session}; the new mix comes here."


def sheet_edit_started(where: str = IN_THE_THREAD) -> str:
    return f"✏️ Making the edited sounds again; the new mix comes {where}."


def too_large_text(size: int, limit: int) -> str:
    return (f"The instruments zip is {size / 1_048_576:.1f} MiB, over the {limit / 1_048_576:.0f} MiB this place "
            "accepts for uploads, so it cannot be sent here.")
