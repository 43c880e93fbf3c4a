"""Depth maps as pictures and files: colour maps, 16-bit millimetre PNGs, side-by-side grids.

numpy + Pillow only, so the Raspberry Pi script can use the same code without torch.
"""

from pathlib import Path

import numpy as np
from PIL import Image

# Anchors of a dark-purple -> orange -> pale-yellow ramp (perceptually ordered, readable in grey).
_ANCHORS = np.array(
    [
        [0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
        [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191],
    ],
    dtype=np.float32,
)


def colorize_depth(depth: np.ndarray, near: float = None, far: float = None) -> np.ndarray:
    """Depth (H, W) in metres -> uint8 RGB (H, W, 3); near is bright, far is dark, invalid is black.

    Colours follow inverse depth between the 2nd and 98th percentiles unless `near`/`far` are given,
    so a room and a street both use the whole ramp.
    """
    depth = np.asarray(depth, dtype=np.float32)
    valid = np.isfinite(depth) & (depth > 0)
    if not valid.any():
        return np.zeros(depth.shape + (3,), dtype=np.uint8)
    inverse = np.zeros_like(depth)
    inverse[valid] = 1.0 / depth[valid]
    low = 1.0 / far if far else np.percentile(inverse[valid], 2)
    high = 1.0 / near if near else np.percentile(inverse[valid], 98)
    scaled = np.clip((inverse - low) / max(high - low, 1e-12), 0.0, 1.0) * (len(_ANCHORS) - 1)
    lower = np.floor(scaled).astype(int).clip(0, len(_ANCHORS) - 2)
    weight = (scaled - lower)[..., None]
    rgb = _ANCHORS[lower] * (1 - weight) + _ANCHORS[lower + 1] * weight
    rgb[~valid] = 0
    return rgb.round().astype(np.uint8)


def depth_to_png16(depth: np.ndarray) -> Image.Image:
    """Depth in metres -> 16-bit PNG image in millimetres (0 = invalid, saturating at 65.535 m)."""
    depth = np.nan_to_num(np.asarray(depth, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    millimetres = np.clip(np.round(depth * 1000.0), 0, 65535).astype(np.uint16)
    return Image.fromarray(millimetres)


def save_depth_outputs(depth: np.ndarray, out_dir: Path, stem: str, npy: bool = False, overwrite: bool = False):
    """Write `<stem>_depth.png` (colour), `<stem>_depth_mm.png` (16-bit mm) and optionally `<stem>_depth.npy`."""
    out_dir = Path(out_dir)
    paths = {"color": out_dir / f"{stem}_depth.png", "png16": out_dir / f"{stem}_depth_mm.png"}
    if npy:
        paths["npy"] = out_dir / f"{stem}_depth.npy"
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"Refusing to overwrite {', '.join(existing)} (pass --overwrite)")
    out_dir.mkdir(parents=True, exist_ok=True)
    Image.fromarray(colorize_depth(depth)).save(paths["color"])
    depth_to_png16(depth).save(paths["png16"])
    if npy:
        np.save(paths["npy"], np.asarray(depth, dtype=np.float32))
    return paths


def error_map(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """|log(pred / gt)| as a colour map (bright = large error); invalid GT is black."""
    valid = np.isfinite(target) & (target > 0) & np.isfinite(predicted) & (predicted > 0)
    error = np.zeros_like(target, dtype=np.float32)
    error[valid] = np.abs(np.log(predicted[valid] / target[valid]))
    # colorize_depth brightens small values; feed it 1/error so large errors are bright.
    shown = np.zeros_like(error)
    shown[valid] = 1.0 / np.maximum(error[valid], 1e-3)
    return colorize_depth(shown, near=1.0 / 0.5, far=1.0 / 1e-3)


def image_grid(rows: list, tile_height: int = 240) -> Image.Image:
    """Rows of same-count uint8 RGB tiles -> one PIL image, each tile resized to `tile_height`."""
    rendered = []
    for row in rows:
        tiles = []
        for tile in row:
            image = Image.fromarray(tile)
            width = round(image.width * tile_height / image.height)
            tiles.append(np.asarray(image.resize((width, tile_height), Image.BILINEAR)))
        rendered.append(np.concatenate(tiles, axis=1))
    return Image.fromarray(np.concatenate(rendered, axis=0))
