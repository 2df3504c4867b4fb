"""What the lite vision engine can read off the pixels: colour, light, texture, structure and scene cues.

Every cue is a number in [0, 1] so the scene table can weigh them alike. The picture is analysed at
:data:`ANALYSIS_SIDE` pixels, which keeps a reading well under a second on one core.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict
from scipy import ndimage
from skimage import color, data, feature, filters

ANALYSIS_SIDE = 256

Unit = float  # a value in [0, 1]


class ImageCues(BaseModel):
    """Soft evidence about a picture, each in [0, 1]."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    brightness: Unit  # mean luma
    saturation: Unit  # mean HSV saturation
    warmth: Unit  # 0.5 is neutral; higher is redder/yellower light, lower is bluer
    warm_light: Unit  # clearly warm light (lamps, candles, sunset, wood)
    cool_light: Unit  # clearly cool light (shade, overcast, fluorescent)
    grey: Unit  # share of nearly colourless pixels (half-trusted in black-and-white pictures)
    edges: Unit  # density of Canny edges
    texture: Unit  # local contrast
    straightness: Unit  # how much of the structure runs horizontal/vertical (built things)
    sky: Unit  # bright, smooth blue or grey region at the top
    vegetation: Unit  # share of foliage-green pixels
    water: Unit  # smooth blue/cyan stretch in the lower half
    reflection: Unit  # the lower half mirrors the upper half
    snow: Unit  # bright colourless ground
    sand: Unit  # pale yellow-orange smooth ground
    night: Unit
    dusk: Unit  # warm, low light with an orange-red upper part
    daylight: Unit
    city_lights: Unit  # bright points in a dark picture with built structure
    stars: Unit  # bright points scattered over a dark picture with nothing built
    rain: Unit  # cool, grey, soft, low-contrast light (a wet window, an overcast street)
    people: Unit  # a face in the frame
    cat_face: Unit  # a cat's face in the frame
    fur: Unit  # fine, soft, unstructured texture in warm or grey tones
    flowers: Unit  # saturated red, pink, yellow or purple blooms among green
    tall_structure: Unit  # something narrow and tall rising into an open sky
    outdoor: Unit
    indoor: Unit

    def strongest(self, names: tuple[str, ...], threshold: float = 0.35) -> list[str]:
        """The named cues at or above ``threshold``, strongest first."""
        values = self.model_dump()
        return sorted((n for n in names if values[n] >= threshold), key=lambda n: -values[n])


