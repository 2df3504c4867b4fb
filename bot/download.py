"""Downloading a user's file only from the platform's own file hosts, with a size cap enforced while streaming."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import aiohttp

from pipeline.errors import WaveInputError

log = logging.getLogger(__name__)


def host_allowed(url: str, allowed_hosts: tuple[str, ...] | list[str]) -> bool:
    """``allowed_hosts`` entries are host names (https on its default port), or ``host:port`` for a server on
    another port, such as a local test server (the only case where plain http is accepted)."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:  # also what urlsplit says of look-alike characters that would hide a "@" or "#"
        return False
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        return False
    allowed = {entry.strip().lower() for entry in allowed_hosts}
    host = parts.hostname.lower()
    if port is not None and not (parts.scheme == "https" and port == 443):
        return f"{host}:{port}" in allowed
    return parts.scheme == "https" and host in allowed


async def fetch(url: str, *, allowed_hosts: tuple[str, ...] | list[str], max_bytes: int,
                headers: dict[str, str] | None = None, session: aiohttp.ClientSession | None = None) -> bytes:
    """The file at ``url``; refuses other hosts, redirects and anything over ``max_bytes``."""
    if not host_allowed(url, allowed_hosts):
        log.warning("refused a download from %s", urlsplit(url).hostname)
        raise WaveInputError("WAVE only downloads files from the chat platform's own file servers.")
    own = session is None
    session = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
    try:
        async with session.get(url, headers=headers or {}, allow_redirects=False) as response:
            if response.status != 200:
                raise WaveInputError(f"The file could not be downloaded (HTTP {response.status}).")
            if response.content_length is not None and response.content_length > max_bytes:
                raise WaveInputError(f"The file is larger than {max_bytes // 2**20} MiB.")
            data = bytearray()
            async for chunk in response.content.iter_chunked(65536):
                data += chunk
                if len(data) > max_bytes:
                    raise WaveInputError(f"The file is larger than {max_bytes // 2**20} MiB.")
            return bytes(data)
    except aiohttp.ClientError as exc:
        raise WaveInputError("The file could not be downloaded; try again.") from exc
    finally:
        if own:
            await session.close()
