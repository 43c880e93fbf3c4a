"""The things a scene is made of: boxes, superquadric blobs, scanned meshes, lights and a pinhole camera.

World frame: y up, metres. Camera rotations are (right, down, forward) columns, the OpenCV convention
the intrinsics use; `mitsuba_frame` converts to Mitsuba's (left, up, forward).
"""

import math
from dataclasses import dataclass, field

import numpy as np

from .textures import Material

GRID_U, GRID_V = 20, 10  # superquadric mesh resolution (around, pole to pole)


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
    material: Material
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
# UVs in texture repeats: 4 around, 2 pole to pole, so each repeat's edge is a line of vertices
_V, _U = np.meshgrid(np.linspace(0, 2, GRID_V + 1), np.linspace(0, 4, GRID_U, endpoint=False), indexing="ij")
BLOB_UV = np.stack([_U, _V], -1).reshape(-1, 2).astype(np.float32)


def _signed_power(value, exponent):
    return np.sign(value) * np.abs(value) ** exponent


@dataclass
class Blob:
    """A superquadric (sphere, cylinder, rounded box, diamond, ...) or a supertoroid (torus) on a grid mesh."""

    centre: np.ndarray
    radii: np.ndarray
    exponents: tuple  # (e1 latitude, e2 longitude): 1 sphere, ~0.1 box/cylinder ends, 2 diamond
    rotation: np.ndarray
    material: Material
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
        return vertices.astype(np.float32), normals.astype(np.float32), BLOB_UV

    def lowest_point(self) -> float:
        return float((self.local_vertices() @ self.rotation.T)[:, 1].min())


@dataclass
class MeshObject:
    """One scanned object of the mesh library, at its real size (`scale` ~1), posed in the world."""

    mesh: int  # index into the MeshLibrary
    centre: np.ndarray  # where the mesh's local origin goes
    rotation: np.ndarray
    material: Material
    scale: float = 1.0


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
    meshes: list  # MeshObject
    lights: list
    camera: Camera
    close_range: bool
    objects: int
    ambient: float
    exposure_percentile: float = 95.0
    exposure_target: float = 0.85
    path_traced: bool = False  # this frame's colour by the path tracer (indirect light) instead of direct light
    room_boxes: int = 0  # the first boxes are the room's shell (floor, ceiling, walls, openings, boards)
    white_balance: float = 0.0  # how much of the lights' mean colour the camera divides out (1: all, as auto white balance)


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
