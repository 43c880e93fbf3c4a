"""Procedural indoor RGB-D scenes rendered with Mitsuba 3: training images with exact metric z-depth.

Why: the only real RGB-D data here is one desk, and rendered depth is exact and unlimited.
Every choice (room, furniture, clutter, materials, lights, camera) is drawn from
`numpy.random.default_rng([seed, index])` (domain randomisation), so frame `index` of a
dataset is the same whichever shard or worker renders it.

Speed comes from compiling once: a `Renderer` loads one scene *template* with a fixed number
of box and blob (superquadric) slots, lights and textures, and each frame only changes values
through `mi.traverse` (vertex positions, textures, emitters, camera). Unused slots are shrunk
and parked below the floor. Colour is rendered with many samples per pixel; depth in a
second pass with one sample per pixel and a box filter, so an occlusion-edge pixel holds one
surface's depth, never a blend. Depth is z along the optical axis, in metres.
"""

import glob
import json
import math
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

DEPTH_SCALE = 5000.0  # stored uint16 / 5000 = metres, as the TUM folders
TEXTURE_SIZE = 128
N_BOXES = 72
N_BLOBS = 14
GRID_U, GRID_V = 24, 12  # superquadric mesh resolution (around, pole to pole)
N_CEILING_LIGHTS = 2
GENERATOR = "litedepth synth"  # meta.json's "generator": how training tells renders from camera frames
PARKED = np.array([0.0, -50.0, 0.0], np.float32)  # where unused slots collapse, below every floor
DEFAULT_TEXTURE_FOLDERS = ("../shared/data/tum_fr1_rpy",)  # training frames beside a checkout; no dev folder
MANIFEST_FIELDS = ("id", "rgb", "depth", "valid_fraction", "depth_min_m", "depth_median_m", "depth_max_m",
                   "fx", "fy", "cx", "cy", "close_range", "objects")
FAST_PATH_NOTE = ("mitsuba: using the slow scalar_rgb renderer; for ~10x speed install LLVM >= 16 "
                  "(Debian/Ubuntu: apt-get install libllvm19) or set DRJIT_LIBLLVM_PATH to its libLLVM.so")


@dataclass
class SynthConfig:
    """Everything that decides a dataset's pixels; stored in meta.json so a resumed run must match."""

    seed: int = 0
    size: tuple = (240, 320)  # (height, width)
    spp: int = 16
    integrator: str = "direct"
    max_depth_m: float = 10.0
    close_range_share: float = 0.3
    textures: list = field(default_factory=list)  # folders of photos to crop textures from
    variant: str = "scalar_rgb"

    def __post_init__(self):
        self.size = tuple(int(v) for v in self.size)
        if len(self.size) != 2 or min(self.size) < 8:
            raise ValueError(f"size must be (height, width), each >= 8 pixels, got {self.size}")
        if self.spp < 1:
            raise ValueError(f"spp must be >= 1, got {self.spp}")
        if self.integrator not in ("direct", "path"):
            raise ValueError(f"integrator must be 'direct' or 'path', got {self.integrator!r}")
        if not self.max_depth_m > 0:
            raise ValueError(f"max_depth_m must be > 0, got {self.max_depth_m}")
        self.textures = [str(t) for t in self.textures]


# ----------------------------------------------------------------------------------------- renderer set-up


def llvm_library() -> Optional[str]:
    """Path of a libLLVM >= 16 (older ones crash Dr.Jit's code generation), or None."""
    configured = os.environ.get("DRJIT_LIBLLVM_PATH")
    if configured:
        return configured if Path(configured).is_file() else None
    candidates = []
    for pattern in ("/usr/lib/*/libLLVM-*.so*", "/usr/lib/llvm-*/lib/libLLVM*.so*", "/usr/local/lib/libLLVM*.so*"):
        candidates += glob.glob(pattern)
    best = None
    for path in candidates:
        digits = "".join(ch if ch.isdigit() else " " for ch in Path(path).name.replace("LLVM", " ")).split()
        major = int(digits[0]) if digits else 0
        if major >= 16 and (best is None or major > best[0]):
            best = (major, path)
    return best[1] if best else None


def default_variant() -> str:
    """The fastest CPU variant that works here, decided without importing Mitsuba."""
    return "llvm_ad_rgb" if llvm_library() else "scalar_rgb"


def check_renderer(variant: Optional[str] = None) -> None:
    """Fail with one line if Mitsuba, or the LLVM library a variant needs, is missing (nothing imported)."""
    import importlib.util

    if importlib.util.find_spec("mitsuba") is None:
        raise RuntimeError("Mitsuba 3 is not installed: pip install 'litedepth-hf[synth]' (or pip install mitsuba)")
    if variant is not None and variant.startswith("llvm") and not llvm_library():
        raise RuntimeError(f"the {variant} renderer needs LLVM >= 16; this dataset was started with it. "
                           + FAST_PATH_NOTE.split("; ", 1)[1])


def import_mitsuba(variant: Optional[str] = None):
    """Import Mitsuba with the given variant, or the fastest working CPU one (LLVM when a libLLVM >= 16
    exists, else scalar_rgb). Sets the process's Mitsuba variant."""
    check_renderer(variant)
    library = llvm_library() if variant is None or variant.startswith("llvm") else None
    if library:
        os.environ["DRJIT_LIBLLVM_PATH"] = library
    import mitsuba as mi

    mi.set_variant(variant or ("llvm_ad_rgb" if library else "scalar_rgb"))
    return mi


# ------------------------------------------------------------------------------------------------ textures


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
    saturation = rng.choice([rng.uniform(0.0, 0.15), rng.uniform(0.15, 0.5), rng.uniform(0.5, 0.9)], p=[0.45, 0.4, 0.15])
    value = rng.uniform(0.2, 0.95)
    first = _hsv_to_rgb(hue, saturation, value)
    second = _hsv_to_rgb((hue + rng.normal(0, 0.08)) % 1, saturation * rng.uniform(0.5, 1.2),
                         value * rng.uniform(0.3, 0.9))
    return first ** 2.2, np.clip(second, 0, 1) ** 2.2


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    k = (np.array([5.0, 3.0, 1.0]) + h * 6) % 6
    return np.clip(v - v * s * np.clip(np.minimum(k, 4 - k), 0, 1), 0, 1).astype(np.float32)


PLAIN_KINDS = ("plain", "noise", "gradient")


def procedural_texture(rng, size: int = TEXTURE_SIZE, kind: Optional[str] = None) -> np.ndarray:
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


