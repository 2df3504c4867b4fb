"""Peak memory of image intake on a 7999x7999 RGBA PNG (a small file that decodes to 256 MB of pixels).

Each figure is measured in a fresh process: peak resident memory (VmHWM, reset just before) while reading the
picture, minus the process's resident memory just before. Reference: the naive path (Pillow opens the picture whole, transposes it,
flattens it on white and scales it down), measured in the same run. Also: a 60-megapixel JPEG. Target: intake
under 300 MB for any accepted file.
    python bench/intake_memory.py [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 300

_MEASURE = r"""
import sys, time
from pathlib import Path
from PIL import Image, ImageOps
from pipeline.vision.intake import check_image_header, load_image

def status_kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

data = Path(sys.argv[2]).read_bytes()
Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM) to the memory resident now
before = status_kb("VmRSS")
start = time.perf_counter()
if sys.argv[1] == "wave":
    check_image_header(data)
    picture = load_image(data)
else:
    import io
    with Image.open(io.BytesIO(data)) as opened:
        opened.load()
        upright = ImageOps.exif_transpose(opened)
        rgba = upright.convert("RGBA")
        flat = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
        flat.thumbnail((2048, 2048), Image.Resampling.LANCZOS, reducing_gap=3.0)
        picture = flat
seconds = time.perf_counter() - start
peak = status_kb("VmHWM")
print(f"{(peak - before) / 1024:.1f} {seconds:.2f} {picture.size[0]}x{picture.size[1]}")
"""


def big_png(side: int) -> bytes:
    """A photo-like RGBA picture: smooth gradients, a translucent band, an opaque disc; compresses well."""
    import numpy as np
    from PIL import Image, ImageDraw

    ramp = np.linspace(0, 255, side, dtype=np.float32)
    rgba = np.empty((side, side, 4), np.uint8)
    rgba[..., 0] = ramp[None, :]
    rgba[..., 1] = ramp[:, None]
    rgba[..., 2] = 128
    rgba[..., 3] = 255
    rgba[side // 3 : side // 2, :, 3] = 96
    image = Image.fromarray(rgba, "RGBA")
    ImageDraw.Draw(image).ellipse((side // 4, side // 4, side // 2, side // 2), fill=(200, 40, 40, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


def big_jpeg(width: int, height: int) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    small = Image.fromarray(rng.integers(0, 255, (height // 64, width // 64, 3), dtype=np.uint8))
    buffer = io.BytesIO()
    small.resize((width, height), Image.Resampling.BILINEAR).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def measure(kind: str, path: Path) -> tuple[float, float, str]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, kind, str(path)], check=False, capture_output=True, text=True,
        timeout=600, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} intake failed: {done.stderr[-1000:]}")
    mb, seconds, size = done.stdout.split()
    return float(mb), float(seconds), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wave-intake-bench-") as tmp:
        png = Path(tmp) / "big.png"
        png.write_bytes(big_png(7999))
        jpeg = Path(tmp) / "big.jpg"
        jpeg.write_bytes(big_jpeg(9600, 6400))
        rows = []
        for label, path in (("7999x7999 RGBA PNG", png), ("9600x6400 JPEG", jpeg)):
            started = time.perf_counter()
            wave_mb, wave_s, size = measure("wave", path)
            naive_mb, naive_s, _ = measure("naive", path)
            rows.append({
                "measure": f"intake peak memory, {label} ({path.stat().st_size // 1024} KB)",
                "wave": round(wave_mb, 1), "reference": round(naive_mb, 1),
                "ratio": round(wave_mb / naive_mb, 3) if naive_mb else None,
                "target": f"< {TARGET_MB} MB", "unit": "MB",
                "note": f"peak RSS rise in a fresh process; reference: naive full decode; out {size}; "
                        f"wave {wave_s:.2f} s, naive {naive_s:.2f} s ({time.perf_counter() - started:.0f} s total)",
                "ok": wave_mb < TARGET_MB,
            })
    for row in rows:
        print(json.dumps(row) if args.json else
              f"{row['measure']}: wave {row['wave']} MB, naive {row['reference']} MB ({row['note']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
