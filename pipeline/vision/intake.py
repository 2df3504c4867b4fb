"""Image intake: turn whatever a person uploaded into a safe, upright, RGB picture of bounded size.

Every vision engine sees images only through :func:`load_image`. It refuses what it cannot read with a
:class:`~pipeline.errors.WaveInputError` that says what to send instead, and it never decodes a picture whose
header promises more than :data:`MAX_PIXELS` pixels. :func:`check_image_header` makes the cheap checks alone (bytes,
format, declared size), so a submission can be refused before any pixel is decoded or stored.

Memory: JPEG is decoded at a reduced scale by libjpeg (``draft``); 8-bit PNG is decoded a band of rows at a time
(:mod:`pipeline.vision.png_bands`). Other formats are decoded at full size once (at most 4 bytes a pixel, so at
most 256 MB at :data:`MAX_PIXELS`). Either way the pixels are converted to RGB and reduced band by band, so no
second full-size copy is ever made.
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError

from pipeline.errors import WaveInputError
from pipeline.vision.png_bands import png_bands

MAX_IMAGE_BYTES = 20 * 1024 * 1024  # uploads, files and submitted bytes alike
MAX_PIXELS = 64_000_000  # checked from the header, before any pixel is decoded
MIN_SIDE = 16
DEFAULT_MAX_SIDE = 2048
MAX_CUE_CHARS = 200

# Formats WAVE decodes. Restricting Image.open keeps plugins that shell out (EPS via Ghostscript) or that are
# rarely hardened out of reach of uploads.
_READABLE_FORMATS = ["JPEG", "MPO", "PNG", "GIF", "WEBP", "BMP", "TIFF", "AVIF", "HEIF"]
PICTURE_FORMATS = "JPEG, PNG or WebP"  # the one wording for what to send, shared by the CLI and the chat bots
_SEND_INSTEAD = f"send a {PICTURE_FORMATS} photo"
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}


@dataclass(frozen=True)
class ImageHeader:
    """What the header of an acceptable picture declares; nothing has been decoded to learn it."""

    format: str
    width: int
    height: int
    mode: str


def check_image_header(source: Path | bytes, *, max_pixels: int = MAX_PIXELS) -> ImageHeader:
    """The cheap checks of :func:`load_image` alone: size in bytes, format and declared pixel size.

    Raises WaveInputError like :func:`load_image`; decodes no pixels, so it costs about the size of the file.
    """
    data, label = _read_source(source)
    with _opened(data, label) as image:
        _check_size(image, label, max_pixels)
        return ImageHeader(image.format or "", image.width, image.height, image.mode)


def load_image(
    source: Path | bytes, *, max_side: int = DEFAULT_MAX_SIDE, max_pixels: int = MAX_PIXELS
) -> Image.Image:
    """Read an uploaded image as an upright RGB picture whose longer side is at most ``max_side``.

    Applies the EXIF orientation, takes the first frame of animations, flattens transparency onto white and
    scales 16-bit and 32-bit pixels to 8 bits. Raises WaveInputError with a plain message for anything that is
    not a readable photo of sensible size.
    """
    if max_side < MIN_SIDE:
        raise ValueError(f"max_side must be at least {MIN_SIDE}")
    data, label = _read_source(source)
    with _opened(data, label) as image:
        _check_size(image, label, max_pixels)
        return _decode(image, data, label, max_side)


def read_image_bytes(source: Path | bytes) -> bytes:
    """The bytes of an uploaded picture, refused with a clear message when missing, a folder, empty or too big."""
    return _read_source(source)[0]


@contextmanager
def _opened(data: bytes, label: str) -> Iterator[Image.Image]:
    """The picture opened lazily (header only), or a WaveInputError saying why it cannot be."""
    _refuse_known_unsupported(data, label)
    with warnings.catch_warnings():
        # Pillow warns (instead of raising) between its own limit and twice that; WAVE refuses both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", message="(?i).*corrupt exif", category=UserWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=_readable_formats())
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels(label, None) from exc
        except UnidentifiedImageError as exc:
            raise WaveInputError(f"{label} is not an image WAVE can read; {_SEND_INSTEAD}.") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _damaged(label) from exc
        with image:
            yield image


def image_digest(image: Image.Image) -> str:
    """A sha256 of the pixels (with mode and size), the same for the same picture however it was stored."""
    hasher = hashlib.sha256()
    hasher.update(f"{image.mode}:{image.width}x{image.height}:".encode())
    hasher.update(image.tobytes())
    return hasher.hexdigest()


def normalise_cue(cue: str | None) -> str | None:
    """A person's optional text cue ("make it melancholic") as one clean line, or None when there is none."""
    if cue is None:
        return None
    if not isinstance(cue, str):
        raise WaveInputError("The cue must be text.")
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in cue).split())
    if len(text) > MAX_CUE_CHARS:
        raise WaveInputError(f"The cue is too long ({len(text)} characters); keep it under {MAX_CUE_CHARS}.")
    return text or None


