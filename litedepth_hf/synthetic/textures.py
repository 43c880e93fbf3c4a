"""Surface materials: per-frame specs (`Material`) and the pixels they stand for.

Why specs: scene sampling draws *which* photo, crop, turn and tint a surface wears from the frame's own
random stream, without reading an image, so sampling is cheap, testable without Mitsuba, and frame `i`
of a dataset wears the same surfaces whichever worker renders it. `MaterialPainter` turns a spec into
texels at a slot's resolution when the frame is posed. Every frame draws fresh crops from the whole photo
set (thousands of photos x crop x turn x tint), so no two rooms share a surface; procedural textures
(wood, tiles, stripes, ...) come from a small pool that is redrawn every `POOL_FRAMES` frames; printed
things (paper with text, keyboards) are drawn from their own seed, since real desks owe much of their fine
detail to them.
"""

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image, ImageEnhance

LARGE_TEXTURE, SMALL_TEXTURE = 256, 128  # texels of a room/furniture slot, of a clutter slot
POOL_FRAMES = 256  # frames that share one procedural pool
POOL_SIZE = 48
KINDS = ("paint", "photo", "procedural", "flat", "print", "floor")
PRINTS = ("text", "keys")
FLOORS = ("planks", "tiles", "carpet", "smooth")  # generator v12: what real rooms stand on
FLOORS_P = (0.4, 0.25, 0.25, 0.1)


@dataclass
class Material:
    """What one surface wears. `kind`: paint (a colour with faint mottling: walls, ceilings), photo (a crop
    of photo `photo`), procedural (texture `pool_index` of the frame's pool), flat (exactly `tint`: screens,
    tests), print (a printed thing of `PRINTS`, `pattern`), floor (a floor of `FLOORS`, `pattern`, at real
    sizes: `floor_repeat_m`). `seed` fixes the crop, turn, layout and colours; `tint` multiplies the linear
    texels."""

    kind: str
    seed: int
    tint: np.ndarray
    photo: int = -1
    pool_index: int = 0
    saturation: float = 1.0  # photo colours around their grey: 0 grey, 1 as shot
    pattern: str = ""  # kind print: one of PRINTS; kind floor: one of FLOORS


def _value_noise(rng, size: int, octaves: int = 4) -> np.ndarray:
    """Tileable multi-octave value noise in [0, 1], (size, size)."""
    out = np.zeros((size, size), np.float32)
    weight_sum = 0.0
    for octave in range(octaves):
        cells = 2 ** (octave + 2)
        grid = rng.random((cells, cells)).astype(np.float32)
        coords = np.arange(size) * cells / size
        base = np.floor(coords).astype(int)
        frac = (coords - base)[:, None]
        frac = frac * frac * (3 - 2 * frac)
        rows = grid[base % cells] * (1 - frac) + grid[(base + 1) % cells] * frac
        layer = rows[:, base % cells] * (1 - frac.T) + rows[:, (base + 1) % cells] * frac.T
        amplitude = 0.55 ** octave
        out += amplitude * layer
        weight_sum += amplitude
    out /= weight_sum
    return (out - out.min()) / max(float(np.ptp(out)), 1e-6)


def _palette(rng) -> tuple:
    """Two related colours in linear RGB: indoor surfaces are mostly muted, sometimes saturated."""
    hue = rng.random()
    saturation = rng.choice([rng.uniform(0.0, 0.15), rng.uniform(0.15, 0.5), rng.uniform(0.5, 0.9)],
                            p=[0.45, 0.4, 0.15])
    value = rng.uniform(0.2, 0.95)
    first = _hsv_to_rgb(hue, saturation, value)
    second = _hsv_to_rgb((hue + rng.normal(0, 0.08)) % 1, saturation * rng.uniform(0.5, 1.2),
                         value * rng.uniform(0.3, 0.9))
    return first ** 2.2, np.clip(second, 0, 1) ** 2.2


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    k = (np.array([5.0, 3.0, 1.0]) + h * 6) % 6
    return np.clip(v - v * s * np.clip(np.minimum(k, 4 - k), 0, 1), 0, 1).astype(np.float32)


PLAIN_KINDS = ("plain", "noise", "gradient")


