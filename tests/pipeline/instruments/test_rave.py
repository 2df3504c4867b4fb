"""The rave timbre engine with small TorchScript models built and saved by the tests."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pipeline.audio import load_effect  # noqa: E402
from pipeline.errors import WaveEngineError  # noqa: E402
from pipeline.instruments import rave  # noqa: E402
from pipeline.instruments.rave import apply_rave, load_model  # noqa: E402

SR = 44100
MODEL_SR = 48000
RATIO = 4


class StridedCodec(torch.nn.Module):
    """A RAVE-shaped codec: encode = strided conv to a latent, decode = transposed conv back.

    The kernels are identity frames, so decode(encode(x)) == x; ``seen_samples`` records the length it was given.
    """

    def __init__(self, channels: int = 1):
        super().__init__()
        self.sr = MODEL_SR
        self.n_channels = channels
        self.compression_ratio = RATIO
        latent = RATIO * channels
        self.encoder = torch.nn.Conv1d(channels, latent, RATIO, stride=RATIO, bias=False)
        self.decoder = torch.nn.ConvTranspose1d(latent, channels, RATIO, stride=RATIO, bias=False)
        identity = torch.eye(latent).reshape(latent, channels, RATIO)
        with torch.no_grad():
            self.encoder.weight.copy_(identity)
            self.decoder.weight.copy_(identity)
        self.register_buffer("seen_samples", torch.zeros(1, dtype=torch.long))
        self.register_buffer("seen_channels", torch.zeros(1, dtype=torch.long))

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        self.seen_samples.fill_(x.shape[-1])
        self.seen_channels.fill_(x.shape[1])
        return self.encoder(x)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class ForwardOnly(torch.nn.Module):
    """A model with only ``forward``: halves the signal, so the test can tell it ran."""

    def __init__(self):
        super().__init__()
        self.sr = SR

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x


class Flattening(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.sr = SR

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(-1)


class Exploding(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.sr = SR

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / torch.zeros_like(x) * 0.0


def save(module: torch.nn.Module, path: Path) -> Path:
    torch.jit.script(module).save(str(path))
    return path


@pytest.fixture(autouse=True)
def fresh_cache():
    rave._models.clear()
    yield
    rave._models.clear()


@pytest.fixture
def snare(sample) -> np.ndarray:
    return load_effect(sample("sn_dolf"), SR).audio


def test_codec_runs_at_model_rate_and_keeps_the_sound(tmp_path, snare):
    path = save(StridedCodec(), tmp_path / "codec.ts")
    out = apply_rave(snare, SR, path)
    assert out.dtype == np.float32 and out.shape == snare.shape
    model = load_model(path)
    expected = int(np.ceil(len(snare) * MODEL_SR / SR / RATIO) * RATIO)  # resampled to 48 kHz, padded to the ratio
    assert int(model.seen_samples.item()) == expected
    # An identity codec gives back the sound after the trip to 48 kHz and back.
    assert np.corrcoef(out, snare)[0, 1] > 0.99
    assert abs(np.max(np.abs(out)) - np.max(np.abs(snare))) < 0.05


def test_model_channels_are_honoured(tmp_path, snare):
    path = save(StridedCodec(channels=2), tmp_path / "stereo.ts")
    out = apply_rave(snare, SR, path)
    assert int(load_model(path).seen_channels.item()) == 2
    assert out.shape == snare.shape and np.corrcoef(out, snare)[0, 1] > 0.99


def test_forward_is_used_without_encode_decode(tmp_path, snare):
    out = apply_rave(snare, SR, save(ForwardOnly(), tmp_path / "half.ts"))
    np.testing.assert_allclose(out, 0.5 * snare, atol=1e-6)


def test_models_are_cached_per_path(tmp_path):
    path = save(ForwardOnly(), tmp_path / "half.ts")
    assert load_model(path) is load_model(path)
    other = save(ForwardOnly(), tmp_path / "other.ts")
    assert load_model(other) is not load_model(path)


def test_missing_model_file(tmp_path, snare):
    with pytest.raises(WaveEngineError, match="not found"):
        apply_rave(snare, SR, tmp_path / "absent.ts")


def test_file_that_is_not_torchscript(tmp_path, snare):
    path = tmp_path / "weights.ts"
    path.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(WaveEngineError, match="not a TorchScript"):
        apply_rave(snare, SR, path)


def test_wrong_output_shape(tmp_path, snare):
    with pytest.raises(WaveEngineError, match="expected \\(1, channels, samples\\)"):
        apply_rave(snare, SR, save(Flattening(), tmp_path / "flat.ts"))


def test_nan_output(tmp_path, snare):
    with pytest.raises(WaveEngineError, match="NaN"):
        apply_rave(snare, SR, save(Exploding(), tmp_path / "nan.ts"))


def test_missing_torch_names_the_models_extra(monkeypatch, tmp_path, snare):
    monkeypatch.setitem(sys.modules, "torch", None)  # what `import torch` meets on a base install
    with pytest.raises(WaveEngineError, match="models"):
        apply_rave(snare, SR, tmp_path / "any.ts")


def test_module_imports_without_torch(monkeypatch):
    import importlib

    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.delitem(sys.modules, "pipeline.instruments.rave")
    module = importlib.import_module("pipeline.instruments.rave")
    assert callable(module.apply_rave)