# ------------------------------------------------------------------------------------------------ reading


def _read_source(source: Path | bytes) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = "The uploaded file"
    else:
        path = Path(source)
        label = path.name or "The image"
        if path.is_dir():
            raise WaveInputError(f"{path.name or path} is a folder, not a picture; give the path of an image file.")
        if not path.is_file():
            raise WaveInputError(f"Image file not found: {path.name}")
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise WaveInputError(
                f"{label} is too large ({size // 2**20} MiB); the limit is {MAX_IMAGE_BYTES // 2**20} MiB."
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise WaveInputError(f"{label} could not be read ({exc.strerror or exc}).") from exc
    if not data:
        raise WaveInputError(f"{label} is empty; {_SEND_INSTEAD}.")
    if len(data) > MAX_IMAGE_BYTES:
        raise WaveInputError(
            f"{label} is too large ({len(data) // 2**20} MiB); the limit is {MAX_IMAGE_BYTES // 2**20} MiB."
        )
    return data, label


def _refuse_known_unsupported(data: bytes, label: str) -> None:
    """Name the common formats Pillow cannot read, so the message says what to do instead."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"%pdf"):
        raise WaveInputError(f"{label} is a PDF document, not a photo; {_SEND_INSTEAD}.")
    if head.startswith(b"%!ps") or data[:4] == b"\xc5\xd0\xd3\xc6":
        raise WaveInputError(f"{label} is PostScript/EPS, a vector format; send a PNG or JPEG.")
    if head.startswith(b"<svg") or (head.startswith((b"<?xml", b"<!doctype svg")) and b"<svg" in head):
        raise WaveInputError(f"{label} is SVG. SVG is a vector format; send a PNG or JPEG.")
    if head.startswith((b"<!doctype html", b"<html")):
        raise WaveInputError(f"{label} is a web page, not an image; {_SEND_INSTEAD}.")
    if data[4:8] == b"ftyp":
        brands = _iso_brands(data)
        readable = _readable_formats()
        if brands & _AVIF_BRANDS and "AVIF" in readable:
            return
        if brands & _AVIF_BRANDS:
            raise WaveInputError(f"{label} is AVIF, which this server cannot decode; {_SEND_INSTEAD}.")
        if brands & _HEIF_BRANDS and "HEIF" not in readable:
            raise WaveInputError(
                f"{label} is HEIC/HEIF (the iPhone photo format), which this server cannot decode; "
                f"{_SEND_INSTEAD} (on iPhone: Settings > Camera > Formats > Most Compatible)."
            )


def _iso_brands(data: bytes) -> set[bytes]:
    """Major and compatible brands of an ISO base media file (the ``ftyp`` box)."""
    box_size = int.from_bytes(data[0:4], "big")
    box = data[8 : min(max(box_size, 16), 256)]
    return {box[0:4]} | {box[i : i + 4] for i in range(8, len(box) - 3, 4)}


def _readable_formats() -> list[str]:
    Image.init()  # Image.OPEN lists only the plugins loaded so far; in a fresh process that can be none
    return [name for name in _READABLE_FORMATS if name in Image.OPEN]


def _check_size(image: Image.Image, label: str, max_pixels: int) -> None:
    width, height = image.size
    if width * height > max_pixels:
        raise _too_many_pixels(label, (width, height), max_pixels)
    if min(width, height) < MIN_SIDE:
        raise WaveInputError(
            f"{label} is too small ({width}x{height} pixels); "
            f"send a photo at least {MIN_SIDE} pixels on each side."
        )


def _too_many_pixels(
    label: str, size: tuple[int, int] | None, max_pixels: int = MAX_PIXELS
) -> WaveInputError:
    dims = f" ({size[0]}x{size[1]})" if size else ""
    return WaveInputError(
        f"{label} has too many pixels{dims}; the limit is {max_pixels // 1_000_000} megapixels. "
        f"Send a smaller copy of the photo."
    )


def _damaged(label: str) -> WaveInputError:
    return WaveInputError(
        f"{label} could not be read; it looks damaged or cut short. Try uploading it again."
    )


# ----------------------------------------------------------------------------------------------- decoding


_BAND_ROWS = 128
# What an EXIF orientation asks for, as ImageOps.exif_transpose applies it; applied here to the reduced picture,
# since exif_transpose needs the full-size one (and on a PNG, Pillow's getexif decodes the whole file).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_DEEP_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def _decode(image: Image.Image, data: bytes, label: str, max_side: int) -> Image.Image:
    """Decode, convert to RGB and reduce band by band, so at most one full-size copy (the decoded file) exists."""
    try:
        image.seek(0)  # first frame of GIF / APNG / WebP animations and multi-page TIFFs
        factor = max(1, max(image.size) // max_side)
        rows = factor * max(1, _BAND_ROWS // factor)
        bands = png_bands(data, rows) if image.format == "PNG" and getattr(image, "n_frames", 1) == 1 else None
        if bands is not None:
            size, orientation, peak = image.size, _orientation(Image.Exif(), image.info.get("exif")), None
        else:
            if image.format == "JPEG" and image.mode in ("RGB", "L", "CMYK"):
                # Let libjpeg decode at a reduced scale: far less memory and time for large photos.
                scale = max_side / max(image.size)
                image.draft(image.mode, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
            image.load()
            size, orientation = image.size, _orientation(image.getexif(), None)
            factor = max(1, max(size) // max_side)
            rows = factor * max(1, _BAND_ROWS // factor)
            peak = float(image.getextrema()[1]) if image.mode in ("I", "F") else None
            bands = (image.crop((0, top, size[0], min(size[1], top + rows))) for top in range(0, size[1], rows))
        rgb = _reduced_rgb(bands, size, factor, peak)
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error) as exc:
        raise _damaged(label) from exc
    if orientation in _UPRIGHT:
        rgb = rgb.transpose(_UPRIGHT[orientation])
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return rgb


def _orientation(exif: Image.Exif, raw: bytes | None) -> int:
    if raw:
        exif.load(raw)
    value = exif.get(ExifTags.Base.Orientation, 1)
    return value if isinstance(value, int) else 1


def _reduced_rgb(bands: Iterable[Image.Image], size: tuple[int, int], factor: int, peak: float | None) -> Image.Image:
    """Bands of the picture, top to bottom (each a multiple of ``factor`` rows but the last), as one RGB picture
    ``factor`` times smaller on each side."""
    width, height = size
    out = Image.new("RGB", (math.ceil(width / factor), math.ceil(height / factor)))
    top = 0
    for band in bands:
        rgb = _to_rgb(band, peak)
        if factor > 1:
            rgb = rgb.reduce(factor)
        out.paste(rgb, (0, top // factor))
        top += band.height
    if top != height:
        raise ValueError(f"decoded {top} of {height} rows")
    return out


def _to_rgb(image: Image.Image, peak: float | None = None) -> Image.Image:
    mode = image.mode
    if mode in _DEEP_MODES:
        return Image.fromarray(_deep_to_8bit(image, peak)).convert("RGB")
    if "transparency" in image.info or mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        return _flatten_on_white(image.convert("RGBA"))
    if mode == "CMYK" or (mode == "RGB" and image.info.get("icc_profile")):
        converted = _to_srgb_with_profile(image)
        if converted is not None:
            return converted
    return image.convert("RGB")


def _deep_to_8bit(image: Image.Image, peak: float | None = None) -> np.ndarray:
    """Scale 16/32-bit integer or float pixels to 0..255, by the range their mode allows (not by min/max).

    ``peak`` is the largest value of the whole picture when ``image`` is one band of it."""
    pixels = np.asarray(image).astype(np.float64)
    if peak is None:
        peak = float(pixels.max(initial=0.0))
    if image.mode == "F":
        top = 1.0 if peak <= 1.0 else 255.0 if peak <= 255.0 else 65535.0
    elif image.mode.startswith("I;16"):
        top = 65535.0
    else:  # "I": 32-bit ints; 16-bit PNGs used to open this way
        top = 255.0 if peak <= 255 else 65535.0 if peak <= 65535 else peak
    return np.clip(np.rint(pixels * (255.0 / top)), 0, 255).astype(np.uint8)


def _flatten_on_white(rgba: Image.Image) -> Image.Image:
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _to_srgb_with_profile(image: Image.Image) -> Image.Image | None:
    """Convert through the embedded ICC profile (CMYK print, wide-gamut RGB); None if there is none."""
    icc = image.info.get("icc_profile")
    if not icc:
        return None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None
