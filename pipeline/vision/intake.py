"""Image intake: turn whatever a person uploaded into a safe, upright, RGB picture of bounded size.

Every vision engine sees images only through :func:`load_image`. It refuses what it cannot read with a
:class:`~pipeline.errors.WaveInputError` that says what to send instead, and it never decodes a picture whose
header promises more than :data:`MAX_PIXELS` pixels.
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from pipeline.errors import WaveInputError

MAX_FILE_BYTES = 50 * 1024 * 1024
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
    _refuse_known_unsupported(data, label)
    with warnings.catch_warnings():
        # Pillow warns (instead of raising) between its own limit and twice that; WAVE refuses both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=_readable_formats())
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels(label, None) from exc
        except UnidentifiedImageError as exc:
            raise WaveInputError(f"{label} is not an image WAVE can read; {_SEND_INSTEAD}.") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _damaged(label) from exc
        with image:
            _check_size(image, label, max_pixels)
            return _decode(image, label, max_side)


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
        if not path.is_file():
            raise WaveInputError(f"Image file not found: {path.name}")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise WaveInputError(
                f"{label} is too large ({size // 2**20} MiB); the limit is {MAX_FILE_BYTES // 2**20} MiB."
            )
        data = path.read_bytes()
    if not data:
        raise WaveInputError(f"{label} is empty; {_SEND_INSTEAD}.")
    if len(data) > MAX_FILE_BYTES:
        raise WaveInputError(
            f"{label} is too large ({len(data) // 2**20} MiB); the limit is {MAX_FILE_BYTES // 2**20} MiB."
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
        if brands & _AVIF_BRANDS and "AVIF" in Image.OPEN:
            return
        if brands & _AVIF_BRANDS:
            raise WaveInputError(f"{label} is AVIF, which this server cannot decode; {_SEND_INSTEAD}.")
        if brands & _HEIF_BRANDS and "HEIF" not in Image.OPEN:
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


def _decode(image: Image.Image, label: str, max_side: int) -> Image.Image:
    try:
        image.seek(0)  # first frame of GIF / APNG / WebP animations and multi-page TIFFs
        if image.format == "JPEG" and image.mode in ("RGB", "L", "CMYK"):
            # Let libjpeg decode at a reduced scale: far less memory and time for large photos.
            scale = max_side / max(image.size)
            image.draft(image.mode, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
        image.load()
        upright = ImageOps.exif_transpose(image)
        rgb = _to_rgb(upright)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _damaged(label) from exc
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return rgb


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(_deep_to_8bit(image)).convert("RGB")
    if "transparency" in image.info or mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        return _flatten_on_white(image.convert("RGBA"))
    if mode == "CMYK" or (mode == "RGB" and image.info.get("icc_profile")):
        converted = _to_srgb_with_profile(image)
        if converted is not None:
            return converted
    return image.convert("RGB")


def _deep_to_8bit(image: Image.Image) -> np.ndarray:
    """Scale 16/32-bit integer or float pixels to 0..255, by the range their mode allows (not by min/max)."""
    pixels = np.asarray(image).astype(np.float64)
    if image.mode == "F":
        top = (
            1.0 if pixels.max(initial=0.0) <= 1.0 else 255.0 if pixels.max(initial=0.0) <= 255.0 else 65535.0
        )
    elif image.mode.startswith("I;16"):
        top = 65535.0
    else:  # "I": 32-bit ints; 16-bit PNGs used to open this way
        peak = pixels.max(initial=0.0)
        top = 255.0 if peak <= 255 else 65535.0 if peak <= 65535 else float(peak)
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
