"""WAVE's settings: environment variables with the ``WAVE_`` prefix, or a ``.env`` file in the working directory."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.effects import EFFECTS
from pipeline.errors import WaveInputError
from pipeline.vision import VISION

Profile = Literal["lite", "gpu"]
VisionEngineName = Literal[VISION.names]  # type: ignore[valid-type]
EffectsEngineName = Literal[EFFECTS.names]  # type: ignore[valid-type]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAVE_", env_file=".env", extra="ignore")

    profile: Profile = Field("lite", description="lite: CPU, no weights (the embedded default); gpu: Qwen2.5-VL + AudioLDM2.")
    data_dir: Path = Field(Path(".wave"), description="Working data: caches, artifacts, the SQLite database.")
    sample_rate: int = Field(44100, description="Sample rate of instruments, stems and the mix.")
    device: str = Field("auto", description="Torch device for the model engines: auto, cuda, cuda:N or cpu.")

    # Vision
    vision_engine: VisionEngineName | None = Field(None, description="Overrides the profile's vision engine (openai: a VLM behind an OpenAI-compatible server).")
    qwen_model: str = Field("Qwen/Qwen2.5-VL-7B-Instruct", description="Hub id or local directory of the Qwen2.5-VL model (the 3B model works too).")
    qwen_max_pixels: int = Field(1024 * 28 * 28, description="Upper bound on image pixels fed to Qwen2.5-VL (caps image tokens).")
    qwen_max_new_tokens: int = Field(1024, description="Token budget for one sheet (qwen and openai engines).")
    qwen_constrained: bool = Field(True, description="Decode the sheet under its JSON schema (xgrammar), so the model can only write a valid sheet.")
    openai_base_url: str = Field("http://127.0.0.1:8000/v1", description="Base URL of the OpenAI-compatible server for WAVE_VISION_ENGINE=openai (vLLM, SGLang, llama.cpp, Ollama: http://127.0.0.1:11434/v1).")
    openai_model: str = Field("Qwen/Qwen2.5-VL-7B-Instruct", description="Model name the server knows the vision model by.")
    openai_api_key: str | None = Field(None, description="Bearer key for the vision server, if it wants one.")
    openai_timeout_s: float = Field(120.0, description="Seconds one vision request may take before it is retried.")
    openai_retries: int = Field(3, description="Retries (exponential backoff) after connection errors, timeouts, 429 and 5xx answers.")

    # Effects
    effects_engine: EffectsEngineName | None = Field(None, description="Overrides the profile's effects engine (stable_audio: Stable Audio Open, whose licence allows commercial use below a revenue threshold).")
    audioldm2_model: str = Field("cvssp/audioldm2", description="Hub id or local directory of the AudioLDM2 pipeline.")
    audioldm2_steps: int = Field(25, description="Diffusion steps (DPM-Solver multistep).")
    audioldm2_waveforms_per_prompt: int | None = Field(None, description="Candidates per effect ranked with CLAP (default 2 on a GPU, 1 on CPU).")
    stable_audio_model: str = Field("stabilityai/stable-audio-open-1.0", description="Hub id or local directory of the Stable Audio Open pipeline (gated: accept its licence on the Hub first).")
    stable_audio_steps: int = Field(50, description="Diffusion steps for Stable Audio Open (cosine DPM-Solver).")
    effect_seconds: float = Field(5.0, description="Length of each generated effect in seconds.")
    model_dir: Path | None = Field(None, description="Directory for downloaded model weights (Hugging Face cache).")

    # Instruments
    timbre_engine: Literal["dsp", "rave"] = Field("dsp", description="dsp (default) or rave (needs a TorchScript model per session).")
    rave_drums: Path | None = Field(None, description="TorchScript RAVE model for the drums session.")
    rave_bass: Path | None = Field(None, description="TorchScript RAVE model for the bass session.")
    rave_guitar: Path | None = Field(None, description="TorchScript RAVE model for the guitar session.")
    rave_keyboard: Path | None = Field(None, description="TorchScript RAVE model for the keyboard session.")

    # Mix
    compressed_format: Literal["mp3", "ogg"] = Field("mp3", description="Format of the compressed copy of the mix.")

    # Jobs and storage
    database_url: str = Field("sqlite+aiosqlite:///.wave/wave.db", description="SQLAlchemy URL: SQLite file (default) or postgresql+asyncpg://...")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis for the job queues and live progress.")
    queue_prefix: str = Field("wave", description="Prefix of the Redis queue names (wave:gpu, wave:cpu).")
    artifacts_dir: Path = Field(Path(".wave/artifacts"), description="Root of the file artifact store (used when WAVE_STORE_URL is unset).")
    store_url: str | None = Field(None, description="s3://bucket/prefix: keep artifacts in an S3-compatible bucket that every host shares; unset: the local folder WAVE_ARTIFACTS_DIR.")
    store_endpoint_url: str | None = Field(None, description="Endpoint of an S3-compatible store (MinIO, R2, Ceph RGW: https://host:port); unset: AWS S3.")
    store_region: str | None = Field(None, description="Region of the bucket; unset: AWS_REGION / AWS_DEFAULT_REGION or the profile's.")
    store_profile: str | None = Field(None, description="AWS profile (~/.aws/credentials) with the store's credentials; unset: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, the default profile or the instance role.")
    store_addressing_style: Literal["auto", "path", "virtual"] = Field("auto", description="Bucket in the path (MinIO, Ceph usually) or in the host name (AWS, R2).")
    store_retries: int = Field(5, description="Attempts for one store request on transient errors (with exponential backoff).")
    store_cache_mb: int = Field(2048, description="Size of each host's local read cache of store artifacts (in WAVE_DATA_DIR/store-cache).")
    artifact_retention_days: int = Field(30, description="`wave gc` deletes artifacts of jobs older than this.")
    max_concurrent_jobs_per_user: int = Field(1, description="Jobs one person may have running or queued at once.")
    max_jobs_per_user_per_hour: int = Field(10, description="Jobs one person may start per hour.")
    max_queue_length: int = Field(100, description="Jobs waiting at once, across everyone; more are refused.")
    gpu_stage_timeout_s: int = Field(600, description="Time limit of the vision + effects task.")
    cpu_stage_timeout_s: int = Field(300, description="Time limit of the casting + instruments + render + mix task.")
    job_retries: int = Field(3, description="Attempts for a task that failed for a passing reason.")

    # Operations
    metrics_port: int | None = Field(None, description="Port of the Prometheus /metrics endpoint of a worker or bot process; unset: no endpoint.")
    metrics_poll_s: float = Field(15.0, description="Seconds between readings of queue depth and jobs by state for the metrics.")
    log_format: Literal["text", "json", "kv"] = Field("text", description="Log lines of workers and bots: text, json (one object a line) or kv (key=value).")
    log_level: str = Field("INFO", description="Log level of workers and bots: DEBUG, INFO, WARNING or ERROR.")

    # Chat
    discord_token: str | None = Field(None, description="Discord bot token.")
    discord_guild_id: int | None = Field(None, description="Sync commands to this guild only (development); unset syncs globally.")
    discord_attachment_hosts: list[str] = Field(["cdn.discordapp.com", "media.discordapp.net"], description="Hosts WAVE downloads Discord attachments from.")
    discord_api_base: str | None = Field(None, description="Discord REST API base URL, for a proxy or a test server (unset: https://discord.com/api/v10).")
    discord_gateway_url: str | None = Field(None, description="Discord gateway WebSocket URL, for a proxy or a test server (unset: wss://gateway.discord.gg/).")
    slack_bot_token: str | None = Field(None, description="Slack bot token (xoxb-...).")
    slack_app_token: str | None = Field(None, description="Slack app-level token (xapp-...) for Socket Mode.")
    slack_signing_secret: str | None = Field(None, description="Slack signing secret (HTTP mode).")
    slack_mode: Literal["socket", "http"] = Field("socket", description="How the Slack app receives events.")
    slack_port: int = Field(3000, description="Port of the Slack app in HTTP mode.")
    slack_file_hosts: list[str] = Field(["files.slack.com"], description="Hosts WAVE downloads Slack files from.")
    slack_gallery_channel: str | None = Field(None, description="Default Slack gallery channel id.")
    slack_api_base: str | None = Field(None, description="Slack Web API base URL, for a proxy or a test server (unset: https://slack.com/api/).")
    slack_public_url: str = Field("https://wave.example.com", description="Public https base URL of the Slack app in HTTP mode; the HTTP-mode manifest's request URLs are built from it.")

    # Remaps
    instrument_cache_mb: int = Field(512, description="Size of the worker's cache of built instruments (in WAVE_DATA_DIR/instrument-cache); a remap rebuilds only the parts whose sound changed. 0 turns it off.")
    stem_cache_mb: int = Field(384, description="Memory a worker keeps for the stems of recent renders and their shaping in the mix; a remap plays and shapes again only the parts whose sound changed. 0 turns it off.")
    remap_prepare_instruments: int = Field(12, description="Instruments a worker builds ahead, while idle after a render, for the remaps people are likely to ask for next (two cast sounds trading parts, then the bench's sounds); needs the instrument cache. 0 turns it off.")

    @field_validator("store_url", "store_endpoint_url", "store_region", "store_profile", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value  # `WAVE_STORE_URL=` in a .env file

    @field_validator("discord_api_base", "slack_api_base", "discord_gateway_url", "slack_public_url", mode="before")
    @classmethod
    def _checked_url(cls, value: object, info: ValidationInfo) -> object:
        if (value is None or (isinstance(value, str) and not value.strip())) and info.field_name != "slack_public_url":
            return None
        schemes = ("ws", "wss") if info.field_name == "discord_gateway_url" else ("http", "https")
        parts = urlsplit(str(value).strip())
        if parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
            raise ValueError(f"expected a {' or '.join(schemes)} URL with a host, like {schemes[-1]}://host/path")
        return str(value).strip()

    @property
    def resolved_vision_engine(self) -> str:
        return self.vision_engine or ("qwen" if self.profile == "gpu" else "lite")

    @property
    def resolved_effects_engine(self) -> str:
        return self.effects_engine or ("audioldm2" if self.profile == "gpu" else "lite")

    def rave_model_for(self, session: str) -> Path | None:
        return getattr(self, f"rave_{session}")


class SettingsError(WaveInputError):
    """A WAVE_* variable or .env entry with a value WAVE cannot use."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(settings_problem(exc)) from None


def settings_problem(exc: ValidationError) -> str:
    """``WAVE_PROFILE='bogus': Input should be 'lite' or 'gpu'`` for each wrong setting, as one message."""
    problems = []
    for error in exc.errors():
        name = "WAVE_" + "_".join(str(part) for part in error["loc"]).upper()
        value = error.get("input")
        shown = f"={value!r}" if isinstance(value, (str, int, float)) and len(str(value)) <= 80 else ""
        problems.append(f"{name}{shown}: {error['msg']}")
    return "Bad setting (environment or .env): " + "; ".join(problems) + "."
