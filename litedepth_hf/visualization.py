"""Depth maps as pictures and files: the one colour map, its metre scale bar, 16-bit millimetre PNGs, grids.

numpy + Pillow only. `litedepth predict`, `scripts/evaluate_dev.py` and the model card draw depth with
`colorize_depth`; `scripts/pi_infer.py` must stay one file for the Pi and keeps a copy of the colour map
and scale bar (`tests/test_visualization.py` holds the two to identical pixels).
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# Anchors of a dark-purple -> orange -> pale-yellow ramp (perceptually ordered, readable in grey),
# interpolated once into a 256-entry table so that colouring a 48-megapixel map stays light on memory.
_ANCHORS = np.array(
    [
        [0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
        [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191],
    ],
    dtype=np.float64,
)
_POSITIONS = np.linspace(0.0, 1.0, len(_ANCHORS))
RAMP = np.stack([np.interp(np.linspace(0.0, 1.0, 256), _POSITIONS, _ANCHORS[:, c]) for c in range(3)], 1).round().astype(np.uint8)
"""256 x 3 uint8: index 0 = far (dark), 255 = near (bright)."""

# Signed log error: blue = predicted too near, white = right, red = predicted too far.
_DIVERGING = np.array([[33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130], [178, 24, 43]], np.float64)
DIVERGING = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, 5), _DIVERGING[:, c]) for c in range(3)],
                     1).round().astype(np.uint8)


def depth_range(depth: np.ndarray) -> tuple:
    """(near, far) in metres that the colour map spans: the 2nd and 98th percentiles of valid inverse depth
    (over at most ~1 M pixels, an even subsample of larger maps). (0, 0) when nothing is valid."""
    depth = np.asarray(depth, dtype=np.float32)
    step = max(1, int(np.sqrt(depth.size / 1e6)))
    sample = depth[::step, ::step]
    sample = sample[np.isfinite(sample) & (sample > 0)]
    if not sample.size:
        return 0.0, 0.0
    low, high = np.percentile(1.0 / sample, (2, 98))
    return float(1.0 / high), float(1.0 / low)


def colorize_depth(depth: np.ndarray, near: float = None, far: float = None) -> np.ndarray:
    """Depth (H, W) in metres -> uint8 RGB (H, W, 3); near is bright, far is dark, invalid is black.

    Colours follow inverse depth between `near` and `far` (default: `depth_range`, so a room and a street
    both use the whole ramp). Give the same near/far to compare maps on one scale.
    """
    depth = np.asarray(depth, dtype=np.float32)
    if near is None or far is None:
        auto_near, auto_far = depth_range(depth)
        near, far = near or auto_near, far or auto_far
    if not near or not far:
        return np.zeros(depth.shape + (3,), dtype=np.uint8)
    low, high = 1.0 / far, 1.0 / near
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.reciprocal(depth)  # one float32 map, reused in place
    index -= low
    index *= 255.0 / max(high - low, 1e-12)
    np.nan_to_num(index, copy=False, nan=-1.0, posinf=-1.0, neginf=-1.0)
    invalid = ~(depth > 0) | ~np.isfinite(depth)
    np.clip(index, 0.0, 255.0, out=index)
    rgb = RAMP[index.astype(np.uint8)]
    rgb[invalid] = 0
    return rgb


def _ticks(near: float, far: float) -> list:
    """A few round metre values between near and far (1-2-5 steps), for the scale bar."""
    for step in (0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0):
        values = np.arange(np.ceil(near / step) * step, far + 1e-9, step)
        if len(values) <= 6:
            return [float(v) for v in values]
    return [near, far]


CHUNK_ROWS = 256
"""Maps are coloured and converted this many rows at a time: a 48-megapixel depth map then needs only its
own float32 array and the picture, not several full-size temporaries."""


def draw_scale_bar(canvas: Image.Image, top: int, near: float, far: float) -> None:
    """Draw, in the white strip of `canvas` from row `top` down, the colour ramp from far (left) to near
    (right) with round metre values."""
    width, strip = canvas.width, canvas.height - top
    if not near or not far or far <= near or strip <= 0:
        return
    bar = strip // 2
    positions = np.linspace(1.0 / far, 1.0 / near, width)  # inverse depth, left to right
    index = np.clip((positions - 1.0 / far) / (1.0 / near - 1.0 / far) * 255.0, 0, 255).astype(np.uint8)
    canvas.paste(Image.fromarray(np.repeat(RAMP[index][None], bar, axis=0)), (0, top))
    draw = ImageDraw.Draw(canvas)
    for x, label, left in scale_bar_labels(width, near, far, draw.textlength):
        draw.line([(x, top), (x, top + bar)], fill=(255, 255, 255))
        if label:
            draw.text((left, top + bar), label, fill=(0, 0, 0))


def scale_bar_labels(width: int, near: float, far: float, textlength) -> list:
    """(tick x, label or "" where it would touch its neighbour, label's left x) for a bar `width` pixels wide.
    Inverse depth crowds the far ticks together on the left: a label that would overlap the one drawn before
    it (4 px apart at least) is left out, its tick line kept; the nearest tick's label always shows."""
    ticks = []
    for value in _ticks(near, far):
        x = int(round((1.0 / value - 1.0 / far) / (1.0 / near - 1.0 / far) * (width - 1)))
        label = f"{value:g} m"
        text_width = textlength(label)
        ticks.append([x, label, min(max(0, x - text_width / 2), width - text_width), text_width])
    boundary = np.inf  # left edge of the last label kept, to the right of the ones still to place
    for k, tick in enumerate(sorted(ticks, key=lambda t: -t[0])):  # right (near) to left: the nearest first
        if k and tick[2] + tick[3] + 4 > boundary:
            tick[1] = ""
        else:
            boundary = tick[2]
    return [(x, label, left) for x, label, left, _ in ticks]


def depth_picture(depth: np.ndarray, scale_bar: bool = True) -> Image.Image:
    """What `predict` and the Pi script save as <name>_depth.png: the colour map over its own depth range
    (`depth_range`), with a strip below holding the metre scale bar."""
    depth = np.asarray(depth)
    near, far = depth_range(depth)
    height, width = depth.shape
    canvas = Image.new("RGB", (width, height + (max(18, height // 12) if scale_bar else 0)), (255, 255, 255))
    for top in range(0, height, CHUNK_ROWS):
        canvas.paste(Image.fromarray(colorize_depth(depth[top: top + CHUNK_ROWS], near, far)), (0, top))
    if scale_bar:
        draw_scale_bar(canvas, height, near, far)
    return canvas


def depth_to_png16(depth: np.ndarray) -> Image.Image:
    """Depth in metres -> 16-bit PNG image in millimetres (0 = invalid, saturating at 65.535 m)."""
    depth = np.asarray(depth)
    millimetres = np.empty(depth.shape, np.uint16)
    for top in range(0, depth.shape[0], CHUNK_ROWS):
        rows = np.nan_to_num(depth[top: top + CHUNK_ROWS].astype(np.float32) * 1000.0, nan=0.0, posinf=0.0, neginf=0.0)
        millimetres[top: top + CHUNK_ROWS] = np.clip(np.round(rows), 0, 65535)
    return Image.fromarray(millimetres)


def output_paths(out_dir: Path, stem: str, npy: bool = False, grey: bool = False) -> dict:
    """The files `predict` (and the Pi script) write for one image (`stem` may hold subfolders)."""
    out_dir = Path(out_dir)
    paths = {"color": out_dir / f"{stem}_depth.png", "png16": out_dir / f"{stem}_depth_mm.png"}
    if npy:
        paths["npy"] = out_dir / f"{stem}_depth.npy"
    if grey:
        paths["grey"] = out_dir / f"{stem}_inverse_depth.png"
    return paths


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
