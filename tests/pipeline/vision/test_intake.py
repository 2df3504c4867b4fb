"""Image intake: every upload becomes an upright RGB picture of bounded size, or a plain WaveInputError."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features
from skimage import data

from pipeline.errors import WaveInputError
from pipeline.vision.intake import MAX_CUE_CHARS, image_digest, load_image, normalise_cue


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def png_claiming_size(width: int, height: int) -> bytes:
    """A small valid palette PNG whose IHDR claims ``width`` x ``height`` (CRC fixed): a crafted bomb."""
    raw = bytearray(encode(Image.new("P", (16, 16)), "PNG"))
    assert raw[12:16] == b"IHDR"
    raw[16:24] = struct.pack(">II", width, height)
    raw[29:33] = struct.pack(">I", zlib.crc32(bytes(raw[12:29])) & 0xFFFFFFFF)
    return bytes(raw)


@pytest.fixture(scope="module")
def chelsea() -> Image.Image:
    return Image.fromarray(data.chelsea())


def refused(source, **kwargs) -> str:
    with pytest.raises(WaveInputError) as caught:
        load_image(source, **kwargs)
    message = caught.value.user_message
    assert "Traceback" not in message and len(message) < 300
    return message


# ---------------------------------------------------------------------------------------------- bad input


def test_non_image_bytes_are_refused():
    assert "not an image" in refused(b"just some text, certainly not a picture" * 10)


def test_zero_byte_file_and_empty_bytes_are_refused(tmp_path: Path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert "empty" in refused(empty)
    assert "empty" in refused(b"")


def test_missing_file_is_refused(tmp_path: Path):
    assert "not found" in refused(tmp_path / "nowhere.png")


@pytest.mark.parametrize("side", [20000, 11000])  # above Pillow's hard limit, and in its warning band
def test_huge_png_is_refused_from_its_header_without_decoding(side: int):
    crafted = png_claiming_size(side, side)
    assert len(crafted) < 200
    tracemalloc.start()
    message = refused(crafted)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "too many pixels" in message and "megapixels" in message
    assert peak < 20 * 2**20  # a decoded 20000 x 20000 picture would take over a gigabyte


def test_pixel_limit_of_wave_applies_below_pillows_own():
    message = refused(png_claiming_size(9000, 8000))  # 72 Mpx: Pillow alone would only warn above 89 Mpx
    assert "9000x8000" in message


def test_a_legal_image_over_a_custom_pixel_limit_is_refused(chelsea: Image.Image):
    assert "too many pixels" in refused(encode(chelsea, "PNG"), max_pixels=10_000)


def test_tiny_image_is_refused():
    assert "too small" in refused(encode(Image.new("RGB", (8, 8), "red"), "PNG"))


def test_truncated_jpeg_is_refused(chelsea: Image.Image):
    whole = encode(chelsea, "JPEG", quality=90)
    assert "damaged or cut short" in refused(whole[: len(whole) * 6 // 10])


def test_truncated_png_is_refused(chelsea: Image.Image):
    whole = encode(chelsea, "PNG")
    assert "damaged or cut short" in refused(whole[: len(whole) // 2])


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10"/>', "SVG is a vector format; send a PNG or JPEG"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="5" height="5"/></svg>', "SVG is a vector format"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "HEIC/HEIF"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "HEIC/HEIF"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "PostScript/EPS"),
        (b"<!DOCTYPE html><html><body>hello</body></html>", "web page"),
    ],
)  # fmt: skip
def test_unsupported_formats_are_named(payload: bytes, expected: str):
    assert expected in refused(payload)


def test_avif_is_decoded_when_pillow_can_or_named_when_it_cannot(chelsea: Image.Image):
    if features.check("avif"):
        image = load_image(encode(chelsea, "AVIF", quality=80))
        assert image.size == chelsea.size and image.mode == "RGB"
        assert abs(np.asarray(image, float).mean() - np.asarray(chelsea, float).mean()) < 4
    else:
        assert "AVIF" in refused(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64)


def test_broken_avif_container_is_refused_not_crashed():
    fake = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64
    assert "AVIF" in refused(fake) or "could not be read" in refused(fake) or "not an image" in refused(fake)


# --------------------------------------------------------------------------------------------- conversion


def test_cmyk_jpeg_comes_back_as_rgb_with_the_same_colours(chelsea: Image.Image):
    cmyk = chelsea.convert("CMYK")
    image = load_image(encode(cmyk, "JPEG", quality=95))
    assert image.mode == "RGB" and image.size == chelsea.size
    difference = np.abs(np.asarray(image, float) - np.asarray(chelsea, float)).mean(axis=(0, 1))
    assert (difference < 12).all(), difference


def test_16_bit_png_is_scaled_to_8_bits_by_its_full_range():
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (32, 1))
    payload = encode(Image.fromarray(ramp), "PNG")
    assert Image.open(io.BytesIO(payload)).mode.startswith("I")
    image = load_image(payload)
    pixels = np.asarray(image)
    assert image.mode == "RGB"
    assert pixels[0, 0].tolist() == [0, 0, 0]
    assert pixels[0, -1].tolist() == [255, 255, 255]
    assert abs(int(pixels[0, 128, 0]) - 128) <= 1  # not stretched by min/max, not clipped to 255


def test_palette_png_with_transparency_is_flattened_onto_white():
    palette = Image.new("P", (64, 64), 1)
    palette.putpalette([0, 0, 0, 200, 30, 30] + [0, 0, 0] * 254)
    palette.paste(0, (0, 0, 32, 64))  # left half uses the transparent index
    image = load_image(encode(palette, "PNG", transparency=0))
    pixels = np.asarray(image)
    assert pixels[10, 5].tolist() == [255, 255, 255]
    assert pixels[10, 50].tolist() == [200, 30, 30]


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_flattened_onto_white(mode: str):
    base = Image.new(mode, (40, 40), (0, 0, 0, 255) if mode == "RGBA" else (0, 255))
    base.paste((0, 0, 0, 0) if mode == "RGBA" else (0, 0), (0, 0, 20, 40))
    pixels = np.asarray(load_image(encode(base, "PNG")))
    assert pixels[5, 5].tolist() == [255, 255, 255]
    assert pixels[5, 35].tolist() == [0, 0, 0]


@pytest.mark.parametrize("mode", ["L", "1"])
def test_greyscale_and_bilevel_become_rgb(mode: str, chelsea: Image.Image):
    image = load_image(encode(chelsea.convert(mode), "PNG"))
    assert image.mode == "RGB" and image.size == chelsea.size


@pytest.mark.parametrize(("fmt", "params"), [("GIF", {}), ("PNG", {}), ("WEBP", {"lossless": True})])
def test_animation_gives_its_first_frame(fmt: str, params: dict):
    frames = [Image.new("RGB", (48, 48), colour) for colour in ((220, 20, 20), (20, 220, 20), (20, 20, 220))]
    payload = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **params)
    assert Image.open(io.BytesIO(payload)).n_frames == 3
    red, green, blue = np.asarray(load_image(payload), float).mean(axis=(0, 1))
    assert red > 180 and green < 60 and blue < 60


def test_exif_orientation_is_applied():
    landscape = Image.new("RGB", (80, 40), (230, 10, 10))
    landscape.paste((10, 10, 230), (40, 0, 80, 40))  # left red, right blue
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: view rotated 90 degrees clockwise
    image = load_image(encode(landscape, "JPEG", quality=95, exif=exif.tobytes()))
    pixels = np.asarray(image, float)
    assert image.size == (40, 80)
    assert pixels[10, 20, 0] > 180 and pixels[70, 20, 2] > 180  # red on top, blue below


def test_large_images_are_downscaled_keeping_aspect(tmp_path: Path, chelsea: Image.Image):
    wide = chelsea.resize((3000, 1000))
    path = tmp_path / "wide.jpg"
    wide.save(path, quality=85)
    assert load_image(path).size == (2048, 683)
    assert load_image(path, max_side=300).size == (300, 100)
    assert load_image(encode(wide, "PNG"), max_side=512).size == (512, 171)


def test_a_normal_photo_round_trips(tmp_path: Path, chelsea: Image.Image):
    path = tmp_path / "cat.png"
    chelsea.save(path)
    image = load_image(path)
    assert image.mode == "RGB" and image.size == chelsea.size
    assert np.array_equal(np.asarray(image), np.asarray(chelsea))


# ------------------------------------------------------------------------------------------ digest and cue


def test_digest_depends_on_pixels_not_on_container(chelsea: Image.Image):
    from_png = load_image(encode(chelsea, "PNG"))
    from_bmp = load_image(encode(chelsea, "BMP"))
    assert image_digest(from_png) == image_digest(from_bmp)
    changed = from_png.copy()
    changed.putpixel((0, 0), (0, 0, 0) if changed.getpixel((0, 0)) != (0, 0, 0) else (1, 1, 1))
    assert image_digest(changed) != image_digest(from_png)
    assert len(image_digest(from_png)) == 64


def test_cue_is_cleaned_and_bounded():
    assert normalise_cue(None) is None
    assert normalise_cue("   \n\t ") is None
    assert normalise_cue("  make it\n\x07 melancholic ") == "make it melancholic"
    with pytest.raises(WaveInputError, match="too long"):
        normalise_cue("x" * (MAX_CUE_CHARS + 1))


def test_a_fresh_process_reads_a_png(tmp_path: Path):
    """Pillow registers its format plugins lazily: intake must not depend on another module loading them first."""
    import subprocess
    import sys

    path = tmp_path / "fresh.png"
    Image.new("RGB", (64, 48), (200, 120, 40)).save(path)
    code = "import sys; from pipeline.vision.intake import load_image; print(load_image(open(sys.argv[1], 'rb').read()).size)"
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "(64, 48)"
