"""The lite vision engine on labelled public photos that installed packages ship (scikit-image, scikit-learn and
matplotlib sample images).

``bench/data/lite_photos.json`` says what each photo shows, which scenes of the lite scene table fit it and which
words name its main sound-making object. Scene accuracy: the sheet's scene (the best-ranked one) is one of the
fitting scenes. Object accuracy (photos with object words only): one of the sheet's first three sources names the
main object. Also counted: how many different scenes the photos get, and how many photos the sheet flags as
uncertain. The reference for accuracy is the share a constant guess would get (the most common fitting scene).

    .venv/bin/python bench/lite_vision.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.vision.cues import read_cues
from pipeline.vision.lite import LiteVision, rank_scenes

PHOTOS_FILE = Path(__file__).resolve().parent / "data" / "lite_photos.json"
TARGET_SCENE = 0.70
TARGET_OBJECT = 0.50


def load_photo(spec: str) -> Image.Image:
    """``skimage:NAME``, ``sklearn:FILE`` or ``matplotlib:FILE``: sample photos that ship inside those packages."""
    kind, name = spec.split(":", 1)
    if kind == "skimage":
        from skimage import data

        pixels = getattr(data, name)()
        if isinstance(pixels, tuple):  # stereo pairs: the left view
            pixels = pixels[0]
        return Image.fromarray(np.asarray(pixels)).convert("RGB")
    if kind == "sklearn":
        import sklearn.datasets

        return Image.open(Path(sklearn.datasets.__file__).parent / "images" / name).convert("RGB")
    if kind == "matplotlib":
        import matplotlib

        return Image.open(Path(matplotlib.get_data_path()) / "sample_data" / name).convert("RGB")
    raise ValueError(f"unknown photo source {kind!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    labelled = json.loads(PHOTOS_FILE.read_text())
    engine = LiteVision()
    scene_hits, object_hits, object_total, scenes, uncertain = 0, 0, 0, [], 0
    for item in labelled:
        image = load_photo(item["image"])
        sheet = engine.describe(image)
        scene = rank_scenes(read_cues(image))[0].scene.id
        scenes.append(scene)
        names = [s.name.lower() for s in sheet.sound_sources]
        scene_ok = scene in item["scenes"]
        scene_hits += scene_ok
        object_ok = None
        if item["objects"]:
            object_total += 1
            object_ok = any(word in name for word in item["objects"] for name in names[:3])
            object_hits += object_ok
        flagged = bool(getattr(sheet, "low_confidence", False))
        uncertain += flagged
        if not args.json:
            print(
                f"{item['image']:30s} scene {scene:15s} {'ok ' if scene_ok else 'BAD'}  "
                f"object {'-' if object_ok is None else 'ok' if object_ok else 'BAD':3s} "
                f"{'(uncertain) ' if flagged else ''}sources: {', '.join(names[:5])}",
                file=sys.stderr,
            )
    n = len(labelled)
    constant = Counter(s for item in labelled for s in item["scenes"]).most_common(1)[0]
    constant_share = sum(constant[0] in item["scenes"] for item in labelled) / n
    rows = [
        {
            "measure": f"lite vision: scene accuracy on {n} labelled photos",
            "wave": round(100 * scene_hits / n, 1),
            "reference": round(100 * constant_share, 1),
            "target": f">= {TARGET_SCENE:.0%}",
            "unit": "%",
            "note": f"reference: always '{constant[0]}'",
            "ok": scene_hits / n >= TARGET_SCENE,
        },
        {
            "measure": f"lite vision: main object among the first 3 sources ({object_total} photos)",
            "wave": round(100 * object_hits / max(1, object_total), 1),
            "reference": None,
            "target": f">= {TARGET_OBJECT:.0%}",
            "unit": "%",
            "note": "labels in bench/data/lite_photos.json",
            "ok": object_hits / max(1, object_total) >= TARGET_OBJECT,
        },
        {
            "measure": f"lite vision: different scenes over {n} photos",
            "wave": len(set(scenes)),
            "reference": len({tuple(item["scenes"]) for item in labelled}),
            "target": "report",
            "unit": "scenes",
            "note": "reference: different label sets; " + ", ".join(f"{s} x{c}" for s, c in Counter(scenes).most_common()),
        },
        {
            "measure": "lite vision: sheets flagged as uncertain",
            "wave": uncertain,
            "reference": n,
            "target": "report",
            "unit": "photos",
            "note": "the sheet says when its reading is unsure and suggests a cue",
        },
    ]
    for row in rows:
        print(json.dumps(row) if args.json else f"{row['measure']}: {row['wave']} {row['unit']} ({row['note']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
