"""The Remix button under a gallery post (or a mix shown again) and the song picker it opens."""

from __future__ import annotations

from pipeline.songs import list_songs

REMIX_ACTION = "wave_remix"
REMIX_SONG_ACTION = "wave_remix_song"
MAX_OPTIONS = 100  # Slack's cap on a static select's options


def remix_blocks(text: str, job_id: str) -> list[dict]:
    """A message's text with a Remix button under it (its value is the job)."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
            {"type": "actions", "elements": [{
                "type": "button", "action_id": REMIX_ACTION, "value": job_id,
                "text": {"type": "plain_text", "text": "🎵 Remix with another song"}}]}]


def song_picker_blocks(job_id: str) -> list[dict]:
    options = [{"text": {"type": "plain_text", "text": s.title[:75]}, "value": s.id} for s in list_songs()[:MAX_OPTIONS]]
    return [{"type": "section", "block_id": f"{REMIX_SONG_ACTION}:{job_id}",
             "text": {"type": "mrkdwn", "text": "🎵 Which song should this band play for you?"},
             "accessory": {"type": "static_select", "action_id": REMIX_SONG_ACTION, "options": options,
                           "placeholder": {"type": "plain_text", "text": "A song"}}}]
