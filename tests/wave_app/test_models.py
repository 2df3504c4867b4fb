"""`wave models check|download` on real model directories (tiny models with random weights, saved here) and on a
real Hugging Face cache layout; downloads with HF_HUB_OFFLINE=1 (there is no network here)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("huggingface_hub")
torch = pytest.importorskip("torch")

from pipeline.errors import WaveEngineError, WaveInputError
from wave_app import models_cmd
from wave_app.models_cmd import check_models, download_model, missing_parts, models_for
from wave_core.settings import Settings
from wave_testing.cli_helpers import run_command


def run_cli(argv: list[str], settings: Settings, monkeypatch) -> int:
    return run_command(argv, settings, monkeypatch, models_cmd)


def test_empty_cache_says_missing_and_how_to_fix(tmp_path, monkeypatch, capsys):
    settings = Settings(profile="gpu", model_dir=tmp_path / "empty-cache")
    states = check_models(settings)
    assert [s.spec.role for s in states] == ["vision", "effects"]
    for state in states:
        assert not state.present
        assert str(tmp_path / "empty-cache") in state.detail
        assert "wave models download --profile gpu" in state.fix and state.spec.setting in state.fix
    assert run_cli(["models", "check", "--json"], settings, monkeypatch) == 1
    reported = json.loads(capsys.readouterr().out)
    assert [r["present"] for r in reported] == [False, False]


def test_local_directories_with_config_and_weights_are_present(tiny_qwen_dir, tiny_audioldm2_dir, monkeypatch, capsys):
    settings = Settings(profile="gpu", qwen_model=str(tiny_qwen_dir), audioldm2_model=str(tiny_audioldm2_dir))
    vision, effects = check_models(settings)
    assert vision.present and vision.where == str(tiny_qwen_dir) and vision.size_bytes > 10_000
    assert effects.present and effects.detail == "local directory"
    assert run_cli(["models", "check"], settings, monkeypatch) == 0
    assert "present" in capsys.readouterr().out
    # download of a complete local directory is a no-op that says where it is
    assert download_model(models_for(settings)[0], settings) == tiny_qwen_dir


def test_incomplete_directories_name_what_is_missing(tiny_audioldm2_dir, tmp_path):
    broken = tmp_path / "pipeline"
    shutil.copytree(tiny_audioldm2_dir, broken)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    shutil.rmtree(broken / "vocoder")
    assert missing_parts(broken, "diffusers") == ["unet/weights (*.safetensors)", "vocoder/"]
    assert missing_parts(tmp_path / "nothing-here", "transformers") == ["config.json"]

    settings = Settings(profile="gpu", audioldm2_model=str(broken), qwen_model=str(tmp_path / "no-such-dir"))
    vision, effects = check_models(settings)
    assert not vision.present and "does not exist" in vision.detail
    assert not effects.present and "unet/weights" in effects.detail
    with pytest.raises(WaveInputError, match="WAVE_AUDIOLDM2_MODEL"):
        download_model(models_for(settings)[1], settings)


def put_in_hub_cache(cache: Path, repo_id: str, model: Path) -> Path:
    """Lay a model out the way huggingface_hub's cache stores a downloaded snapshot."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    shutil.copytree(model, snapshot)
    return snapshot


def test_cached_snapshot_is_found_offline_and_loads(tiny_audioldm2_dir, tmp_path):
    from pipeline.effects.audioldm2 import load_audioldm2

    cache = tmp_path / "hub"
    snapshot = put_in_hub_cache(cache, "acme/tiny-audioldm2", tiny_audioldm2_dir)
    settings = Settings(profile="gpu", effects_engine="audioldm2", vision_engine="lite",
                        audioldm2_model="acme/tiny-audioldm2", model_dir=cache)
    (state,) = check_models(settings)
    assert state.present and Path(state.where) == snapshot
    # with the weights present, download is offline-safe and returns the snapshot
    assert download_model(state.spec, settings) == snapshot
    # what `check` calls present is what the engine loads
    pipe = load_audioldm2("acme/tiny-audioldm2", torch.device("cpu"), cache_dir=cache)
    assert type(pipe).__name__ == "RankedAudioLDM2Pipeline"


def test_download_with_hub_offline_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = Settings(profile="gpu", model_dir=tmp_path / "cache")
    with pytest.raises(WaveEngineError) as caught:
        run_cli(["models", "download", "--profile", "gpu"], settings, monkeypatch)
    message = caught.value.user_message
    assert "HF_HUB_OFFLINE=1" in message and "Qwen/Qwen2.5-VL-7B-Instruct" in message
    assert str(tmp_path / "cache") in message
    assert not any((tmp_path / "cache").rglob("*.safetensors"))


def test_lite_profile_needs_no_weights(monkeypatch, capsys):
    settings = Settings(profile="lite")
    assert models_for(settings) == []
    assert run_cli(["models", "check"], settings, monkeypatch) == 0
    assert "needs no model weights" in capsys.readouterr().out
    assert [s.role for s in models_for(settings, "gpu")] == ["vision", "effects"]


def test_download_fetches_safetensors_and_no_pickled_copies(tmp_path):
    from huggingface_hub.utils import filter_repo_objects

    repository = [  # the kinds of files a diffusers repository on the Hub holds
        "model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
        "unet/diffusion_pytorch_model.bin", "vocoder/config.json", "vocoder/model.safetensors",
        "vocoder/pytorch_model.bin", "text_encoder/flax_model.msgpack", "tokenizer_2/spiece.model",
        "tokenizer/vocab.json", "audioldm2.ckpt", "language_model/model.safetensors",
    ]
    kept = set(filter_repo_objects(repository, ignore_patterns=models_cmd.IGNORE_PATTERNS))
    assert kept == {
        "model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors", "vocoder/config.json",
        "vocoder/model.safetensors", "tokenizer_2/spiece.model", "tokenizer/vocab.json",
        "language_model/model.safetensors",
    }
    # A directory with pickled weights only is not a model the engines load.
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"0" * 16)
    assert missing_parts(tmp_path, "transformers") == ["weights (*.safetensors)"]


def test_stable_audio_weights_are_checked_like_any_pipeline(tiny_stable_audio_dir, tmp_path):
    model = tiny_stable_audio_dir
    settings = Settings(profile="gpu", vision_engine="lite", effects_engine="stable_audio", stable_audio_model=str(model))
    (state,) = check_models(settings)
    assert state.spec.setting == "WAVE_STABLE_AUDIO_MODEL" and state.present
    missing = Settings(profile="gpu", vision_engine="lite", effects_engine="stable_audio", model_dir=tmp_path / "empty")
    (absent,) = check_models(missing)
    assert not absent.present and "stabilityai/stable-audio-open-1.0" == absent.spec.ref
    assert "wave models download --profile gpu" in absent.fix