def texture_photos(folders: list) -> list:
    """Image files under each folder (or its rgb/ subfolder); a folder with no images is an error."""
    from .data import IMAGE_SUFFIXES

    files = []
    for folder in folders:
        root = Path(folder)
        if not root.is_dir():
            raise FileNotFoundError(f"texture folder not found: {root}")
        found = sorted(p for p in list(root.glob("*")) + list(root.glob("rgb/*")) if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise ValueError(f"texture folder {root} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        files += found
    return files


def photo_texture(rng, path: Path, size: int = TEXTURE_SIZE) -> np.ndarray:
    """A random square crop of a photo (a quarter to a half of its short side), linear RGB."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        side = int(min(image.size) * rng.uniform(0.25, 0.5))
        left = int(rng.integers(0, image.width - side + 1))
        top = int(rng.integers(0, image.height - side + 1))
        crop = image.crop((left, top, left + side, top + side)).resize((size, size), Image.BILINEAR)
    return (np.asarray(crop, np.float32) / 255.0) ** 2.2


def texture_pool(seed: int, count: int, photos: list, size: int = TEXTURE_SIZE) -> np.ndarray:
    """`count` textures (count, size, size, 3) fixed by the dataset seed. The first quarter is plain
    (walls, ceilings); of the rest, a quarter are photo crops when photos are given."""
    rng = np.random.default_rng([seed, 7_919])
    pool = np.empty((count, size, size, 3), np.float32)
    for i in range(count):
        if i < count // 4:
            pool[i] = procedural_texture(rng, size, kind=str(rng.choice(PLAIN_KINDS, p=[0.5, 0.3, 0.2])))
        elif photos and rng.random() < 0.25:
            pool[i] = photo_texture(rng, photos[int(rng.integers(len(photos)))], size)
        else:
            pool[i] = procedural_texture(rng, size)
    return pool


# ------------------------------------------------------------------------------------------ geometry


def _yaw_matrix(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], np.float32)


def _rotation(rng) -> np.ndarray:
    """A uniformly random rotation matrix."""
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ], np.float32)


# A unit cube's 6 faces as 4 corners each (counter-clockwise seen from outside), and per-face UV axes.
_FACES = np.array([
    [[1, -1, -1], [1, 1, -1], [1, 1, 1], [1, -1, 1]],
    [[-1, -1, 1], [-1, 1, 1], [-1, 1, -1], [-1, -1, -1]],
    [[-1, 1, -1], [-1, 1, 1], [1, 1, 1], [1, 1, -1]],
    [[-1, -1, 1], [-1, -1, -1], [1, -1, -1], [1, -1, 1]],
    [[1, -1, 1], [1, 1, 1], [-1, 1, 1], [-1, -1, 1]],
    [[-1, -1, -1], [-1, 1, -1], [1, 1, -1], [1, -1, -1]],
], np.float32) * 0.5
_CUBE_VERTICES = _FACES.reshape(24, 3)
_CUBE_TRIANGLES = np.array([[4 * f, 4 * f + 1, 4 * f + 2] for f in range(6)]
                           + [[4 * f, 4 * f + 2, 4 * f + 3] for f in range(6)], np.uint32)
_FACE_UV_AXES = [(2, 1), (2, 1), (0, 2), (0, 2), (0, 1), (0, 1)]  # which box axes a face's u, v follow


@dataclass
class Box:
    centre: np.ndarray
    size: np.ndarray
    rotation: np.ndarray  # 3x3
    texture: int
    tint: np.ndarray
    tile_m: float = 1.0  # metres one texture repeat covers

    def mesh(self) -> tuple:
        """(24, 3) world vertices and (24, 2) UVs in texture repeats."""
        local = _CUBE_VERTICES * self.size
        vertices = local @ self.rotation.T + self.centre
        uv = np.empty((24, 2), np.float32)
        for face, (a, b) in enumerate(_FACE_UV_AXES):
            corners = local[4 * face: 4 * face + 4]
            uv[4 * face: 4 * face + 4, 0] = corners[:, a] / self.tile_m
            uv[4 * face: 4 * face + 4, 1] = corners[:, b] / self.tile_m
        return vertices.astype(np.float32), uv


def _grid_triangles() -> np.ndarray:
    i, j = np.meshgrid(np.arange(GRID_V), np.arange(GRID_U), indexing="ij")
    a = i * GRID_U + j
    b = i * GRID_U + (j + 1) % GRID_U
    c = (i + 1) * GRID_U + j
    d = (i + 1) * GRID_U + (j + 1) % GRID_U
    return np.concatenate([np.stack([a, c, b], -1).reshape(-1, 3), np.stack([b, c, d], -1).reshape(-1, 3)]).astype(np.uint32)


_GRID_TRIANGLES = _grid_triangles()


def _signed_power(value, exponent):
    return np.sign(value) * np.abs(value) ** exponent


@dataclass
class Blob:
    """A superquadric (sphere, cylinder, rounded box, diamond, ...) or a supertoroid (torus) on a grid mesh."""

    centre: np.ndarray
    radii: np.ndarray
    exponents: tuple  # (e1 latitude, e2 longitude): 1 sphere, ~0.1 box/cylinder ends, 2 diamond
    rotation: np.ndarray
    texture: int
    tint: np.ndarray
    torus_ratio: float = 0.0  # > 0: a torus whose tube radius is this fraction of the ring radius

    def local_vertices(self) -> np.ndarray:
        e1, e2 = self.exponents
        if self.torus_ratio > 0:
            eta = np.linspace(-np.pi, np.pi, GRID_V + 1)[:, None]
        else:
            eta = np.linspace(-np.pi / 2, np.pi / 2, GRID_V + 1)[:, None]
        omega = np.linspace(-np.pi, np.pi, GRID_U, endpoint=False)[None, :]
        ce, se = _signed_power(np.cos(eta), e1), _signed_power(np.sin(eta), e1)
        cw, sw = _signed_power(np.cos(omega), e2), _signed_power(np.sin(omega), e2)
        ring = (1 + self.torus_ratio * ce) / (1 + self.torus_ratio) if self.torus_ratio > 0 else ce
        height = self.torus_ratio * se / (1 + self.torus_ratio) if self.torus_ratio > 0 else se
        points = np.stack([ring * cw, np.broadcast_to(height, (len(eta), GRID_U)), ring * sw], -1)
        return (points.reshape(-1, 3) * self.radii).astype(np.float32)

    def mesh(self) -> tuple:
        """(V, 3) world vertices, (V, 3) smooth normals, (V, 2) UVs."""
        vertices = self.local_vertices() @ self.rotation.T + self.centre
        tri = vertices[_GRID_TRIANGLES]
        face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        normals = np.zeros_like(vertices)
        for k in range(3):
            np.add.at(normals, _GRID_TRIANGLES[:, k], face_normals)
        length = np.linalg.norm(normals, axis=1, keepdims=True)
        normals = np.where(length > 1e-12, normals / np.maximum(length, 1e-12), np.array([0, 1, 0], np.float32))
        v, u = np.meshgrid(np.linspace(0, 2, GRID_V + 1), np.linspace(0, 4, GRID_U, endpoint=False), indexing="ij")
        return vertices.astype(np.float32), normals.astype(np.float32), np.stack([u, v], -1).reshape(-1, 2).astype(np.float32)

    def lowest_point(self) -> float:
        return float((self.local_vertices() @ self.rotation.T)[:, 1].min())


@dataclass
class Camera:
    origin: np.ndarray
    rotation: np.ndarray  # columns: image-right, image-down, forward (world)
    hfov_deg: float
    principal_offset: tuple  # (x, y) as fractions of the frame, Mitsuba's principal_point_offset

    def intrinsics(self, height: int, width: int) -> dict:
        """Pinhole intrinsics with pixel centres at integer coordinates (OpenCV/TUM convention)."""
        fx = (width / 2) / math.tan(math.radians(self.hfov_deg) / 2)
        return {"fx": fx, "fy": fx, "cx": width / 2 - 0.5 - self.principal_offset[0] * width,
                "cy": height / 2 - 0.5 - self.principal_offset[1] * height}

    def to_world(self) -> np.ndarray:
        return mitsuba_frame(self.rotation, self.origin)


def mitsuba_frame(rotation: np.ndarray, origin) -> np.ndarray:
    """4x4 to_world from a (right, down, forward) rotation: Mitsuba's sensors and emitters use (left, up, forward)."""
    matrix = np.eye(4, dtype=np.float64)
    matrix[:3, 0], matrix[:3, 1], matrix[:3, 2], matrix[:3, 3] = -rotation[:, 0], -rotation[:, 1], rotation[:, 2], origin
    return matrix


@dataclass
class Light:
    kind: str  # "area" (rectangle), "point", "spot"
    position: np.ndarray
    colour: np.ndarray  # linear RGB radiance / intensity
    half_size: tuple = (0.3, 0.3)
    facing: np.ndarray = field(default_factory=lambda: np.array([0.0, -1.0, 0.0]))
    spot_deg: float = 40.0


@dataclass
class Scene:
    boxes: list
    blobs: list
    lights: list
    camera: Camera
    close_range: bool
    objects: int
    ambient: float
    exposure_percentile: float = 95.0
    exposure_target: float = 0.85


def look_rotation(forward: np.ndarray, roll: float) -> np.ndarray:
    """Camera rotation (columns right, down, forward) for a view direction and a roll about it."""
    forward = forward / np.linalg.norm(forward)
    up = np.array([0.0, 1.0, 0.0])
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-6:
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c, s = math.cos(roll), math.sin(roll)
    right, down = c * right + s * down, -s * right + c * down
    return np.stack([right, down, forward], axis=1)


def colour_temperature(kelvin: float) -> np.ndarray:
    """Approximate linear RGB of a black body, normalised to max 1 (2700 K warm to 6500 K daylight)."""
    t = kelvin / 100.0
    red = 255.0 if t <= 66 else 329.7 * (t - 60) ** -0.1332
    green = 99.47 * math.log(t) - 161.1 if t <= 66 else 288.1 * (t - 60) ** -0.0755
    blue = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.5 * math.log(t - 10) - 305.0)
    rgb = np.clip(np.array([red, green, blue]) / 255.0, 0.05, 1.0) ** 2.2
    return rgb / rgb.max()


# ------------------------------------------------------------------------------------------ scene sampling


class _Builder:
    """Collects boxes and blobs of one scene, each with a texture from the pool and a tint."""

    def __init__(self, rng, pool_size: int):
        self.rng, self.pool_size = rng, pool_size
        self.boxes, self.blobs = [], []
        self.footprints = []  # (x, z, radius) on the floor: furniture and the camera keep out
        self.surfaces = []  # (centre xz, half sizes along the box axes, yaw, height): where clutter goes

    def material(self, plain: bool = False) -> tuple:
        """(texture index, RGB tint); `plain` draws from the pool's plain quarter (walls, ceilings)."""
        tint = self.rng.uniform(0.8, 1.1, 3).astype(np.float32) * self.rng.uniform(0.6, 1.2)
        return int(self.rng.integers(self.pool_size // 4 if plain else self.pool_size)), tint

    def box(self, centre, size, yaw: float = 0.0, texture=None, tile=None, rotation=None) -> Box:
        texture, tint = texture if texture is not None else self.material()
        box = Box(np.asarray(centre, np.float32), np.asarray(size, np.float32),
                  rotation if rotation is not None else _yaw_matrix(yaw), texture, tint,
                  tile if tile is not None else float(self.rng.uniform(0.3, 1.5)))
        self.boxes.append(box)
        return box


def _furniture(b: _Builder, kind: str, x: float, z: float, yaw: float, scale: float):
    """Boxes of one piece of furniture in its local frame (x width, y up, z depth), placed at (x, z)."""
    rng = b.rng
    rot = _yaw_matrix(yaw)
    wood = b.material()
    parts = []  # (local centre, size, material or None)
    if kind == "table":
        w, d, h = rng.uniform(0.7, 1.8), rng.uniform(0.5, 1.0), rng.uniform(0.65, 0.8)
        t, leg = rng.uniform(0.025, 0.06), rng.uniform(0.04, 0.08)
        parts.append(((0, h - t / 2, 0), (w, t, d), wood))
        for sx in (-1, 1):
            for sz in (-1, 1):
                parts.append(((sx * (w / 2 - leg), (h - t) / 2, sz * (d / 2 - leg)), (leg, h - t, leg), wood))
        surfaces = [((0, 0), (w / 2, d / 2), h)]
    elif kind == "desk":
        w, d, h = rng.uniform(1.0, 1.8), rng.uniform(0.55, 0.8), rng.uniform(0.7, 0.78)
        t = rng.uniform(0.025, 0.05)
        parts.append(((0, h - t / 2, 0), (w, t, d), wood))
        side = b.material()
        for sx in (-1, 1):
            parts.append(((sx * (w / 2 - 0.02), (h - t) / 2, 0), (0.04, h - t, d), side))
        if rng.random() < 0.6:
            parts.append(((w / 4, (h - t) / 2, 0), (w / 2 - 0.04, h - t, d * 0.9), side))
        surfaces = [((0, 0), (w / 2, d / 2), h)]
    elif kind == "chair":
        w, d, h = rng.uniform(0.4, 0.55), rng.uniform(0.4, 0.55), rng.uniform(0.42, 0.5)
        leg = rng.uniform(0.03, 0.05)
        parts.append(((0, h, 0), (w, 0.05, d), wood))
        parts.append(((0, h + 0.25, -d / 2 + 0.025), (w * 0.92, rng.uniform(0.3, 0.5), 0.04), wood))
        for sx in (-1, 1):
            for sz in (-1, 1):
                parts.append(((sx * (w / 2 - leg), h / 2, sz * (d / 2 - leg)), (leg, h, leg), wood))
        surfaces = []
    elif kind == "shelf":
        w, d, h = rng.uniform(0.6, 1.6), rng.uniform(0.25, 0.45), rng.uniform(0.8, 2.2)
        t = 0.025
        for sx in (-1, 1):
            parts.append(((sx * (w / 2 - t / 2), h / 2, 0), (t, h, d), wood))
        parts.append(((0, h / 2, -d / 2 + 0.01), (w - 2 * t, h, 0.02), b.material()))
        levels = int(rng.integers(2, 6))
        surfaces = []
        for k in range(levels + 1):
            y = 0.05 + k * (h - 0.08) / levels
            parts.append(((0, y, 0), (w - 2 * t - 0.004, t, d), wood))
            surfaces.append(((0, 0.01), (w / 2 - t, d / 2 - 0.02), y + t / 2))
    elif kind == "cabinet":
        w, d, h = rng.uniform(0.5, 1.6), rng.uniform(0.4, 0.65), rng.uniform(0.5, 1.2)
        parts.append(((0, h / 2, 0), (w, h, d), wood))
        doors = int(rng.integers(1, 3))
        front = b.material()
        for k in range(doors):
            dw = w / doors
            parts.append(((-w / 2 + dw * (k + 0.5), h / 2, d / 2 + 0.01), (dw - 0.02, h - 0.04, 0.02), front))
        surfaces = [((0, 0), (w / 2, d / 2), h)]
    elif kind == "bed":
        w, d = rng.uniform(0.9, 1.8), rng.uniform(1.9, 2.1)
        base = rng.uniform(0.25, 0.4)
        parts.append(((0, base / 2, 0), (w, base, d), wood))
        parts.append(((0, base + 0.1, 0.02), (w - 0.04, 0.2, d - 0.06), b.material()))
        parts.append(((0, rng.uniform(0.4, 0.6), -d / 2 + 0.03), (w + 0.06, rng.uniform(0.7, 1.1), 0.06), wood))
        parts.append(((0, base + 0.26, -d / 2 + 0.3), (w * 0.7, 0.12, 0.35), b.material()))
        surfaces = [((0, 0.2), (w / 2 - 0.1, d / 2 - 0.4), base + 0.2)]
    else:  # sofa
        w, d = rng.uniform(1.4, 2.4), rng.uniform(0.8, 1.0)
        seat = rng.uniform(0.4, 0.48)
        fabric = b.material()
        parts.append(((0, seat / 2, 0.05), (w - 0.3, seat, d - 0.1), fabric))
        parts.append(((0, seat + 0.22, -d / 2 + 0.1), (w - 0.304, seat + 0.44, 0.2), fabric))
        for sx in (-1, 1):
            parts.append(((sx * (w / 2 - 0.075), seat * 0.8, 0), (0.15, seat * 1.6, d), fabric))
        surfaces = [((0, 0.05), (w / 2 - 0.2, d / 2 - 0.15), seat)]
    centre = np.array([x, 0.0, z], np.float32)
    for local, size, material in parts:
        b.box(rot @ (np.asarray(local, np.float32) * scale) + centre, np.asarray(size, np.float32) * scale,
              texture=material, rotation=rot)
    for (sx, sz), (hx, hz), height in surfaces:
        offset = rot @ np.array([sx * scale, 0, sz * scale], np.float32)
        b.surfaces.append((centre[[0, 2]] + offset[[0, 2]], (hx * scale, hz * scale), yaw, height * scale))


FURNITURE = ("table", "desk", "chair", "shelf", "cabinet", "bed", "sofa")
FURNITURE_EXTENT = {"table": 1.0, "desk": 1.0, "chair": 0.4, "shelf": 0.9, "cabinet": 0.9, "bed": 1.4, "sofa": 1.3}


def _clutter(b: _Builder, surface, count: int) -> int:
    """Free objects (boxes, spheres, cylinders, tori, blobs) resting on one surface, not overlapping."""
    rng = b.rng
    (cx, cz), (hx, hz), yaw, height = surface
    rot = _yaw_matrix(yaw)
    placed, made = [], 0
    for _ in range(count * 3):
        if made >= count or len(b.blobs) >= N_BLOBS and len(b.boxes) >= N_BOXES - 1:
            break
        scale = rng.uniform(0.04, 0.25) if height > 0.05 else rng.uniform(0.1, 0.45)
        radius = scale * 0.75
        if hx < radius or hz < radius:
            continue
        local = np.array([rng.uniform(-hx + radius, hx - radius), 0, rng.uniform(-hz + radius, hz - radius)])
        position = rot @ local + np.array([cx, 0, cz])
        if any(np.hypot(*(position[[0, 2]] - p)) < radius + r for p, r in placed):
            continue
        if rng.random() < 0.4 and len(b.boxes) < N_BOXES:
            size = np.array([rng.uniform(0.4, 1.0), rng.uniform(0.3, 1.6), rng.uniform(0.4, 1.0)]) * scale
            size[[0, 2]] = np.minimum(size[[0, 2]], radius * 1.3)
            b.box(position + np.array([0, height + size[1] / 2, 0]), size, yaw=rng.uniform(0, np.pi))
        elif len(b.blobs) < N_BLOBS:
            shape = rng.choice(["sphere", "cylinder", "torus", "rounded", "diamond", "ellipsoid"])
            texture, tint = b.material()
            radii = np.full(3, scale / 2)
            rotation = _yaw_matrix(rng.uniform(0, 2 * np.pi))
            torus = 0.0
            exponents = (1.0, 1.0)
            if shape == "cylinder":
                exponents = (0.1, 1.0)
                radii[1] *= rng.uniform(0.6, 2.5)
                if rng.random() < 0.3:  # lying on its side
                    rotation = rotation @ np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], np.float32)
            elif shape == "torus":
                torus = rng.uniform(0.25, 0.6)
                exponents = (1.0, 1.0)
                if rng.random() < 0.5:
                    rotation = _rotation(rng)
            elif shape == "rounded":
                exponents = (rng.uniform(0.2, 0.5), rng.uniform(0.2, 0.5))
                radii *= rng.uniform(0.5, 1.2, 3)
            elif shape == "diamond":
                exponents = (rng.uniform(1.5, 2.2), rng.uniform(1.0, 2.2))
                rotation = _rotation(rng)
            elif shape == "ellipsoid":
                radii *= rng.uniform(0.4, 1.2, 3)
                rotation = _rotation(rng)
            blob = Blob(np.zeros(3, np.float32), radii.astype(np.float32), exponents, rotation.astype(np.float32),
                        texture, tint, torus)
            blob.centre = (position + np.array([0, height - blob.lowest_point(), 0])).astype(np.float32)
            b.blobs.append(blob)
        else:
            continue
        placed.append((position[[0, 2]], radius))
        made += 1
    return made


def _room(b: _Builder, width: float, depth: float, height: float):
    """Floor, ceiling, four walls (some with a doorway or window opening and a space behind it),
    skirting and boards."""
    rng = b.rng
    t = 0.1
    floor, ceiling, wall = b.material(), b.material(plain=True), b.material(plain=rng.random() < 0.8)
    b.box((0, -t / 2, 0), (width + 2 * t, t, depth + 2 * t), texture=floor, tile=rng.uniform(0.4, 2.5))
    b.box((0, height + t / 2, 0), (width + 2 * t, t, depth + 2 * t), texture=ceiling, tile=rng.uniform(1.0, 4.0))
    wall_tile = rng.uniform(1.0, 4.0)
    skirting = b.material() if rng.random() < 0.5 else None
    for wall_index, (axis, sign) in enumerate(((0, -1), (0, 1), (2, -1), (2, 1))):
        along = 2 - axis  # the wall runs along this axis
        length = depth if axis == 0 else width
        plane = sign * ((width if axis == 0 else depth) / 2 + t / 2)
        material = wall if rng.random() < 0.8 else b.material(plain=True)

        def wall_box(start: float, stop: float, low: float, high: float, offset: float = 0.0, thickness: float = t,
                     texture=material):
            centre, size = np.zeros(3), np.zeros(3)
            centre[along], size[along] = (start + stop) / 2, stop - start
            centre[1], size[1] = (low + high) / 2, high - low
            centre[axis], size[axis] = plane - sign * offset, thickness
            b.box(centre, size, texture=texture, tile=wall_tile)

        if rng.random() < 0.3 and length > 1.5:  # an opening: doorway (from the floor) or window
            door = rng.random() < 0.6
            ow = rng.uniform(0.8, min(2.0, length - 0.5))
            o0 = rng.uniform(-length / 2 + 0.2, length / 2 - 0.2 - ow)
            low = 0.0 if door else rng.uniform(0.6, 1.0)
            high = min(height - 0.1, low + (rng.uniform(1.9, 2.2) if door else rng.uniform(0.8, 1.4)))
            wall_box(-length / 2 - t, o0, 0, height)
            wall_box(o0 + ow, length / 2 + t, 0, height)
            wall_box(o0, o0 + ow, high, height)
            if low > 0:
                wall_box(o0, o0 + ow, 0, low)
            beyond = rng.uniform(1.0, 4.0)  # the wall of the next room, seen through the opening
            wall_box(o0 - 1.5, o0 + ow + 1.5, 0, height, offset=-beyond, thickness=0.1, texture=b.material())
            # its floor 1 mm below the room's: no two coplanar faces overlap (z-fighting)
            wall_box(o0 - 1.5, o0 + ow + 1.5, -0.1, -0.001, offset=-beyond / 2, thickness=beyond, texture=floor)
        else:
            wall_box(-length / 2 - t, length / 2 + t, 0, height)
        if skirting is not None:
            top = 0.08 + 0.003 * wall_index  # corners: skirting tops never coplanar
            wall_box(-length / 2, length / 2, 0, top, offset=t / 2 + 0.01, thickness=0.02, texture=skirting)
        if rng.random() < 0.35:  # a board or picture on the wall
            bw = rng.uniform(0.4, min(2.0, length * 0.5))
            b0 = rng.uniform(-length / 2 + 0.1, length / 2 - 0.1 - bw)
            low = rng.uniform(0.8, 1.5)
            wall_box(b0, b0 + bw, low, min(height - 0.1, low + rng.uniform(0.3, 1.2)), offset=t / 2 + 0.015,
                     thickness=0.03, texture=b.material())


def sample_scene(seed: int, index: int, close_range_share: float = 0.3, pool_size: int = 256) -> Scene:
    """Frame `index` of dataset `seed`: a furnished, cluttered room, lights and a camera."""
    rng = np.random.default_rng([int(seed), int(index)])
    b = _Builder(rng, pool_size)
    width, depth, height = rng.uniform(2.5, 10.0), rng.uniform(2.5, 10.0), rng.uniform(2.4, 3.5)
    _room(b, width, depth, height)
    # furniture: against a wall (facing the room) or free-standing, footprints kept apart
    for _ in range(int(rng.integers(2, 8))):
        kind = str(rng.choice(FURNITURE, p=[0.2, 0.15, 0.15, 0.15, 0.15, 0.08, 0.12]))
        extent = FURNITURE_EXTENT[kind]
        scale = rng.uniform(0.85, 1.15)
        for _try in range(8):
            if rng.random() < 0.6:
                side = int(rng.integers(4))
                yaw = [0.0, np.pi, np.pi / 2, -np.pi / 2][side]
                margin = extent * 0.45 * scale + 0.05
                along = rng.uniform(-0.5, 0.5)
                x = [along * (width - 2 * extent), along * (width - 2 * extent), -width / 2 + margin, width / 2 - margin][side]
                z = [-depth / 2 + margin, depth / 2 - margin, along * (depth - 2 * extent), along * (depth - 2 * extent)][side]
            else:
                yaw = rng.uniform(0, 2 * np.pi)
                x = rng.uniform(-1, 1) * max(width / 2 - extent, 0.0)
                z = rng.uniform(-1, 1) * max(depth / 2 - extent, 0.0)
            radius = extent * 0.55 * scale
            if abs(x) + radius > width / 2 + 0.3 or abs(z) + radius > depth / 2 + 0.3:
                continue
            if all(np.hypot(x - fx, z - fz) > radius + fr for fx, fz, fr in b.footprints):
                b.footprints.append((x, z, radius))
                _furniture(b, kind, x, z, yaw, scale)
                break
    objects = 0
    for surface in b.surfaces:
        if rng.random() < 0.75:
            objects += _clutter(b, surface, int(rng.integers(2, 9)))
    floor = ((0.0, 0.0), (width / 2 - 0.2, depth / 2 - 0.2), 0.0, 0.0)
    objects += _clutter(b, floor, int(rng.integers(0, 7)))
    lights = _lights(rng, width, depth, height)
    close = bool(rng.random() < close_range_share and b.surfaces)
    camera = _camera(rng, b, width, depth, height, close)
    return Scene(b.boxes[:N_BOXES], b.blobs[:N_BLOBS], lights, camera, close, objects,
                 ambient=float(rng.uniform(0.05, 0.35)), exposure_percentile=float(rng.uniform(90, 99)),
                 exposure_target=float(rng.uniform(0.65, 0.95)))


def _lights(rng, width: float, depth: float, height: float) -> list:
    lights = []
    kelvin = rng.uniform(2700, 6500)
    for k in range(N_CEILING_LIGHTS):
        if k > 0 and rng.random() < 0.4:
            break
        size = (rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8))
        position = np.array([rng.uniform(-0.35, 0.35) * width, height - 0.01, rng.uniform(-0.35, 0.35) * depth])
        power = rng.uniform(2.0, 8.0) / (size[0] * size[1]) ** 0.5
        lights.append(Light("area", position, colour_temperature(kelvin + rng.normal(0, 300)) * power, size))
    if rng.random() < 0.5:  # a window-like emitter on a wall, facing into the room
        axis, sign = (0, int(rng.choice([-1, 1]))) if rng.random() < 0.5 else (2, int(rng.choice([-1, 1])))
        position = np.zeros(3)
        position[axis] = sign * ((width if axis == 0 else depth) / 2 - 0.01)
        position[2 - axis] = rng.uniform(-0.3, 0.3) * (depth if axis == 0 else width)
        position[1] = rng.uniform(1.2, 1.8)
        facing = np.zeros(3)
        facing[axis] = -sign
        lights.append(Light("area", position, colour_temperature(rng.uniform(5500, 9000)) * rng.uniform(2, 6),
                            (rng.uniform(0.4, 1.0), rng.uniform(0.4, 0.8)), facing))
    if rng.random() < 0.5:
        position = np.array([rng.uniform(-0.45, 0.45) * width, rng.uniform(0.5, height - 0.3), rng.uniform(-0.45, 0.45) * depth])
        lights.append(Light("point", position, colour_temperature(rng.uniform(2500, 4000)) * rng.uniform(0.5, 3.0)))
    if rng.random() < 0.4:
        position = np.array([rng.uniform(-0.4, 0.4) * width, height - 0.05, rng.uniform(-0.4, 0.4) * depth])
        facing = np.array([rng.normal(0, 0.4), -1.0, rng.normal(0, 0.4)])
        lights.append(Light("spot", position, colour_temperature(rng.uniform(2700, 5000)) * rng.uniform(2, 10),
                            facing=facing / np.linalg.norm(facing), spot_deg=float(rng.uniform(20, 50))))
    return lights


