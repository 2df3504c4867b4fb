"""The ``openai`` vision engine: any server that speaks OpenAI's chat-completions protocol writes the sound sheet.

vLLM, SGLang, llama.cpp's server and Ollama all serve vision-language models this way. The photo travels as a
data URL (downscaled to the same pixel cap as the in-process engine), the sheet's JSON schema as
``response_format`` (servers with structured output then decode under it, as the ``qwen`` engine does in-process),
and the reply goes through the same repair and validation, with one corrected retry. Requests time out, and
connection errors, timeouts, 429 and 5xx answers are retried with exponential backoff.

Only the standard library talks HTTP here, so this engine needs no model stack at all.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from PIL import Image

from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.sheet import SoundSheet
from pipeline.vision import prompt
from pipeline.vision.correction import sheet_with_one_correction
from pipeline.vision.jsonrepair import parse_sound_sheet
from pipeline.vision.schema import DEFAULT_LIMITS, SheetLimits, max_reply_characters, sheet_output_schema

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 1024 * 28 * 28
RETRY_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}
MAX_RESPONSE_BYTES = 4 * 2**20
MAX_BACKOFF_S = 30.0


class OpenAIVision:
    """Photo (+ optional mood cue) -> :class:`SoundSheet` from an OpenAI-compatible server."""

    name = "openai"

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000/v1",
        model: str = "Qwen/Qwen2.5-VL-7B-Instruct",
        api_key: str | None = None,
        *,
        timeout_s: float = 120.0,
        retries: int = 3,
        backoff_s: float = 1.0,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        sheet_limits: SheetLimits = DEFAULT_LIMITS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise WaveInputError(f"the vision server's base URL must start with http:// or https:// (got {base_url!r})")
        if timeout_s <= 0 or retries < 0 or backoff_s < 0:
            raise WaveInputError("the vision server's timeout must be positive and its retries and backoff not negative")
        if max_pixels < 28 * 28:
            raise WaveInputError(f"max_pixels must be at least {28 * 28}, not {max_pixels}")
        self.base_url = base_url.rstrip("/")
        self.model_id = model
        self.api_key = api_key
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.temperature = float(temperature)
        self.max_pixels = int(max_pixels)
        self.sheet_limits = sheet_limits
        # The longest sheet the schema allows bounds the budget; a lower one keeps the prompt and the reply inside a
        # server's context window (a reply cut short is repaired or retried like any other).
        longest = max_reply_characters(sheet_limits) + 1
        self.max_tokens = min(int(max_tokens), longest) if max_tokens else longest
        self._sleep = sleep

    # ------------------------------------------------------------------------------------------- describing

    def describe(self, image: Image.Image, cue: str | None = None) -> SoundSheet:
        """The sound sheet for ``image``; :class:`WaveEngineError` when the server gives no usable sheet."""
        if not isinstance(image, Image.Image):
            raise WaveInputError("the vision stage needs a picture")
        image_url = image_data_url(image, self.max_pixels)
        return sheet_with_one_correction(
            lambda turns: self.reply(image_url, turns), lambda reply: self._parse(reply, cue),
            prompt.build_conversation(cue),
        )

    def _parse(self, reply: str, cue: str | None) -> SoundSheet:
        return parse_sound_sheet(reply, engine=self.name, model=self.model_id, cue=prompt.clean_cue(cue))

    def request_body(self, image_url: str, conversation: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "messages": openai_messages(conversation, image_url),
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "sound_sheet", "strict": True, "schema": sheet_output_schema(self.sheet_limits)},
            },
        }

    def reply(self, image_url: str, conversation: list[dict[str, Any]]) -> str:
        """The text of one chat completion for ``conversation``."""
        answer = self._post("/chat/completions", self.request_body(image_url, conversation))
        try:
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise WaveEngineError("the vision server's answer has no message", detail=str(answer)[:300]) from exc
        if not isinstance(content, str):
            raise WaveEngineError("the vision server's answer has no text", detail=str(content)[:300])
        return content

    # ------------------------------------------------------------------------------------------------ HTTP

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        url = self.base_url + path
        for attempt in range(self.retries + 1):
            problem = self._attempt(urllib.request.Request(url, data=data, headers=headers, method="POST"))
            if isinstance(problem, dict):
                return problem
            if attempt == self.retries:
                raise WaveEngineError(
                    f"the vision server at {self.base_url} did not answer after {self.retries + 1} tries; check "
                    "that it runs and serves WAVE_OPENAI_MODEL", detail=problem,
                )
            delay = min(MAX_BACKOFF_S, self.backoff_s * 2**attempt)
            log.warning("vision server: %s; retrying in %.1f s", problem, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")

    def _attempt(self, request: urllib.request.Request) -> dict[str, Any] | str:
        """The decoded answer, or why this try failed in a way worth retrying (other failures raise)."""
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode("utf-8", "replace")
            if exc.code in RETRY_STATUSES:
                return f"HTTP {exc.code}: {detail[:200]}"
            hint = " (check WAVE_OPENAI_API_KEY)" if exc.code in (401, 403) else ""
            raise WaveEngineError(f"the vision server refused the request with HTTP {exc.code}{hint}",
                                  detail=detail[:500]) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if len(raw) > MAX_RESPONSE_BYTES:
            raise WaveEngineError("the vision server's answer is larger than any sound sheet")
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise WaveEngineError("the vision server's answer is not JSON", detail=raw[:300].decode("utf-8", "replace")) from exc
        if not isinstance(answer, dict):
            raise WaveEngineError("the vision server's answer is not a JSON object", detail=str(answer)[:300])
        return answer


def image_data_url(image: Image.Image, max_pixels: int = DEFAULT_MAX_PIXELS) -> str:
    """The picture as a JPEG data URL, downscaled (aspect kept) to at most ``max_pixels`` pixels."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    pixels = rgb.width * rgb.height
    if pixels > max_pixels:
        scale = (max_pixels / pixels) ** 0.5
        rgb = rgb.resize((max(1, int(rgb.width * scale)), max(1, int(rgb.height * scale))), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def openai_messages(conversation: list[dict[str, Any]], image_url: str) -> list[dict[str, Any]]:
    """WAVE's chat turns in OpenAI's format: the image slot becomes an ``image_url`` part, text-only turns plain
    strings (what every server accepts for system and assistant turns)."""
    messages = []
    for turn in conversation:
        parts = turn["content"]
        if all(part.get("type") == "text" for part in parts):
            messages.append({"role": turn["role"], "content": "\n".join(part["text"] for part in parts)})
            continue
        content = [
            {"type": "image_url", "image_url": {"url": image_url}} if part.get("type") == "image"
            else {"type": "text", "text": part["text"]}
            for part in parts
        ]
        messages.append({"role": turn["role"], "content": content})
    return messages
