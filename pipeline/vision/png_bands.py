"""Decoding a large PNG a band of rows at a time, so memory stays near the size of one band.

Pillow decodes a PNG only whole (a 64-megapixel RGBA picture takes 256 MB before any reduction). Here the
compressed rows are inflated band by band and each band is handed to Pillow as a small PNG of its own, so
Pillow still does the unfiltering and the colour handling. A band's first row depends on the row above it
(PNG's Up, Average and Paeth filters), so every band after the first is prefixed with that row, already decoded,
stored unfiltered; it is cropped off again after decoding.

Only what this is exact for is streamed: 8 bits a sample, no interlacing. Anything else returns None and is
decoded whole by the caller.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks a band needs to decode to the same pixels and colours: palette, transparency, colour space.
_BAND_CHUNKS = {b"PLTE", b"tRNS", b"iCCP", b"sRGB", b"gAMA", b"cHRM"}
_SAMPLES_PER_PIXEL = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


class PngBandError(ValueError):
    """The compressed rows are broken or cut short."""


@dataclass(frozen=True)
class _Layout:
    width: int
    height: int
    color_type: int
    band_chunks: bytes
    idat: list[memoryview]

    @property
    def row_bytes(self) -> int:
        return 1 + self.width * _SAMPLES_PER_PIXEL[self.color_type]


def png_bands(data: bytes, rows: int) -> Iterator[Image.Image] | None:
    """Bands of ``rows`` rows (the last may be shorter), top to bottom; None when the file is not streamable."""
    layout = _layout(data)
    return None if layout is None else _bands(layout, rows)


def _layout(data: bytes) -> _Layout | None:
    if not data.startswith(_SIGNATURE):
        return None
    view = memoryview(data)
    pos = len(_SIGNATURE)
    header = None
    band_chunks: list[bytes] = []
    idat: list[memoryview] = []
    while pos + 8 <= len(data):
        length = int.from_bytes(view[pos : pos + 4], "big")
        tag = bytes(view[pos + 4 : pos + 8])
        body = view[pos + 8 : pos + 8 + length]
        if len(body) < length:
            break
        if tag == b"IHDR" and length == 13:
            header = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat.append(body)
        elif tag in _BAND_CHUNKS and not idat:
            band_chunks.append(bytes(view[pos : pos + 12 + length]))
        elif tag == b"IEND" or (idat and tag != b"IDAT"):
            break
        pos += 12 + length
    if header is None or not idat:
        return None
    width, height, depth, color_type, _, _, interlace = header
    if depth != 8 or interlace != 0 or color_type not in _SAMPLES_PER_PIXEL or width < 1 or height < 1:
        return None
    return _Layout(width, height, color_type, b"".join(band_chunks), idat)


def _bands(layout: _Layout, rows: int) -> Iterator[Image.Image]:
    inflater = zlib.decompressobj()
    chunks = iter(layout.idat)
    pending = b""
    above: bytes | None = None  # the decoded row above the band, raw
    for top in range(0, layout.height, rows):
        count = min(rows, layout.height - top)
        wanted = count * layout.row_bytes
        parts = []
        got = 0
        while got < wanted:
            if not pending:
                pending = bytes(next(chunks, b""))
                if not pending:
                    raise PngBandError("the picture's data ends early")
            try:
                out = inflater.decompress(pending, wanted - got)
            except zlib.error as exc:
                raise PngBandError(f"the picture's data is broken: {exc}") from exc
            pending = inflater.unconsumed_tail
            if not out and not pending and inflater.eof:
                raise PngBandError("the picture's data ends early")
            parts.append(out)
            got += len(out)
        filtered = b"".join(parts)
        raw = filtered if above is None else b"\x00" + above + filtered
        band = _decode_band(layout, raw, count + (above is not None))
        if above is not None:
            band = band.crop((0, 1, layout.width, band.height))
        above = band.crop((0, count - 1, layout.width, count)).tobytes()
        yield band


def _decode_band(layout: _Layout, raw: bytes, height: int) -> Image.Image:
    header = struct.pack(">IIBBBBB", layout.width, height, 8, layout.color_type, 0, 0, 0)
    small = b"".join(
        [_SIGNATURE, _chunk(b"IHDR", header), layout.band_chunks, _chunk(b"IDAT", zlib.compress(raw, 0)),
         _chunk(b"IEND", b"")]
    )
    band = Image.open(io.BytesIO(small), formats=["PNG"])
    band.load()
    return band


def _chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))