def _inside_any(point: np.ndarray, boxes: list, margin: float = 0.05) -> bool:
    """Whether `point` lies within `margin` of the inside of any box (a camera there sees nothing useful)."""
    for box in boxes:
        local = box.rotation.T @ (point - box.centre)
        if np.all(np.abs(local) < box.size / 2 + margin):
            return True
    return False


def _camera(rng, b: _Builder, width: float, depth: float, height: float, close: bool) -> Camera:
    """Close range: 0.3-1.5 m from a surface holding clutter, looking down at it. Otherwise a person's
    view: mostly aimed at furniture (objects in view, as in real captures), sometimes anywhere."""
    hfov = float(rng.uniform(45, 75))
    offset = (float(rng.normal(0, 0.015)), float(rng.normal(0, 0.015)))
    roll = math.radians(float(np.clip(rng.normal(0, 6), -15, 15)))
    room = np.array([width / 2 - 0.1, height - 0.1, depth / 2 - 0.1])
    origin, forward = np.array([0.0, 1.2, 0.0]), np.array([0.0, 0.0, 1.0])
    for _ in range(30):
        if close or (b.surfaces and rng.random() < 0.6):
            (cx, cz), (hx, hz), _, surface_h = b.surfaces[int(rng.integers(len(b.surfaces)))]
            target = np.array([cx + rng.uniform(-hx, hx) * 0.5, surface_h, cz + rng.uniform(-hz, hz) * 0.5])
            distance = rng.uniform(0.3, 1.5) if close else rng.uniform(1.0, 4.0)
            pitch = math.radians(rng.uniform(15, 60) if close else rng.uniform(-10, 40))  # downward
            yaw = rng.uniform(0, 2 * np.pi)
            forward = np.array([math.cos(pitch) * math.sin(yaw), -math.sin(pitch), math.cos(pitch) * math.cos(yaw)])
            origin = target - forward * distance
        else:
            origin = np.array([rng.uniform(-0.45, 0.45) * width, float(np.clip(rng.normal(1.25, 0.4), 0.2, 2.0)),
                               rng.uniform(-0.45, 0.45) * depth])
            pitch = math.radians(float(np.clip(rng.normal(-18, 15), -60, 20)))
            # roughly toward the room's far side: a wall, the floor and furniture in view
            yaw = math.atan2(-origin[0], -origin[2]) + rng.normal(0, 0.9)
            forward = np.array([math.cos(pitch) * math.sin(yaw), math.sin(pitch), math.cos(pitch) * math.cos(yaw)])
        inside_room = np.all(np.abs(origin[[0, 2]]) < room[[0, 2]]) and 0.2 <= origin[1] <= min(2.0, room[1])
        if inside_room and not _inside_any(origin, b.boxes):
            break
    return Camera(origin.astype(np.float64), look_rotation(forward, roll), hfov, offset)