def procedural_texture(rng, size: int = SMALL_TEXTURE, kind: Optional[str] = None) -> np.ndarray:
    """One tileable texture (size, size, 3), linear RGB in [0, 1]: noise, stripes, tiles, wood, checkers,
    gradient or plain, mixed with noise so no surface is perfectly flat in colour."""
    kind = kind or rng.choice(["plain", "noise", "stripes", "tiles", "wood", "checkers", "gradient"],
                              p=[0.22, 0.18, 0.12, 0.14, 0.14, 0.08, 0.12])
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    noise = _value_noise(rng, size)
    if kind == "plain":
        mask = noise * 0.15
    elif kind == "noise":
        mask = noise
    elif kind == "stripes":
        period = int(rng.integers(2, 9))
        mask = (np.sin(2 * np.pi * period * (x if rng.random() < 0.5 else y)) > rng.uniform(-0.5, 0.5)).astype(np.float32)
    elif kind == "tiles":
        n = int(rng.choice([1, 2, 4, 8]))
        width = rng.uniform(0.03, 0.1)
        gx, gy = (x * n) % 1, (y * n) % 1
        mask = ((gx < width) | (gy < width)).astype(np.float32) * 0.9 + 0.1 * noise
    elif kind == "wood":
        rings = int(rng.integers(4, 16))
        distortion = _value_noise(rng, size, 3)
        mask = 0.5 + 0.5 * np.sin(2 * np.pi * (rings * y + 2.0 * distortion))
        mask = mask ** 3
    elif kind == "checkers":
        n = int(rng.choice([2, 4, 8]))
        mask = ((np.floor(x * n) + np.floor(y * n)) % 2).astype(np.float32)
    else:  # gradient: a slow tileable wave
        mask = 0.5 + 0.5 * np.sin(2 * np.pi * (x if rng.random() < 0.5 else y))
    first, second = _palette(rng)
    mask = np.clip(mask * rng.uniform(0.6, 1.0) + (noise - 0.5) * 0.1, 0, 1)[..., None]
    return (first * (1 - mask) + second * mask).astype(np.float32)


