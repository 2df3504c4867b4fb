"""Intake costs little before it says no: header checks and quotas come before any decode or store, large PNGs are
decoded band by band, and a folder, an AVIF file or an overlong cue get their own plain message."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile, features

from jobs import client as jobs_client
from jobs.client import JobsClient, QuotaExceeded, SubmitRequest
from pipeline.errors import WaveInputError
from pipeline.vision import intake
from pipeline.vision.intake import MAX_CUE_CHARS, check_image_header, load_image
from wave_testing.jobs_helpers import picture_bytes

ROOT = Path(__file__).resolve().parents[2]


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def photo(width: int, height: int, mode: str) -> Image.Image:
    """Noisy but smooth pixels, so the PNG encoder picks every filter type somewhere."""
    rng = np.random.default_rng(width * height)
    rgb = Image.fromarray(rng.integers(0, 255, (height // 8 + 1, width // 8 + 1, 4), dtype=np.uint8), "RGBA")
    rgba = rgb.resize((width, height), Image.Resampling.BILINEAR)
    if mode == "P":
        return rgba.convert("RGB").quantize(64)
    return rgba.convert(mode)


@pytest.fixture
def loads(monkeypatch) -> list[tuple[int, int]]:
    """The size of every picture Pillow decodes during the test."""
    sizes: list[tuple[int, int]] = []
    real = ImageFile.ImageFile.load

    def load(self):
        if self.tile:
            sizes.append(self.size)
        return real(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return sizes


@pytest.fixture
def stored_keys(runtime):
    return lambda: {key for key, _ in runtime.store.keys()}  # noqa: SIM118 - the store's own listing


# ---------------------------------------------------------------------------------------------- PNG bands


@pytest.mark.parametrize("mode", ["L", "RGB", "P", "LA", "RGBA"])
@pytest.mark.parametrize("max_side", [64, 2048])
def test_png_decoded_band_by_band_gives_the_same_pixels(monkeypatch, mode: str, max_side: int):
    picture = photo(701, 603, mode)
    params = {"transparency": 3} if mode == "P" else {}
    payload = encode(picture, "PNG", **params)
    banded = np.asarray(load_image(payload, max_side=max_side))
    monkeypatch.setattr(intake, "png_bands", lambda data, rows: None)  # the whole-picture decode
    whole = np.asarray(load_image(payload, max_side=max_side))
    assert banded.shape == whole.shape and np.array_equal(banded, whole)


def test_large_png_is_never_decoded_whole(loads):
    payload = encode(photo(3000, 2400, "RGBA"), "PNG")
    image = load_image(payload, max_side=512)
    assert image.size == (512, 410)
    assert loads and max(h for _, h in loads) <= 129 and all(w == 3000 for w, _ in loads)


def test_png_orientation_is_applied_from_its_exif():
    landscape = Image.new("RGB", (80, 40), (230, 10, 10))
    landscape.paste((10, 10, 230), (40, 0, 80, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    image = load_image(encode(landscape, "PNG", exif=exif.tobytes()))
    pixels = np.asarray(image, float)
    assert image.size == (40, 80)
    assert pixels[10, 20, 0] > 180 and pixels[70, 20, 2] > 180


@pytest.mark.parametrize("damage", ["cut", "garbled"])
def test_damaged_png_rows_are_refused_plainly(damage: str):
    payload = bytearray(encode(photo(400, 400, "RGB"), "PNG"))
    idat = payload.index(b"IDAT")
    if damage == "cut":
        del payload[idat + 4000 :]
    else:
        payload[idat + 2000 : idat + 2400] = bytes(400)
        length = int.from_bytes(payload[idat - 4 : idat], "big")
        body = bytes(payload[idat : idat + 4 + length])
        payload[idat + 4 + length : idat + 8 + length] = struct.pack(">I", zlib.crc32(body))
    with pytest.raises(WaveInputError, match="could not be read|not an image"):
        load_image(bytes(payload))


# ------------------------------------------------------------------------------------------- header checks


def test_header_check_decodes_nothing(loads):
    for payload, fmt in ((encode(photo(900, 700, "RGB"), "PNG"), "PNG"),
                         (encode(photo(900, 700, "RGB"), "JPEG"), "JPEG")):
        header = check_image_header(payload)
        assert (header.format, header.width, header.height) == (fmt, 900, 700)
    assert loads == []


def test_header_check_refuses_what_load_refuses():
    with pytest.raises(WaveInputError, match="too many pixels"):
        check_image_header(encode(Image.new("L", (9000, 8000)), "PNG"))
    with pytest.raises(WaveInputError, match="too large"):
        check_image_header(b"\x89PNG" + bytes(intake.MAX_IMAGE_BYTES))
    with pytest.raises(WaveInputError, match="PDF"):
        check_image_header(b"%PDF-1.7 ...")


def test_a_folder_is_named_as_a_folder(tmp_path: Path):
    with pytest.raises(WaveInputError, match="is a folder, not a picture"):
        load_image(tmp_path)
    with pytest.raises(WaveInputError, match="not found"):
        load_image(tmp_path / "nowhere.png")


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow has no AVIF codec")
def test_avif_is_read_in_a_fresh_process(tmp_path: Path):
    """Pillow registers plugins lazily; the AVIF check must not run before they are."""
    path = tmp_path / "photo.avif"
    path.write_bytes(encode(photo(96, 64, "RGB"), "AVIF", quality=80))
    code = "import sys; from pipeline.vision.intake import load_image; print(load_image(open(sys.argv[1], 'rb').read()).size)"
    done = subprocess.run([sys.executable, "-c", code, str(path)], check=False, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "(96, 64)"


# ---------------------------------------------------------------------------------------------- submitting


def test_an_overlong_cue_is_refused_with_its_limit():
    with pytest.raises(WaveInputError, match=f"too long.*under {MAX_CUE_CHARS}"):
        SubmitRequest(image=b"x", cue="a" * 301)
    assert SubmitRequest(image=b"x", cue="  make it\n dreamy ").cue == "make it dreamy"


async def test_quota_is_checked_before_the_picture_is_decoded_or_stored(runtime, monkeypatch, stored_keys):
    client = JobsClient(runtime)
    await client.submit(SubmitRequest(image=picture_bytes(0), user_id="ana"))
    before = stored_keys()
    decoded = []
    monkeypatch.setattr(jobs_client, "load_image", lambda data: decoded.append(len(data)))
    with pytest.raises(QuotaExceeded):
        await client.submit(SubmitRequest(image=picture_bytes(1), user_id="ana"))
    assert decoded == [] and stored_keys() == before


async def test_a_picture_refused_by_its_header_is_never_decoded_or_stored(runtime, monkeypatch, stored_keys):
    client = JobsClient(runtime)
    decoded = []
    monkeypatch.setattr(jobs_client, "load_image", lambda data: decoded.append(len(data)))
    bomb = encode(Image.new("L", (9000, 8000)), "PNG")
    with pytest.raises(WaveInputError, match="too many pixels"):
        await client.submit(SubmitRequest(image=bomb, user_id="bob"))
    with pytest.raises(WaveInputError, match="Unknown song"):
        await client.submit(SubmitRequest(image=picture_bytes(2), song="../../etc/passwd", user_id="bob"))
    assert decoded == [] and stored_keys() == set()