def read_cues(image: Image.Image) -> ImageCues:
    """Analyse an RGB picture (any size) and return its cues."""
    small = image.convert("RGB")
    small.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BOX)
    rgb = np.asarray(small, dtype=np.float32) / 255.0
    hsv = color.rgb2hsv(rgb)
    hue, sat, val = hsv[..., 0] * 360.0, hsv[..., 1], hsv[..., 2]
    grey = color.rgb2gray(rgb)
    local_std = _local_std(grey)
    height = grey.shape[0]
    top, bottom = slice(0, max(1, height // 3)), slice(height // 2, height)

    brightness = float(grey.mean())
    saturation = float(sat.mean())
    warmth = _clip(0.5 + 2.0 * float((rgb[..., 0] - rgb[..., 2]).mean()))
    colourless = (sat < 0.15) | (val < 0.08)
    smooth = local_std < 0.045

    blue_sky = _hue_between(hue, 185, 250) & (sat > 0.12) & (val > 0.25)
    grey_sky = (sat < 0.15) & (val > 0.6)
    sky_like = (blue_sky | grey_sky) & smooth
    sky_weight = np.where(blue_sky, 1.0, 0.6)[top]
    sky = _clip(float((sky_like[top] * sky_weight).mean()) * 1.4)

    green = _hue_between(hue, 65, 170) & (sat > 0.18) & (val > 0.12)
    vegetation = _clip(float(green.mean()) * 2.0)

    chroma_trust = _clip(saturation / 0.06)  # colour cues mean little in a black-and-white picture
    water_colour = _hue_between(hue, 165, 250) & (sat > 0.08) & (val > 0.2)
    dx = np.abs(filters.sobel_v(grey))
    dy = np.abs(filters.sobel_h(grey))
    lower_smooth = (local_std < 0.06)[bottom]
    horizontal_calm = _clip(
        1.0 - float(dx[bottom].mean() / (dx[bottom].mean() + dy[bottom].mean() + 1e-6)) * 1.2
    )
    # A blue lower half under an equally blue, no brighter top is more likely sky going down to the horizon.
    sky_continues = float(val[bottom].mean()) >= float(val[top].mean()) - 0.05
    not_sky = 1.0 - float(water_colour[top].mean()) if sky_continues else 1.0
    water_share = float((water_colour[bottom] & lower_smooth).mean())
    water = _clip(water_share * 1.6 * (0.5 + horizontal_calm) * not_sky)
    reflection = _mirror_score(grey) * _clip(water_share * 3.0)

    snowy = (val > 0.75) & (sat < 0.12) & smooth
    snow = _clip(float(snowy[bottom].mean()) * 1.6) * (0.3 + 0.7 * chroma_trust)
    sandy = _hue_between(hue, 18, 55) & (sat > 0.15) & (sat < 0.65) & (val > 0.45) & (local_std < 0.08)
    sand = _clip(float(sandy[bottom].mean()) * 1.6) * (0.35 + 0.65 * sky)

    night = _clip((0.32 - brightness) / 0.2)
    warm_top = (_hue_between(hue, 0, 45) | _hue_between(hue, 330, 360)) & (sat > 0.3) & (val > 0.3) & smooth
    dusk = _clip(float(warm_top[top].mean()) * 2.0) * _clip(1.0 - abs(brightness - 0.35) / 0.25)
    daylight = _clip(1.0 - max(night, dusk)) * _clip(brightness / 0.4)
    lights = _small_lights(val, grey) * _clip((0.45 - brightness) / 0.25)

    edge_map = feature.canny(grey, sigma=1.5)
    edges = _clip(float(edge_map.mean()) / 0.15)
    texture = _clip(float(local_std.mean()) / 0.12)
    straightness = _straightness(dx, dy)
    # Points of light among built, straight structure are a city; scattered over nothing built, a starry sky.
    built = _clip(straightness * 4.0)
    city_lights = lights * built
    stars = lights * (1.0 - built) * night

    cool = _clip(1.0 - warmth * 1.4)
    rain = chroma_trust * _clip(
        (1.0 - saturation * 3.0) * (1.0 - edges) * (0.4 + cool) * _clip(1.0 - abs(brightness - 0.45) / 0.35)
    )
    people = max(_face_score(grey), _opencv_face_score(grey))
    cat_face = _cat_face_score(grey)
    # Fur: nearly the whole frame in browns, creams and greys, finely detailed, with no built structure in it.
    fine_detail = _clip(float(np.abs(grey - ndimage.uniform_filter(grey, 3)).mean()) / 0.012)
    fur_tones = (_hue_between(hue, 10, 50) & (sat < 0.7) | (sat < 0.2)) & (val > 0.15)
    fur = (
        _clip((float(fur_tones.mean()) - 0.5) / 0.35) * fine_detail * (1.0 - straightness) ** 2
        * chroma_trust * (1 - sky) * (1 - vegetation)
    )
    blooms = (_hue_between(hue, 0, 55) | _hue_between(hue, 270, 360)) & (sat > 0.5) & (val > 0.35)
    flowers = _clip(float(blooms.mean()) * 3.0) * _clip(vegetation * 4.0) * chroma_trust
    tall_structure = _tall_structure(sky_like, sky)

    outdoor = _clip(
        max(
            sky,
            0.8 * vegetation,
            water,
            snow,
            0.8 * sand,
            0.7 * city_lights,
            0.6 * night * (1 - straightness),
        )
    )
    indoor = _clip((1.0 - outdoor) * (0.55 + 0.45 * straightness))

    return ImageCues(
        brightness=_clip(brightness), saturation=_clip(saturation), warmth=warmth,
        warm_light=_clip((warmth - 0.55) / 0.3), cool_light=_clip((0.45 - warmth) / 0.3),
        grey=_clip(float(colourless.mean()) * (0.5 + 0.5 * chroma_trust)),
        edges=edges, texture=texture, straightness=straightness, sky=sky, vegetation=vegetation, water=water,
        reflection=reflection, snow=snow, sand=sand, night=night, dusk=dusk, daylight=daylight,
        city_lights=city_lights, stars=stars, rain=rain, people=people, cat_face=cat_face, fur=fur, flowers=flowers,
        tall_structure=tall_structure, outdoor=outdoor, indoor=indoor,
    )  # fmt: skip


def _clip(value: float) -> float:
    return float(min(1.0, max(0.0, value)))


def _hue_between(hue: np.ndarray, low: float, high: float) -> np.ndarray:
    return (hue >= low) & (hue < high)


def _local_std(grey: np.ndarray, size: int = 5) -> np.ndarray:
    mean = ndimage.uniform_filter(grey, size)
    mean_sq = ndimage.uniform_filter(grey * grey, size)
    return np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))