# ------------------------------------------------------------------------------------------------ renderer


def _slot_bsdf(kind: int) -> dict:
    """Materials by slot: mostly diffuse, every 4th rough plastic, every 9th glossy plastic."""
    texture = {"type": "bitmap", "bitmap": None, "raw": True, "filter_type": "bilinear", "wrap_mode": "repeat"}
    if kind % 9 == 8:
        return {"type": "plastic", "diffuse_reflectance": texture, "int_ior": 1.5}
    if kind % 4 == 3:
        return {"type": "roughplastic", "distribution": "ggx", "alpha": 0.2, "diffuse_reflectance": texture}
    return {"type": "diffuse", "reflectance": texture}


class Renderer:
    """One Mitsuba scene template, re-posed per frame: `render(scene)` -> (RGB uint8, z-depth metres)."""

    def __init__(self, config: SynthConfig, pool: np.ndarray):
        mi = self.mi = import_mitsuba(config.variant)
        self.config, self.pool = config, pool
        height, width = config.size
        blank = mi.Bitmap(np.full(pool.shape[1:], 0.5, np.float32))  # slots keep the pool's texture size
        template = {
            "type": "scene",
            "sensor": {"type": "perspective", "fov_axis": "x", "fov": 60.0, "near_clip": 0.01, "far_clip": 1000.0,
                       "film": {"type": "hdrfilm", "width": width, "height": height, "pixel_format": "rgb",
                                "rfilter": {"type": "box"}}},
        }
        self.slots = []  # (key, kind)
        for k in range(N_BOXES + N_BLOBS):
            is_box = k < N_BOXES
            bsdf = _slot_bsdf(k)
            (bsdf.get("reflectance") or bsdf["diffuse_reflectance"])["bitmap"] = blank
            props = mi.Properties()
            props["bsdf"] = mi.load_dict(bsdf)
            vertices, faces = (24, 12) if is_box else ((GRID_V + 1) * GRID_U, len(_GRID_TRIANGLES))
            mesh = mi.Mesh(f"slot{k}", vertices, faces, props=props, has_vertex_normals=not is_box,
                           has_vertex_texcoords=True)
            mesh_params = mi.traverse(mesh)
            mesh_params["faces"] = (_CUBE_TRIANGLES if is_box else _GRID_TRIANGLES).ravel()
            mesh_params["vertex_positions"] = np.tile(PARKED, vertices)
            if not is_box:  # given, so Mitsuba does not try (and warn) to compute them for a collapsed mesh
                mesh_params["vertex_normals"] = np.tile(np.array([0, 1.0, 0], np.float32), vertices)
            mesh_params.update()
            key = f"{'box' if is_box else 'blob'}{k:03d}"
            template[key] = mesh
            self.slots.append((key, "reflectance" if bsdf["type"] == "diffuse" else "diffuse_reflectance"))
        for k in range(N_CEILING_LIGHTS + 1):
            template[f"area{k}"] = {"type": "rectangle", "emitter": {"type": "area", "radiance": {"type": "rgb", "value": 0.0}},
                                    "bsdf": {"type": "diffuse", "reflectance": {"type": "rgb", "value": 0.8}}}
        template["point"] = {"type": "point", "position": [0, -40, 0], "intensity": {"type": "rgb", "value": 0.0}}
        template["spot"] = {"type": "spot", "intensity": {"type": "rgb", "value": 0.0}, "cutoff_angle": 40.0}
        # optimize=False: Mitsuba's merging of identical objects (our light slots are identical until
        # posed) ordered the emitters by memory address, so in ~1 process in 10 light sampling drew
        # another realisation and colour bytes differed between runs (measured; 46/46 equal without it)
        self.scene = mi.load_dict(template, parallel=False, optimize=False)
        self.params = mi.traverse(self.scene)
        # light sampling only (no BSDF samples): half the cost of the default at the same grain
        colour = {"type": "direct", "emitter_samples": 1, "bsdf_samples": 0}
        if config.integrator == "path":
            colour = {"type": "path", "max_depth": 4}
        self.colour_integrator = mi.load_dict(colour)
        # one sample per pixel: each pixel sees one surface; albedo here carries the ambient term
        self.geometry_integrator = mi.load_dict({"type": "aov", "aovs": "dd:depth,pp:position,al:albedo"})

    def _set_mesh(self, key: str, vertices, uv, normals=None):
        self.params[f"{key}.vertex_positions"] = vertices.ravel()
        self.params[f"{key}.vertex_texcoords"] = uv.ravel()
        if normals is not None:
            self.params[f"{key}.vertex_normals"] = normals.ravel()

    def pose(self, scene: Scene):
        """Write a sampled scene into the template's slots (unused slots parked under the floor)."""
        mi, params = self.mi, self.params
        shapes = [("box", b) for b in scene.boxes] + [("blob", b) for b in scene.blobs]
        boxes = iter([s for s in self.slots if s[0].startswith("box")])
        blobs = iter([s for s in self.slots if s[0].startswith("blob")])
        used = set()
        for kind, shape in shapes:
            key, texture_key = next(boxes if kind == "box" else blobs)
            used.add(key)
            if kind == "box":
                vertices, uv = shape.mesh()
                self._set_mesh(key, vertices, uv)
            else:
                vertices, normals, uv = shape.mesh()
                self._set_mesh(key, vertices, uv, normals)
            texture = np.clip(self.pool[shape.texture] * shape.tint, 0.0, 0.95)
            params[f"{key}.bsdf.{texture_key}.data"] = mi.TensorXf(texture)
        for key, _ in self.slots:
            if key not in used:
                count = 24 if key.startswith("box") else (GRID_V + 1) * GRID_U
                self._set_mesh(key, np.tile(PARKED, (count, 1)),
                               np.zeros((count, 2), np.float32),
                               None if key.startswith("box") else np.tile(np.array([0, 1.0, 0], np.float32), (count, 1)))
        areas = [light for light in scene.lights if light.kind == "area"]
        point = next((light for light in scene.lights if light.kind == "point"), None)
        spot = next((light for light in scene.lights if light.kind == "spot"), None)
        for k in range(N_CEILING_LIGHTS + 1):
            light = areas[k] if k < len(areas) else None
            params[f"area{k}.emitter.radiance.value"] = mi.Color3f(*(float(c) for c in (light.colour if light else (0.0, 0.0, 0.0))))
            params[f"area{k}.to_world"] = mi.Transform4f(self._rectangle(light))
        params["point.position"] = mi.Point3f(*(float(c) for c in (point.position if point else (0.0, -40.0, 0.0))))
        params["point.intensity.value"] = mi.Color3f(*(float(c) for c in (point.colour if point else (0.0, 0.0, 0.0))))
        params["spot.intensity.value"] = float(spot.colour.mean()) if spot else 0.0
        if spot:
            params["spot.cutoff_angle"] = float(spot.spot_deg)
            params["spot.beam_width"] = float(spot.spot_deg * 0.75)
            params["spot.to_world"] = mi.Transform4f(mitsuba_frame(look_rotation(np.asarray(spot.facing, np.float64), 0.0), spot.position))
        camera = scene.camera
        params["sensor.to_world"] = mi.Transform4f(camera.to_world())
        params["sensor.x_fov"] = camera.hfov_deg
        params["sensor.principal_point_offset_x"] = camera.principal_offset[0]
        params["sensor.principal_point_offset_y"] = camera.principal_offset[1]
        params.update()

    @staticmethod
    def _rectangle(light: Optional[Light]) -> np.ndarray:
        """Mitsuba's rectangle spans [-1, 1]^2 in xy and emits along +z: place it, facing `light.facing`."""
        matrix = np.eye(4)
        if light is None:
            matrix[:3, :3] *= 1e-3
            matrix[:3, 3] = (0.0, -40.0, 0.0)
            return matrix
        normal = light.facing / np.linalg.norm(light.facing)
        helper = np.array([0.0, 0.0, 1.0]) if abs(normal[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        u = np.cross(helper, normal)
        u /= np.linalg.norm(u)
        v = np.cross(normal, u)
        matrix[:3, 0], matrix[:3, 1], matrix[:3, 2] = u * light.half_size[0], v * light.half_size[1], normal
        matrix[:3, 3] = light.position
        return matrix

    def render(self, scene: Scene, seed: int) -> tuple:
        """(RGB uint8 (H, W, 3), z-depth float32 metres (H, W), 0 = no surface or beyond the cap)."""
        mi = self.mi
        self.pose(scene)
        radiance = np.array(mi.render(self.scene, self.params, integrator=self.colour_integrator,
                                      spp=self.config.spp, seed=seed))[..., :3]
        geometry = np.array(mi.render(self.scene, self.params, integrator=self.geometry_integrator, spp=1, seed=seed))
        distance, position, albedo = geometry[..., 0], geometry[..., 1:4], geometry[..., 4:7]
        forward = scene.camera.rotation[:, 2]
        z = ((position - scene.camera.origin) @ forward).astype(np.float32)
        z[(distance <= 0) | ~np.isfinite(z) | (z <= 0)] = 0.0
        lights = [light.colour for light in scene.lights] or [np.ones(3)]
        ambient = scene.ambient * np.mean(lights, axis=0) / max(float(np.max(np.mean(lights, axis=0))), 1e-6)
        linear = (denoise(radiance, albedo, z) + ambient.astype(np.float32)) * albedo
        luminance = linear @ np.array([0.2126, 0.7152, 0.0722], np.float32)
        level = float(np.percentile(luminance, scene.exposure_percentile))
        linear = linear * (scene.exposure_target / max(level, 1e-6))
        srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(np.maximum(linear, 0), 1 / 2.4) - 0.055)
        rgb = np.clip(np.round(srgb * 255.0), 0, 255).astype(np.uint8)
        z[z > self.config.max_depth_m] = 0.0
        return rgb, z


def denoise(radiance: np.ndarray, albedo: np.ndarray, depth: np.ndarray, radius: int = 2) -> np.ndarray:
    """Irradiance (radiance / albedo) averaged over a (2r+1)^2 window among pixels on the same surface
    (z within 2 %): removes light-sampling grain, keeps texture (albedo) and depth edges sharp."""
    irradiance = radiance / np.maximum(albedo, 0.02)
    height, width = depth.shape
    pad = lambda a: np.pad(a, [(radius, radius), (radius, radius)] + [(0, 0)] * (a.ndim - 2), mode="edge")
    padded_irr, padded_z = pad(irradiance), pad(depth)
    total = np.zeros_like(irradiance)
    weights = np.zeros(depth.shape, np.float32)
    tolerance = 0.02 * depth + 0.005
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            z = padded_z[dy: dy + height, dx: dx + width]
            w = (np.abs(z - depth) < tolerance).astype(np.float32)
            weights += w
            total += padded_irr[dy: dy + height, dx: dx + width] * w[..., None]
    return total / np.maximum(weights, 1.0)[..., None]



# ------------------------------------------------------------------------------------------ dataset writer

_WORKER = {}


def _init_worker(config: SynthConfig):
    """Per process: the texture pool (fixed by the seed) and one compiled scene template."""
    import drjit as dr

    photos = texture_photos(config.textures) if config.textures else []
    _WORKER["renderer"] = Renderer(config, texture_pool(config.seed, 256, photos))
    # one thread per process, so no pixel depends on how threads are scheduled; processes give the parallelism
    dr.set_thread_count(1)


def _frame_id(index: int) -> str:
    return f"{index:06d}"


def render_frame(out: Path, index: int) -> dict:
    """Render frame `index` into out/rgb and out/depth (written to temporary names, then renamed, so an
    interrupted run never leaves a half file) and return its manifest row."""
    renderer = _WORKER["renderer"]
    config = renderer.config
    scene = sample_scene(config.seed, index, config.close_range_share)
    rgb, depth = renderer.render(scene, seed=(config.seed * 1_000_003 + index) % 2**32)
    frame = _frame_id(index)
    paths = {"rgb": out / "rgb" / f"{frame}.png", "depth": out / "depth" / f"{frame}.png"}
    stored = np.clip(np.round(depth * DEPTH_SCALE), 0, 65535).astype(np.uint16)
    for key, image in (("rgb", Image.fromarray(rgb)), ("depth", Image.fromarray(stored))):
        partial = paths[key].with_name(paths[key].stem + ".partial.png")
        image.save(partial, compress_level=1)  # measured: 5x faster than level 6, files ~10 % larger
        os.replace(partial, paths[key])
    valid = depth[depth > 0]
    row = {"id": frame, "rgb": f"rgb/{frame}.png", "depth": f"depth/{frame}.png",
           "valid_fraction": f"{valid.size / depth.size:.4f}"}
    for name, value in (("depth_min_m", valid.min() if valid.size else 0), ("depth_median_m", np.median(valid) if valid.size else 0),
                        ("depth_max_m", valid.max() if valid.size else 0)):
        row[name] = f"{float(value):.3f}"
    row.update({k: f"{v:.4f}" for k, v in scene.camera.intrinsics(*config.size).items()})
    row.update({"close_range": int(scene.close_range), "objects": scene.objects})
    return row


def _check_out(out: Path, meta: dict) -> dict:
    """Rows already rendered into `out` by the same configuration; refuses a folder holding anything else."""
    meta_path, progress = out / "meta.json", out / "progress.jsonl"
    if not out.exists():
        return {}
    if not out.is_dir():
        raise FileExistsError(f"--out {out} is a file, not a folder")
    if not meta_path.is_file():
        if any(out.iterdir()):
            raise FileExistsError(f"--out {out} is not empty and holds no synthetic dataset: choose an empty or new folder")
        return {}
    existing = json.loads(meta_path.read_text())
    if existing.get("generator") != meta["generator"] or existing.get("config") != meta["config"] \
            or existing.get("shard") != meta["shard"]:
        raise FileExistsError(f"--out {out} holds another dataset ({existing.get('config')}, shard "
                              f"{existing.get('shard')}): use another --out, or the same arguments to resume")
    rows = {}
    if progress.is_file():
        for line in progress.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut by an interruption: that frame renders again
                continue
            if (out / row["rgb"]).is_file() and (out / row["depth"]).is_file():
                rows[row["id"]] = row
    return rows


def synthesize(out, num: int, config: SynthConfig, shard: tuple = (0, 1), workers: int = 2,
               progress: bool = True) -> dict:
    """Render frames i in [0, num) with i % N == K (shard K/N) into a manifest folder that
    `litedepth_hf.data.load_depth_dataset` reads; resumes where an interrupted run stopped.

    Returns {"rendered", "skipped", "seconds", "images_per_second", "rows", "stats"}.
    """
    import csv
    import multiprocessing
    import time

    from tqdm.auto import tqdm

    if num < 1:
        raise ValueError(f"--num must be a positive number of images, got {num}")
    part, parts = shard
    if not (parts >= 1 and 0 <= part < parts):
        raise ValueError(f"--shard must be K/N with 0 <= K < N, got {part}/{parts}")
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    if config.textures:
        texture_photos(config.textures)  # fail before any work when a folder has no images
    out = Path(out)
    meta = {
        "generator": GENERATOR,
        "config": json.loads(json.dumps(asdict(config))),  # as meta.json will read back (lists, not tuples)
        "shard": [part, parts],
        "num_requested": num,
        "width": config.size[1],
        "height": config.size[0],
        "depth_scale": DEPTH_SCALE,
        "depth_units": "depth_m = png_value / depth_scale; z along the optical axis; 0 = no surface or beyond "
                       f"{config.max_depth_m} m",
        "intrinsics": "per row in manifest.csv (fx, fy, cx, cy; pixel centres at integer coordinates)",
        "source": "procedural indoor scenes rendered with Mitsuba 3 by litedepth_hf.synthetic",
        "licence": "CC0-1.0 (generated); photo-crop textures keep their source licence",
    }
    done = _check_out(out, meta)
    check_renderer(config.variant)  # here, not only in the workers: a missing install is one clear line
    if config.variant == "scalar_rgb" and not llvm_library() and progress:  # the fast path is missing: say how to get it
        print(FAST_PATH_NOTE, file=sys.stderr)
    for folder in (out / "rgb", out / "depth"):
        folder.mkdir(parents=True, exist_ok=True)
    (out / "meta.json").write_text(json.dumps({**meta, "num_pairs": None}, indent=2) + "\n")
    wanted = [i for i in range(part, num, parts)]
    pending = [i for i in wanted if _frame_id(i) not in done]
    started = time.perf_counter()
    bar = tqdm(total=len(wanted), initial=len(wanted) - len(pending), desc="synth", unit="img", disable=not progress)
    with (out / "progress.jsonl").open("a") as log:
        def record(row):
            done[row["id"]] = row
            log.write(json.dumps(row) + "\n")
            log.flush()
            bar.update()

        if workers == 1 or len(pending) < 2:
            _init_worker(config)
            for index in pending:
                record(render_frame(out, index))
        else:
            context = multiprocessing.get_context("spawn")
            with context.Pool(workers, initializer=_init_worker, initargs=(config,)) as pool:
                for row in pool.imap_unordered(_render_task, [(out, i) for i in pending], chunksize=2):
                    record(row)
    bar.close()
    seconds = time.perf_counter() - started
    rows = [done[_frame_id(i)] for i in wanted]
    with (out / "manifest.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows({key: row[key] for key in MANIFEST_FIELDS} for row in rows)
    medians = [float(r["depth_median_m"]) for r in rows]
    (out / "meta.json").write_text(json.dumps({**meta, "num_pairs": len(rows),
                                               "median_of_median_depth_m": round(float(np.median(medians)), 3)},
                                              indent=2) + "\n")
    return {"rendered": len(pending), "skipped": len(wanted) - len(pending), "seconds": seconds,
            "images_per_second": len(pending) / seconds if pending and seconds > 0 else float("nan"),
            "rows": rows, "stats": scene_statistics(rows)}


def _render_task(task):
    return render_frame(*task)


def scene_statistics(rows: list) -> str:
    """A few lines on what was rendered: median-depth histogram, close-range share, objects per scene."""
    medians = np.array([float(r["depth_median_m"]) for r in rows])
    objects = np.array([int(r["objects"]) for r in rows])
    close = np.mean([int(r["close_range"]) for r in rows])
    edges = [0, 0.5, 1, 2, 3, 4, 6, 10, np.inf]
    counts, _ = np.histogram(medians, bins=edges)
    width = max(counts.max(), 1)
    lines = [f"{len(rows)} frames; close-range {close:.0%}; objects per scene {objects.mean():.1f} "
             f"(min {objects.min()}, max {objects.max()}); valid depth {np.mean([float(r['valid_fraction']) for r in rows]):.1%}",
             "median depth per frame:"]
    for low, high, count in zip(edges[:-1], edges[1:], counts):
        label = f"{low:g}-{high:g} m" if np.isfinite(high) else f">{low:g} m"
        lines.append(f"  {label:>9s} {'#' * round(30 * count / width):30s} {count}")
    return "\n".join(lines)
