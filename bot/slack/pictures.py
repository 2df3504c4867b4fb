"""Taking a picture from a Slack file: pick the image, check its type and size, then download it with the bot token."""

from __future__ import annotations

from bot.common import check_upload
from bot.download import fetch
from bot.slack.context import SlackContext
from pipeline.errors import WaveInputError
from pipeline.vision.intake import MAX_IMAGE_BYTES, PICTURE_FORMATS

NO_PICTURE = f"Attach a photo ({PICTURE_FORMATS}) and WAVE will make music from it."


def first_picture(files: list[dict]) -> dict:
    """The first file that passes the picture checks; the first refusal's reason when none does."""
    if not files:
        raise WaveInputError(NO_PICTURE)
    reasons = []
    for file in files:
        check = check_upload(file.get("name") or "", file.get("mimetype"), int(file.get("size") or 0))
        if check.ok:
            return file
        reasons.append(check.message)
    raise WaveInputError(reasons[0])


async def complete(ctx: SlackContext, file: dict) -> dict:
    """Payloads may carry a stub of the file (``file_access: check_file_info``); files.info has the rest."""
    if (file.get("url_private_download") or file.get("url_private")) and file.get("mimetype") is not None:
        return file
    response = await ctx.client.files_info(file=file["id"])
    return response["file"]


async def download_picture(ctx: SlackContext, files: list[dict]) -> tuple[dict, bytes]:
    """Checks before anything is downloaded, then fetches only from Slack's own file hosts."""
    files = [await complete(ctx, f) for f in files]
    file = first_picture(files)
    url = file.get("url_private_download") or file.get("url_private")
    data = await fetch(url, allowed_hosts=ctx.settings.slack_file_hosts, max_bytes=MAX_IMAGE_BYTES,
                       headers=ctx.download_headers)
    return file, data