def _straightness(dx: np.ndarray, dy: np.ndarray) -> float:
    """How much strong structure is both horizontal and vertical, as in buildings, rooms and furniture.

    A horizon alone is horizontal only; random texture puts 1/12 of its gradients within 7.5 degrees of
    each axis.
    """
    magnitude = np.hypot(dx, dy)
    strong = magnitude > max(0.05, float(np.percentile(magnitude, 85)))
    if strong.sum() < 50:
        return 0.0
    angle = np.degrees(np.arctan2(dy[strong], dx[strong]))  # 0..90: magnitudes only
    vertical_edges = float((angle < 7.5).mean())
    horizontal_edges = float((angle > 82.5).mean())
    return _clip((2.0 * np.sqrt(vertical_edges * horizontal_edges) - 1.0 / 6.0) / 0.35)


def _mirror_score(grey: np.ndarray) -> float:
    """Correlation of the lower half with the flipped upper half: calm water mirrors what stands above it."""
    half = grey.shape[0] // 2
    if half < 8:
        return 0.0
    upper = grey[:half][::-1]
    lower = grey[grey.shape[0] - half :]
    upper = upper - upper.mean()
    lower = lower - lower.mean()
    denominator = float(np.sqrt((upper * upper).sum() * (lower * lower).sum()))
    if denominator < 1e-6:
        return 0.0
    return _clip((float((upper * lower).sum()) / denominator - 0.2) / 0.6)


@lru_cache(maxsize=1)
def _face_detector() -> feature.Cascade:
    # The frontal-face LBP cascade that scikit-image ships: no download, no weights beyond the package.
    return feature.Cascade(data.lbp_frontal_face_cascade_filename())


def _face_score(grey: np.ndarray) -> float:
    """How prominent the largest detected face is (a face filling ~1/16 of the frame scores 1)."""
    height, width = grey.shape
    smallest = max(18, min(height, width) // 12)
    faces = _face_detector().detect_multi_scale(
        np.ascontiguousarray(grey, dtype=np.float64),
        scale_factor=1.2,
        step_ratio=1,
        min_size=(smallest, smallest),
        max_size=(min(height, width), min(height, width)),
        min_neighbor_number=8,  # fewer false faces in textures; real faces gather many more
    )
    if not faces:
        return 0.0
    largest = max(f["width"] * f["height"] for f in faces)
    return _clip(np.sqrt(largest / (height * width)) * 4.0)


def _small_lights(val: np.ndarray, grey: np.ndarray) -> float:
    """Many small bright spots (lamps, windows, signs): one large bright area (a face, a flower) is not lights."""
    lights = (val > 0.85) & (grey > 0.6)
    labels, count = ndimage.label(lights)
    if count == 0:
        return 0.0
    sizes = np.bincount(labels.ravel())[1:]
    small = sizes[(sizes >= 3) & (sizes <= 0.002 * lights.size)]  # stars are single points; lamps are not
    return _clip(len(small) / 40.0)


def _tall_structure(sky_like: np.ndarray, sky: float) -> float:
    """Something standing up into an open sky (a rocket and its tower, a mast): in the top third, between a tenth
    and a third of the columns are not sky while the rest are."""
    if sky < 0.4:
        return 0.0
    top = sky_like[: max(1, sky_like.shape[0] // 3)]
    blocked = top.mean(axis=0) < 0.4
    share = float(blocked.mean())
    if share > 0.35:  # a skyline or a canopy, not one structure
        return 0.0
    return _clip(sky * (share - 0.1) / 0.08)


@lru_cache(maxsize=4)
def _opencv_cascade(name: str) -> cv2.CascadeClassifier:
    # Haar cascades that OpenCV ships inside its wheel: no download, no weights beyond the package.
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    if cascade.empty():  # pragma: no cover - a broken install
        raise RuntimeError(f"OpenCV's {name} could not be loaded")
    return cascade


def _largest_detection(grey: np.ndarray, cascade_name: str, neighbours: int) -> float:
    """The largest detection's side relative to the picture's area, scaled so 1/16 of the frame scores 1."""
    pixels = np.ascontiguousarray(np.clip(grey * 255.0, 0, 255).astype(np.uint8))
    side = min(pixels.shape)
    found = _opencv_cascade(cascade_name).detectMultiScale(
        pixels, scaleFactor=1.2, minNeighbors=neighbours, minSize=(max(20, side // 10), max(20, side // 10))
    )
    if len(found) == 0:
        return 0.0
    largest = max(int(w) * int(h) for _, _, w, h in found)
    return _clip(np.sqrt(largest / pixels.size) * 4.0)


def _opencv_face_score(grey: np.ndarray) -> float:
    """Frontal faces, and faces in profile looking either way (the profile cascade knows one side only)."""
    return max(
        _largest_detection(grey, "haarcascade_frontalface_default.xml", 8),
        _largest_detection(grey, "haarcascade_profileface.xml", 3),
        _largest_detection(grey[:, ::-1], "haarcascade_profileface.xml", 3),
    )


def _cat_face_score(grey: np.ndarray) -> float:
    return _largest_detection(grey, "haarcascade_frontalcatface_extended.xml", 4)
