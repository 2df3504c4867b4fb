"""``wave models download|check``: the model weights a profile needs, fetched from the Hugging Face Hub or found on disk.

A model setting (``WAVE_QWEN_MODEL``, ``WAVE_AUDIOLDM2_MODEL``, ``WAVE_STABLE_AUDIO_MODEL``) is either a Hub id, kept in the Hugging Face cache
(``WAVE_MODEL_DIR`` when set, else ``HF_HOME``), or a local directory. Downloads resume where they stopped. With
``HF_HUB_OFFLINE=1`` nothing is downloaded: weights must already be on disk.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.effects import EFFECTS
from pipeline.engines import ModelKind, hub_offline, is_local_model
from pipeline.errors import WaveEngineError, WaveInputError
from pipeline.vision import VISION
from wave_core.engines import model_ref
from wave_core.settings import Settings, get_settings

out = Console()

# The engines load safetensors only (no pickled weights): a model repository that also carries *.bin copies would
# otherwise be downloaded twice.
WEIGHT_SUFFIXES = (".safetensors",)
IGNORE_PATTERNS = ["*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl", "*.msgpack", "*.h5", "*.onnx", "*.onnx_data", "*.ot",
                   "*.gguf", "flax_model*", "tf_model*", "*.tflite"]
MARKER_FILE: dict[ModelKind, str] = {"transformers": "config.json", "diffusers": "model_index.json"}


class ModelSpec(BaseModel):
    """One model a profile needs: what it is for, which setting names it and what that setting holds."""

    role: str
    setting: str
    ref: str
    kind: ModelKind

    @property
    def is_local(self) -> bool:
        return is_local_model(self.ref)


class ModelState(BaseModel):
    spec: ModelSpec
    present: bool
    where: str | None = None
    detail: str
    fix: str | None = None
    size_bytes: int | None = None


def models_for(settings: Settings, profile: str | None = None) -> list[ModelSpec]:
    """The weights the engines of ``profile`` (default: the configured one) load."""
    if profile is not None:
        settings = settings.model_copy(update={"profile": profile})
    engines = (VISION.entry(settings.resolved_vision_engine), EFFECTS.entry(settings.resolved_effects_engine))
    specs = []
    for stage, entry in zip(("vision", "effects"), engines, strict=True):
        if entry.model_setting and entry.model_kind:
            specs.append(ModelSpec(role=stage, setting=entry.model_setting, ref=model_ref(settings, entry.model_setting),
                                   kind=entry.model_kind))
    return specs


def cache_location(settings: Settings) -> Path:
    from huggingface_hub import constants

    return Path(settings.model_dir) if settings.model_dir else Path(constants.HF_HUB_CACHE)


def missing_parts(directory: Path, kind: ModelKind) -> list[str]:
    """What a model directory lacks to be loadable: its config, a component folder, a weights file or shard."""
    marker = directory / MARKER_FILE[kind]
    if not marker.is_file():
        return [MARKER_FILE[kind]]
    if kind == "transformers":
        return _missing_weights(directory)
    try:
        index = json.loads(marker.read_text())
    except ValueError:
        return [f"{MARKER_FILE[kind]} (unreadable)"]
    missing = []
    for name, value in index.items():
        if name.startswith("_") or not isinstance(value, list) or value[0] is None:
            continue
        component = directory / name
        if not component.is_dir():
            missing.append(f"{name}/")
        elif (component / "config.json").is_file():  # a model component (tokenizers and schedulers have no weights)
            missing += [f"{name}/{part}" for part in _missing_weights(component)]
    return missing


def _missing_weights(directory: Path) -> list[str]:
    for index_file in sorted(directory.glob("*.index.json")):
        try:
            shards = set(json.loads(index_file.read_text()).get("weight_map", {}).values())
        except ValueError:
            return [f"{index_file.name} (unreadable)"]
        return sorted(shard for shard in shards if not (directory / shard).is_file())
    if any(path.is_file() and path.suffix in WEIGHT_SUFFIXES for path in directory.iterdir()):
        return []
    return ["weights (*.safetensors)"]


def _size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def _download_fix(spec: ModelSpec, settings: Settings) -> str:
    hint = f"run `wave models download --profile gpu` (into {cache_location(settings)})"
    if hub_offline():
        hint += " on a machine with network access and HF_HUB_OFFLINE unset, then copy that cache here"
    return f"{hint}, or set {spec.setting} to a local directory that holds the model"


def check_model(spec: ModelSpec, settings: Settings) -> ModelState:
    """Whether the model is on disk and complete, without touching the network."""
    if spec.is_local:
        directory = Path(spec.ref).expanduser()
        if not directory.is_dir():
            return ModelState(spec=spec, present=False, detail=f"local directory {directory} does not exist",
                              fix=f"set {spec.setting} to the directory that holds the model, or to a Hub id")
        missing = missing_parts(directory, spec.kind)
        if missing:
            return ModelState(spec=spec, present=False, where=str(directory),
                              detail=f"local directory lacks {', '.join(missing[:4])}",
                              fix=f"copy the complete model into {directory}")
        return ModelState(spec=spec, present=True, where=str(directory), detail="local directory",
                          size_bytes=_size(directory))
    snapshot = cached_snapshot(spec.ref, settings)
    if snapshot is None:
        return ModelState(spec=spec, present=False, detail=f"not in the cache {cache_location(settings)}",
                          fix=_download_fix(spec, settings))
    missing = missing_parts(snapshot, spec.kind)
    if missing:
        return ModelState(spec=spec, present=False, where=str(snapshot),
                          detail=f"incomplete download: lacks {', '.join(missing[:4])}",
                          fix="run `wave models download --profile gpu` again: it resumes where it stopped")
    return ModelState(spec=spec, present=True, where=str(snapshot), detail="in the Hugging Face cache",
                      size_bytes=_size(snapshot))


def cached_snapshot(repo_id: str, settings: Settings) -> Path | None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, cache_dir=settings.model_dir, local_files_only=True))
    except (LocalEntryNotFoundError, HFValidationError, FileNotFoundError):
        return None


def check_models(settings: Settings, profile: str | None = None) -> list[ModelState]:
    return [check_model(spec, settings) for spec in models_for(settings, profile)]


def download_model(spec: ModelSpec, settings: Settings) -> Path:
    """Fetch ``spec`` into the cache (resuming a partial download) and return its directory."""
    state = check_model(spec, settings)
    if state.present:
        return Path(state.where)
    if spec.is_local:
        raise WaveInputError(f"{spec.setting} points to {spec.ref}, which {state.detail.removeprefix('local directory ')}; "
                             f"{state.fix}.")
    if hub_offline():
        raise WaveEngineError(
            f"Cannot download {spec.ref}: HF_HUB_OFFLINE=1 is set, so nothing is fetched from the Hugging Face Hub. "
            f"Unset HF_HUB_OFFLINE and run `wave models download --profile gpu` again, or copy the weights into "
            f"{cache_location(settings)} from a machine that has them."
        )
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    try:
        path = snapshot_download(spec.ref, cache_dir=settings.model_dir, ignore_patterns=IGNORE_PATTERNS)
    except GatedRepoError as exc:
        raise WaveEngineError(f"{spec.ref} is gated: accept its licence on the model's Hub page and set HF_TOKEN.",
                              detail=str(exc)) from exc
    except RepositoryNotFoundError as exc:
        raise WaveInputError(f"There is no model {spec.ref!r} on the Hugging Face Hub; check {spec.setting}.",
                             detail=str(exc)) from exc
    except (HfHubHTTPError, OSError, ConnectionError) as exc:
        raise WaveEngineError(f"Downloading {spec.ref} failed; check the network and run the command again "
                              "(it resumes where it stopped).", detail=f"{type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # httpx and friends raise their own connection errors
        raise WaveEngineError(f"Downloading {spec.ref} failed; check the network and run the command again.",
                              detail=f"{type(exc).__name__}: {exc}") from exc
    return Path(path)


# ----------------------------------------------------------------------------------------------------- commands


def _gib(size: int | None) -> str:
    return "-" if size is None else f"{size / 2**30:.1f} GiB"


def print_states(states: list[ModelState]) -> None:
    table = Table()
    for column in ("role", "model", "state", "size", "where / how to fix"):
        table.add_column(column)
    for state in states:
        mark = "[green]present[/]" if state.present else "[red]missing[/]"
        info = state.where if state.present else f"{state.detail}; {state.fix}"
        table.add_row(state.spec.role, escape(state.spec.ref), mark, _gib(state.size_bytes), escape(info or ""))
    out.print(table)


def cmd_models(args: argparse.Namespace) -> int:
    settings = get_settings()
    profile = args.profile or settings.profile
    specs = models_for(settings, profile)
    if not specs:
        out.print(f"The {profile} profile needs no model weights. For the gpu profile: "
                  f"`wave models {args.action} --profile gpu`.")
        return 0
    if args.action == "check":
        states = check_models(settings, profile)
        if args.json:
            print(json.dumps([state.model_dump() for state in states], indent=2))
        else:
            print_states(states)
        return 0 if all(state.present for state in states) else 1
    out.print(f"model cache: {cache_location(settings)}")
    for spec in specs:
        out.print(f"[bold]{spec.role}[/]: {spec.ref}")
        path = download_model(spec, settings)
        out.print(f"  ready in {path}")
    return 0


def register(sub: argparse._SubParsersAction, add) -> None:
    p = add("models", cmd_models, "Model weights: `wave models download` fetches them, `wave models check` says what is there.")
    p.add_argument("action", choices=["download", "check"])
    p.add_argument("--profile", choices=["lite", "gpu"], help="whose weights (default WAVE_PROFILE)")
    p.add_argument("--json", action="store_true", help="machine-readable output (check)")
