"""Depth maps as pictures and files: the one colour map, its metre scale bar, 16-bit millimetre PNGs, grids.

numpy + Pillow only. The colour map, scale bar, 16-bit PNGs and output names live in the torch-free
`litedepth_runtime` (the one file a Raspberry Pi runs) and are re-exported here; this module adds what only
the library draws: error maps, grids, grey inverse depth and the guarded writer `predict` uses.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from litedepth_runtime import (  # noqa: F401  (re-exported: the library's one colour convention)
    CHUNK_ROWS,
    RAMP,
    colorize_depth,
    depth_picture,
    depth_range,
    depth_to_png16,
    draw_scale_bar,
    output_paths,
    scale_bar_labels,
)

# Signed log error: blue = predicted too near, white = right, red = predicted too far.
_DIVERGING = np.array([[33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130], [178, 24, 43]], np.float64)
DIVERGING = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, 5), _DIVERGING[:, c]) for c in range(3)],
                     1).round().astype(np.uint8)


def inverse_depth_grey(depth: np.ndarray) -> Image.Image:
    """8-bit grey inverse depth between the map's own near (255) and far (0), invalid 0: the relative-depth
    picture other tools (MiDaS-style viewers, ControlNet depth) expect."""
    depth = np.asarray(depth, dtype=np.float32)
    near, far = depth_range(depth)
    valid = np.isfinite(depth) & (depth > 0)
    if not valid.any() or not far > near:
        return Image.fromarray(np.where(valid, 255, 0).astype(np.uint8))
    inverse = np.where(valid, 1.0 / np.where(valid, depth, 1.0), 0.0)
    scaled = (inverse - 1.0 / far) / (1.0 / near - 1.0 / far)
    return Image.fromarray(np.where(valid, np.clip(np.round(scaled * 255), 0, 255), 0).astype(np.uint8))


def save_depth_outputs(depth: np.ndarray, out_dir: Path, stem: str, npy: bool = False, overwrite: bool = False,
                       scale_bar: bool = True, grey: bool = False):
    """Write `<stem>_depth.png` (colour), `<stem>_depth_mm.png` (16-bit mm) and optionally `<stem>_depth.npy`
    and `<stem>_inverse_depth.png` (8-bit grey)."""
    paths = output_paths(out_dir, stem, npy, grey)
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"Refusing to overwrite {', '.join(existing)} (pass --overwrite)")
    paths["color"].parent.mkdir(parents=True, exist_ok=True)
    if grey:
        inverse_depth_grey(depth).save(paths["grey"])
    depth_picture(depth, scale_bar).save(paths["color"])
    depth_to_png16(depth).save(paths["png16"])
    if npy:
        np.save(paths["npy"], np.asarray(depth, dtype=np.float32))
    return paths


def error_map(predicted: np.ndarray, target: np.ndarray, limit: float = 0.5) -> np.ndarray:
    """log(pred / gt) on a diverging map: blue = too near, white = right, red = too far (saturating at
    +-`limit`, 0.5 = a factor 1.65); invalid GT is black."""
    valid = np.isfinite(target) & (target > 0) & np.isfinite(predicted) & (predicted > 0)
    error = np.zeros(target.shape, dtype=np.float32)
    error[valid] = np.log(predicted[valid] / target[valid])
    index = np.clip((error / limit + 1.0) * 127.5, 0, 255).astype(np.uint8)
    rgb = DIVERGING[index]
    rgb[~valid] = 0
    return rgb


def image_grid(rows: list, tile_height: int = 240, headers: list = None) -> Image.Image:
    """Rows of same-count uint8 RGB tiles -> one PIL image, each tile resized to `tile_height`, with an
    optional header line over each column."""
    rendered, widths = [], []
    for row in rows:
        tiles = []
        for tile in row:
            image = Image.fromarray(tile)
            width = round(image.width * tile_height / image.height)
            tiles.append(np.asarray(image.resize((width, tile_height), Image.BILINEAR)))
        widths = widths or [t.shape[1] for t in tiles]  # the first row's column widths, for the headers
        rendered.append(np.concatenate(tiles, axis=1))
    grid = Image.fromarray(np.concatenate(rendered, axis=0))
    if not headers:
        return grid
    canvas = Image.new("RGB", (grid.width, grid.height + 16), (255, 255, 255))
    canvas.paste(grid, (0, 16))
    draw = ImageDraw.Draw(canvas)
    x = 0
    for header, width in zip(headers, widths):
        draw.text((x + (width - draw.textlength(header)) / 2, 2), header, fill=(0, 0, 0))
        x += width
    return canvas
