"""CLAP's log-mel input features computed with torch on the pipeline's device.

transformers' ``ClapFeatureExtractor`` works in numpy on the CPU, so ranking candidates inside a GPU job copied
every waveform to the host, resampled it and built the spectrograms there. This module does the same sums (the
extractor's own slaney mel filters, periodic Hann window, centred reflect-padded STFT, power in dB) with the audio
left where it is. It covers the unfused CLAP of the published AudioLDM2 checkpoints (``truncation="rand_trunc"``,
``padding="repeatpad"``); a clip longer than the extractor's window is cut to its start instead of a random crop,
so ranking stays deterministic.
"""

from __future__ import annotations

import torch

ON_DEVICE_TRUNCATION = "rand_trunc"
ON_DEVICE_PADDING = "repeatpad"
_MEL_FLOOR = 1e-10


def supports_on_device(feature_extractor) -> bool:
    return (
        getattr(feature_extractor, "truncation", None) == ON_DEVICE_TRUNCATION
        and getattr(feature_extractor, "padding", None) == ON_DEVICE_PADDING
    )


def resample(audio: torch.Tensor, orig_rate: int, target_rate: int) -> torch.Tensor:
    """Band-limited resampling of ``(batch, samples)`` by zero-padding or cutting the spectrum (as
    ``scipy.signal.resample`` does)."""
    if orig_rate == target_rate:
        return audio
    samples = audio.shape[-1]
    out_samples = round(samples * target_rate / orig_rate)
    spectrum = torch.fft.rfft(audio.float(), dim=-1)
    bins = out_samples // 2 + 1
    if spectrum.shape[-1] >= bins:
        spectrum = spectrum[..., :bins]
    else:
        spectrum = torch.nn.functional.pad(spectrum, (0, bins - spectrum.shape[-1]))
    return torch.fft.irfft(spectrum, n=out_samples, dim=-1) * (out_samples / samples)


def repeat_pad(audio: torch.Tensor, length: int) -> torch.Tensor:
    """Each clip tiled whole as often as it fits in ``length`` samples, then zero-padded (CLAP's ``repeatpad``);
    longer clips are cut to their first ``length`` samples."""
    samples = audio.shape[-1]
    if samples >= length:
        return audio[..., :length]
    tiled = audio.repeat(1, max(1, length // samples)) if samples else audio
    return torch.nn.functional.pad(tiled, (0, length - tiled.shape[-1]))


def log_mel_features(audio: torch.Tensor, feature_extractor) -> torch.Tensor:
    """``(batch, 1, frames, mels)`` features for ``(batch, samples)`` audio at the extractor's sampling rate."""
    extractor = feature_extractor
    device = audio.device
    length = int(extractor.nb_max_samples)
    waveform = repeat_pad(audio.float(), length)
    window = torch.hann_window(extractor.fft_window_size, periodic=True, device=device)
    spectrum = torch.stft(
        waveform, n_fft=extractor.fft_window_size, hop_length=extractor.hop_length, window=window, center=True,
        pad_mode="reflect", return_complex=True,
    )
    power = spectrum.abs().pow(2)  # (batch, bins, frames)
    filters = torch.as_tensor(extractor.mel_filters_slaney, dtype=torch.float32, device=device)  # (bins, mels)
    mel = torch.einsum("bkf,km->bfm", power, filters).clamp_min(_MEL_FLOOR)
    return (10.0 * torch.log10(mel)).unsqueeze(1)