def printed_texture(rng, size: int, pattern: str) -> np.ndarray:
    """A printed thing (size, size, 3), linear RGB: `text` is a page (light paper, margins, lines of dark words,
    sometimes a heading or a picture block), `keys` a keyboard (a grid of keys with a mark on each, dark or light).
    Sharp dark-on-light marks smaller than a pixel at a few metres: the fine edges of real desks that lie on no
    depth edge."""
    if pattern == "text":
        paper = rng.uniform(0.82, 0.96) * rng.uniform(0.97, 1.03, 3)
        image = np.ones((size, size, 3), np.float32) * paper.astype(np.float32)
        ink = rng.uniform(0.05, 0.35) * rng.uniform(0.9, 1.1, 3)
        margin = int(size * rng.uniform(0.06, 0.14))
        spacing = max(2, int(size * rng.uniform(0.02, 0.05)))  # a 128-texel A4 page: lines 5-12 mm apart
        height = max(1, int(spacing * rng.uniform(0.35, 0.55)))
        row = margin
        while row + height < size - margin:
            column = margin
            end = size - margin - (int(rng.uniform(0, 0.6) * size) if rng.random() < 0.15 else 0)
            thick = height + (max(1, height // 2) if rng.random() < 0.08 else 0)  # a heading
            while column < end:
                length = max(1, int(size * rng.uniform(0.02, 0.12)))
                image[row: row + thick, column: min(column + length, end)] = ink
                column += length + max(1, int(size * rng.uniform(0.012, 0.025)))
            row += spacing + (spacing if rng.random() < 0.12 else 0)  # paragraph breaks
        if rng.random() < 0.25:  # a picture block
            top, left = (int(v) for v in rng.integers(margin, size // 2, 2))
            block = image[top: top + size // 3, left: left + size // 3]
            block[:] = rng.uniform(0.1, 0.8, 3).astype(np.float32) * (0.75 + 0.25 * rng.random(block.shape[:2], np.float32))[..., None]
    elif pattern == "keys":
        dark = rng.random() < 0.7
        base, key, mark = ((rng.uniform(0.02, 0.12), rng.uniform(0.08, 0.2), rng.uniform(0.6, 0.9)) if dark else
                           (rng.uniform(0.55, 0.75), rng.uniform(0.8, 0.95), rng.uniform(0.05, 0.3)))
        image = np.full((size, size, 3), base, np.float32)
        rows, columns = int(rng.integers(5, 7)), int(rng.integers(12, 17))
        pitch_y, pitch_x = size / rows, size / columns
        for r in range(rows):
            for c in range(columns):
                y0, x0 = int(r * pitch_y + 0.1 * pitch_y), int(c * pitch_x + 0.1 * pitch_x)
                y1, x1 = int((r + 1) * pitch_y - 0.1 * pitch_y), int((c + 1) * pitch_x - 0.1 * pitch_x)
                image[y0:y1, x0:x1] = key
                cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
                image[max(y0, cy - 1): cy + 1, max(x0, cx - 1): cx + 1] = mark  # the key's label
    else:
        raise ValueError(f"unknown print {pattern!r}; one of {PRINTS}")
    return (np.clip(image, 0.0, 1.0) ** 2.2).astype(np.float32)


def _floor_layout(material: Material) -> tuple:
    """(rng, metres one texture repeat covers, sizes) of a floor material: drawn first from its seed, so scene
    sampling (which sets the floor's repeat) and painting (which draws the rest from the same rng) agree. Each
    repeat holds a whole number of boards or tiles (1.1-2.7 m), and joints straddle its edges (`_cells`), so
    mirrored repeats keep every joint on the grid."""
    rng = np.random.default_rng([material.seed, 12])
    if material.pattern == "planks":  # boards 9-22 cm wide, 1-3 lengths per repeat (0.36-2.7 m long)
        width = rng.uniform(0.09, 0.22)
        across = max(4, round(rng.uniform(1.2, 2.6) / width))
        return rng, across * width, {"across": across, "pieces": int(rng.integers(1, 4))}
    if material.pattern == "tiles":  # 20-60 cm squares, 2-8 mm joints
        side = rng.uniform(0.2, 0.6)
        count = max(2, round(rng.uniform(1.0, 2.4) / side))
        return rng, count * side, {"count": count, "joint_m": rng.uniform(0.002, 0.008)}
    if material.pattern == "carpet":  # broadloom, or 50 cm carpet tiles, each a shade of its own
        if rng.random() < 0.3:
            count = int(rng.integers(2, 5))
            return rng, count * 0.5, {"count": count}
        return rng, rng.uniform(1.0, 2.0), {"count": 0}
    if material.pattern == "smooth":  # lino, vinyl, screed or epoxy: a faint cloud, sometimes flecks
        return rng, rng.uniform(1.5, 3.0), {}
    raise ValueError(f"unknown floor {material.pattern!r}; one of {FLOORS}")


def sample_floor(rng) -> Material:
    """A floor material: planks, tiles, carpet or a smooth floor (`FLOORS_P`), its layout and colours from its seed."""
    pattern = str(rng.choice(FLOORS, p=FLOORS_P))
    return Material("floor", int(rng.integers(2**31)), np.ones(3, np.float32), pattern=pattern)


def floor_repeat_m(material: Material) -> float:
    """Metres one repeat of a floor material's texture covers (its planks and tiles at their real sizes)."""
    return float(_floor_layout(material)[1])


def _cells(coord: np.ndarray, count: int) -> tuple:
    """(index of the cell, whether within 0.75 texel of a cell edge) for texel-centre coordinates in [0, 1] of a
    `LARGE_TEXTURE` texture split into `count` cells: a joint straddles every edge, the repeat's own edges
    included, so a mirrored repeat meets its mirror image across a joint as any two cells do."""
    position = coord * count
    half = 0.75 * count / LARGE_TEXTURE
    fraction = position % 1.0
    return np.minimum(position.astype(int), count - 1), (fraction < half) | (fraction > 1.0 - half)


def floor_texture(material: Material, cloud: np.ndarray) -> np.ndarray:
    """A floor (LARGE_TEXTURE texels square, linear RGB) for `material` (kind floor): boards with grain and dark
    joints, tiles with grout, carpet (fine pile noise, sometimes carpet tiles), or a smooth cloudy floor; colours
    drawn within what real floors show (woods from pale oak to walnut, grey laminate, white to terracotta tiles,
    muted carpet). `cloud`: smooth noise in [0, 1] of the same size, for stains and streaks (the painter's mottle:
    drawing it costs 10 ms). Always drawn at one size, so a floor is the same floor in every slot."""
    rng, repeat_m, layout = _floor_layout(material)
    size = LARGE_TEXTURE
    y, x = (np.mgrid[0:size, 0:size].astype(np.float32) + 0.5) / size  # texel centres; x along the boards
    if material.pattern == "planks":
        across, pieces = layout["across"], layout["pieces"]
        row, side_joint = _cells(y, across)
        offsets = rng.random(across).astype(np.float32)  # where each row's end joints fall
        along = x + offsets[row] / pieces
        piece, end_joint = _cells(along % 1.0, pieces)
        _, edge = _cells(x, 1)  # an end joint at the repeat's edge too: the mirrored repeat starts new boards
        value = rng.uniform(0.3, 0.88)
        grey = rng.random() < 0.15  # grey laminate; else wood, less saturated the paler it is (no salmon boards)
        saturation = rng.uniform(0.0, 0.08) if grey else rng.uniform(0.3, 0.65) * (1.25 - 0.6 * value)
        colour = _hsv_to_rgb(rng.uniform(0.055, 0.11), saturation, value)
        board = row * (pieces + 1) + piece + pieces * (along >= 1.0)  # one number per board
        tones = 1.0 + rng.uniform(0.04, 0.14) * rng.standard_normal(across * (pieces + 1) + 1).astype(np.float32)
        # grain: fine lines along the boards (one value per texel row, smoothed a little across) under slow streaks
        lines = np.convolve(rng.random(size + 2), [0.25, 0.5, 0.25], "valid").astype(np.float32)[:, None]
        streaks = cloud[:, : max(2, size // int(rng.integers(8, 24)))]  # the cloud stretched along the boards
        grain = 0.6 * lines + 0.4 * np.asarray(Image.fromarray(streaks).resize((size, size), Image.BILINEAR))
        shade = tones[board] * (1.0 + rng.uniform(0.2, 0.5) * (grain - 0.5))
        image = colour * shade[..., None]
        image[side_joint | end_joint | edge] *= rng.uniform(0.45, 0.75)
    elif material.pattern == "tiles":
        count = layout["count"]
        (row, row_joint), (column, column_joint) = _cells(y, count), _cells(x, count)
        palette = [_hsv_to_rgb(rng.uniform(0.05, 0.12), rng.uniform(0.0, 0.25), rng.uniform(0.55, 0.95)),  # white, beige, grey
                   _hsv_to_rgb(rng.uniform(0.02, 0.07), rng.uniform(0.4, 0.7), rng.uniform(0.45, 0.7)),  # terracotta
                   _hsv_to_rgb(rng.random(), rng.uniform(0.0, 0.1), rng.uniform(0.15, 0.5))]  # dark stone
        colour = palette[int(rng.choice(3, p=[0.65, 0.15, 0.2]))]
        tones = 1.0 + 0.04 * rng.standard_normal(count * count).astype(np.float32)
        image = colour * (tones[row * count + column] * (1.0 + 0.12 * (cloud - 0.5)))[..., None]
        # grout as wide as drawn (2-8 mm), at least the 1.5 texels a joint straddles
        wide = np.abs((np.stack([y, x]) * count + 0.5) % 1.0 - 0.5).min(0) < 0.5 * layout["joint_m"] / repeat_m * count
        image[row_joint | column_joint | wide] = _hsv_to_rgb(0.0, 0.0, rng.uniform(0.25, 0.8))
    elif material.pattern == "carpet":
        colour = _hsv_to_rgb(rng.random(), rng.uniform(0.05, 0.35), rng.uniform(0.15, 0.6))
        pile = rng.random((size, size), np.float32)
        shade = 1.0 + rng.uniform(0.15, 0.35) * (pile - 0.5) + rng.uniform(0.05, 0.15) * (cloud - 0.5)
        if layout["count"]:  # carpet tiles: each a shade of its own (pile laid in turns)
            count = layout["count"]
            tones = 1.0 + rng.uniform(0.02, 0.06) * rng.standard_normal(count * count).astype(np.float32)
            shade = shade * tones[_cells(y, count)[0] * count + _cells(x, count)[0]]
        image = colour * shade[..., None]
    else:
        colour = _hsv_to_rgb(rng.uniform(0.0, 0.15), rng.uniform(0.0, 0.3), rng.uniform(0.35, 0.85))
        shade = 1.0 + rng.uniform(0.06, 0.2) * (cloud - 0.5)
        if rng.random() < 0.4:  # flecks
            flecks = rng.random((size, size), np.float32) > 1.0 - rng.uniform(0.02, 0.08)
            shade = shade * np.where(flecks, rng.uniform(0.6, 1.3), 1.0)
        image = colour * shade[..., None]
    if rng.random() < 0.5:  # boards and carpet tiles run along either axis of the room
        image = image.transpose(1, 0, 2)
    return np.ascontiguousarray(np.clip(image, 0.0, 1.0) ** 2.2, np.float32)


def _srgb_to_linear(values: np.ndarray) -> np.ndarray:
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4).astype(np.float32)


_LINEAR_OF_BYTE = _srgb_to_linear(np.arange(256) / 255.0)  # a lookup: 8-bit sRGB -> linear, 10x faster than powers
_TURNS = {1: Image.Transpose.ROTATE_90, 2: Image.Transpose.ROTATE_180, 3: Image.Transpose.ROTATE_270}  # np.rot90's k


def photo_files(folders) -> list:
    """Image files under each folder, subfolders included (a `depth/` folder of an RGB-D set is skipped:
    its 16-bit maps are not pictures); sorted, so an index names the same file on every machine. A folder
    that is missing or holds no images is an error."""
    from ..data import IMAGE_SUFFIXES

    files = []
    for folder in folders:
        root = Path(folder)
        if not root.is_dir():
            raise FileNotFoundError(f"texture folder not found: {root}")
        found = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                       and "depth" not in p.relative_to(root).parts[:-1])
        if not found:
            raise ValueError(f"texture folder {root} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        files += found
    return files


# per surface role: (share of paint, photo, procedural), paint (sRGB value range, max saturation), photo
# saturation range. Real rooms are mostly plain light walls and ceilings, wood, tile or carpet floors,
# plain white, black or wood furniture and plain plastic objects; photographs' full colours belong on some
# objects and pictures (v6: more paint, less saturation, after the real training frames' statistics).
ROLES = {
    "wall": ((0.85, 0.10, 0.05), (0.65, 0.97, 0.2), (0.15, 0.4)),
    "ceiling": ((0.95, 0.0, 0.05), (0.75, 0.97, 0.06), (0.15, 0.35)),
    "floor": ((0.25, 0.35, 0.40), (0.25, 0.8, 0.25), (0.2, 0.55)),  # v2-v11; v12 floors are `sample_floor`'s
    "furniture": ((0.55, 0.25, 0.20), (0.1, 0.95, 0.3), (0.2, 0.55)),
    "fabric": ((0.40, 0.40, 0.20), (0.15, 0.85, 0.45), (0.25, 0.7)),
    "object": ((0.35, 0.50, 0.15), (0.1, 0.95, 0.7), (0.4, 0.85)),
    "picture": ((0.0, 1.0, 0.0), (0.5, 0.9, 0.2), (0.6, 1.0)),
}
# per role, the shares of paint that is near-black (sRGB value 0.02-0.15: monitors, chairs, electronics) and
# near-white (0.8-0.95: desks, shelves, paper): real rooms' contrast comes from such surfaces side by side
EXTREMES = {"floor": (0.1, 0.1), "furniture": (0.25, 0.35), "fabric": (0.2, 0.1), "object": (0.3, 0.3)}


def sample_material(rng, photos: int, role: str = "object") -> Material:
    """A material spec for a surface of `role` (ROLES); without photos their share goes to procedural."""
    (paint, photo, _), (low, high, max_saturation), saturation = ROLES[role]
    seed = int(rng.integers(2**31))
    draw = rng.random()
    if draw < paint:
        dark, white = EXTREMES.get(role, (0.0, 0.0))
        tone = rng.random()
        value = rng.uniform(0.02, 0.15) if tone < dark else rng.uniform(0.8, 0.95) if tone < dark + white else rng.uniform(low, high)
        colour = _hsv_to_rgb(rng.random(), rng.uniform(0, max_saturation), value) ** 2.2
        return Material("paint", seed, colour.astype(np.float32))
    tint = (rng.uniform(0.9, 1.08, 3) * rng.uniform(0.75, 1.1)).astype(np.float32)
    if photos and draw < paint + photo:
        return Material("photo", seed, tint, photo=int(rng.integers(photos)), saturation=float(rng.uniform(*saturation)))
    return Material("procedural", seed, tint, pool_index=int(rng.integers(POOL_SIZE)))


def procedural_pool(seed: int, block: int, size: int = LARGE_TEXTURE) -> np.ndarray:
    """The `POOL_SIZE` procedural textures frames [block * POOL_FRAMES, (block + 1) * POOL_FRAMES) share."""
    rng = np.random.default_rng([int(seed), 7_919, int(block)])
    return np.stack([procedural_texture(rng, size) for _ in range(POOL_SIZE)])


class MaterialPainter:
    """Turns `Material` specs into linear-RGB texels (size, size, 3) in [0, 0.95]. Keeps the last procedural
    pool and up to `cache` decoded photos (~0.4 MB each at 288 px), so each photo is decoded once per process."""

    def __init__(self, seed: int, photos: list, cache: int = 3000):
        self.seed, self.photos, self.cache = int(seed), list(photos), cache
        self._decoded = OrderedDict()
        self._pool = (None, None)  # (block, textures)
        self._floor = (None, None)  # (key, texels): the last floor painted
        # tiled 2x2, so a rolled copy is a window of it (np.roll copies the whole texture first)
        self._mottle = np.tile(_value_noise(np.random.default_rng([self.seed, 104_729]), LARGE_TEXTURE, 5), (2, 2))

    def pool(self, index: int) -> np.ndarray:
        block = int(index) // POOL_FRAMES
        if self._pool[0] != block:
            self._pool = (block, procedural_pool(self.seed, block))
        return self._pool[1]

    def photo(self, k: int) -> Image.Image:
        image = self._decoded.pop(k, None)
        if image is None:
            with Image.open(self.photos[k]) as opened:
                image = opened.convert("RGB")
            image.load()
        self._decoded[k] = image
        while len(self._decoded) > self.cache:
            self._decoded.popitem(last=False)
        return image

    def _mottle_window(self, rng, size: int) -> np.ndarray:
        """(size, size) of the mottle noise, shifted by a draw of `rng` (a window of the 2x2 tiling = np.roll)."""
        top, left = (LARGE_TEXTURE - int(s) for s in rng.integers(0, LARGE_TEXTURE, 2))
        step = LARGE_TEXTURE // size
        return self._mottle[top: top + LARGE_TEXTURE: step, left: left + LARGE_TEXTURE: step]

    def paint(self, material: Material, size: int, frame: int) -> np.ndarray:
        rng = np.random.default_rng(material.seed)
        if material.kind == "flat":
            texels = np.ones((size, size, 3), np.float32)
        elif material.kind == "paint":  # the colour is the tint; a faint mottle, as real paint and plaster have
            mottle = self._mottle_window(rng, size)[..., None]
            texels = 1.0 + rng.uniform(0.03, 0.12) * (mottle - 0.5)
        elif material.kind == "print":
            texels = printed_texture(rng, size, material.pattern)
        elif material.kind == "floor":  # the room's floor and the floors seen through its openings: painted once
            key = (material.seed, material.pattern)
            if self._floor[0] != key:
                self._floor = (key, floor_texture(material, self._mottle_window(rng, LARGE_TEXTURE)))
            step = LARGE_TEXTURE // size
            texels = self._floor[1][::step, ::step]
        elif material.kind == "photo":  # tinted and clipped in the lookup
            return self._photo_crop(rng, self.photo(material.photo), size, material.tint, material.saturation)
        elif material.kind == "procedural":
            texels = self.pool(frame)[material.pool_index]
            if texels.shape[0] != size:
                step = texels.shape[0] // size
                texels = texels[::step, ::step]
            texels = np.rot90(texels, int(rng.integers(4)))
        else:
            raise ValueError(f"unknown material kind {material.kind!r}")
        texels = texels * material.tint  # float32 in, float32 out: clipped in place, no copies
        return np.clip(texels, 0.0, 0.95, out=texels)

    @staticmethod
    def _photo_crop(rng, image: Image.Image, size: int, tint: np.ndarray, saturation: float) -> np.ndarray:
        """A square crop (15-70 % of the short side) at a random place, resized to `size`, its saturation
        set, turned by a multiple of 90 degrees and maybe mirrored; linear RGB times `tint`, clipped.
        PIL and one lookup table do the per-texel work (a 256-texel crop costs ~0.3 ms)."""
        side = max(8, int(min(image.size) * rng.uniform(0.15, 0.7)))
        left = int(rng.integers(0, image.width - side + 1))
        top = int(rng.integers(0, image.height - side + 1))
        crop = image.resize((size, size), Image.BILINEAR, box=(left, top, left + side, top + side))
        crop = ImageEnhance.Color(crop).enhance(saturation)
        turn = int(rng.integers(4))  # turned and mirrored as bytes in PIL: 3x cheaper than on the float texels
        if turn:
            crop = crop.transpose(_TURNS[turn])
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        lookup = np.clip(_LINEAR_OF_BYTE[:, None] * tint[None, :], 0.0, 0.95).astype(np.float32)  # (256, 3)
        data = np.asarray(crop)
        texels = np.empty(data.shape, np.float32)
        for channel in range(3):
            np.take(lookup[:, channel], data[..., channel], out=texels[..., channel])
        return texels
