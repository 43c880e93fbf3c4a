"""Scene sampling: a room, furniture at real dimensions, clutter (primitives and scanned objects), lights and
a camera where people and robots hold one, all drawn from `numpy.random.default_rng([seed, index])` (whether the
room is a hall, and its size, from `[seed, index, 9]`).

Reads no file: materials are specs (see textures.py) and scanned objects enter as their bounds, so a
scene is a pure function of (seed, index, photo count, mesh bounds) and is tested without Mitsuba.
Real dimensions: table and desk tops 0.70-0.76 m, seats 0.42-0.48 m, doors 2.0-2.1 m, ceilings 2.4-3.2 m
(halls: 9-16 m across, ceilings 3.0-4.0 m).
"""

import math
from typing import Optional, Sequence

import numpy as np

from .geometry import (
    Blob,
    Box,
    Camera,
    Light,
    MeshObject,
    Scene,
    _rotation,
    _yaw_matrix,
    colour_temperature,
    look_rotation,
)
from .textures import Material, floor_repeat_m, sample_floor, sample_material

N_BOXES = 80
N_BLOBS = 24
N_CEILING_LIGHTS = 2
# v9: a quarter of the rooms are halls (open offices, labs: 9-16 m across, ceilings 3.0-4.0 m, more furniture),
# drawn from a stream of their own so that every other room is the v8 room of the same (seed, index)
HALL_SHARE = 0.25


def hall(seed: int, index: int) -> Optional[tuple]:
    """(width, depth, height, extra furniture pieces) when frame `index` of dataset `seed` is a hall, else None:
    its own stream, `[seed, index, 9]`, so the rooms that are not halls keep v8's draws."""
    rng = np.random.default_rng([int(seed), int(index), 9])
    if rng.random() >= HALL_SHARE:
        return None
    return rng.uniform(9.0, 16.0), rng.uniform(9.0, 16.0), rng.uniform(3.0, 4.0), int(rng.integers(2, 7))


class _Builder:
    """Collects the boxes, blobs and meshes of one scene, each with its own material spec."""

    def __init__(self, rng, photos: int, mesh_bounds: list):
        self.rng, self.photos, self.mesh_bounds = rng, photos, list(mesh_bounds)
        self.boxes, self.blobs, self.meshes, self.lamps = [], [], [], []
        self.footprints = []  # (x, z, radius) on the floor: furniture and the camera keep out
        self.surfaces = []  # (centre xz, half sizes along the box axes, yaw, height): where clutter goes
        self.room_boxes = 0  # boxes of the room's shell, which come first
        self.refused = 0  # blobs asked for when all `N_BLOBS` slots were taken
        # (index of the desk's surface, monitor's x along it or None, its stand's (xz, radius) footprint or None):
        # where v13's desk sets go
        self.desks = []
        self.screens = []  # per desk, the index in `boxes` of its monitor's screen (the stand and base follow) or None
        self.taken = {}  # surface index -> footprints already placed on it (desk sets), which clutter keeps clear of

    def mark(self) -> tuple:
        """How much the scene holds now, for `undo`."""
        return (len(self.boxes), len(self.blobs), len(self.meshes), len(self.lamps), len(self.surfaces), self.refused,
                len(self.desks), len(self.screens))

    def undo(self, mark: tuple):
        """Drop all that was added since `mark`: a piece of furniture that did not fit the render slots."""
        boxes, blobs, meshes, lamps, surfaces, self.refused, desks, screens = mark
        del self.boxes[boxes:], self.blobs[blobs:], self.meshes[meshes:], self.lamps[lamps:], self.surfaces[surfaces:]
        del self.desks[desks:], self.screens[screens:]

    def overfull(self, mark: tuple) -> bool:
        """Whether what was added since `mark` left a part out: more boxes than `N_BOXES` or a blob refused."""
        return len(self.boxes) > N_BOXES or self.refused > mark[5]

    def material(self, role: str = "object") -> Material:
        """A fresh material for a surface of this role (see textures.ROLES)."""
        return sample_material(self.rng, self.photos, role)

    def box(self, centre, size, yaw: float = 0.0, texture=None, tile=None, rotation=None) -> Box:
        material = texture if texture is not None else self.material("object")
        if tile is None:  # metres one texture repeat covers: photos print larger than patterns
            tile = self.rng.uniform(0.4, 2.0) if material.kind == "photo" else self.rng.uniform(0.3, 1.5)
        box = Box(np.asarray(centre, np.float32), np.asarray(size, np.float32),
                  rotation if rotation is not None else _yaw_matrix(yaw), material, float(tile))
        self.boxes.append(box)
        return box

    def blob(self, centre, radii, exponents=(1.0, 1.0), rotation=None, material=None, torus=0.0,
             rest_on: Optional[float] = None) -> Optional[Blob]:
        """A superquadric; `rest_on` a height: its lowest point is put there (centre's y ignored)."""
        if len(self.blobs) >= N_BLOBS:
            self.refused += 1
            return None
        blob = Blob(np.asarray(centre, np.float32), np.asarray(radii, np.float32), tuple(exponents),
                    (rotation if rotation is not None else np.eye(3)).astype(np.float32),
                    material if material is not None else self.material("object"), torus)
        if rest_on is not None:
            blob.centre = np.array([blob.centre[0], rest_on - blob.lowest_point(), blob.centre[2]], np.float32)
        self.blobs.append(blob)
        return blob


def _furniture(b: _Builder, kind: str, x: float, z: float, yaw: float, scale: float):
    """Boxes of one piece of furniture in its local frame (x width, y up, z depth), placed at (x, z)."""
    rng = b.rng
    rot = _yaw_matrix(yaw)
    wood = b.material("furniture")
    parts = []  # (local centre, size, material or None)
    if kind == "table":
        w, d, h = rng.uniform(0.7, 1.8), rng.uniform(0.5, 1.0), rng.uniform(0.70, 0.76)
        t, leg = rng.uniform(0.025, 0.06), rng.uniform(0.04, 0.08)
        parts.append(((0, h - t / 2, 0), (w, t, d), wood))
        for sx in (-1, 1):
            for sz in (-1, 1):
                parts.append(((sx * (w / 2 - leg), (h - t) / 2, sz * (d / 2 - leg)), (leg, h - t, leg), wood))
        surfaces = [((0, 0), (w / 2, d / 2), h)]
    elif kind == "desk":
        w, d, h = rng.uniform(1.0, 1.8), rng.uniform(0.55, 0.8), rng.uniform(0.70, 0.76)
        t = rng.uniform(0.025, 0.05)
        parts.append(((0, h - t / 2, 0), (w, t, d), wood))
        side = b.material("furniture")
        for sx in (-1, 1):
            parts.append(((sx * (w / 2 - 0.02), (h - t) / 2, 0), (0.04, h - t, d), side))
        if rng.random() < 0.6:
            parts.append(((w / 4, (h - t) / 2, 0), (w / 2 - 0.04, h - t, d * 0.9), side))
        surfaces = [((0, 0.1), (w / 2, d / 2 - 0.1), h)]
        monitor = screen_box = None  # its x along the desk, the index of its screen in `b.boxes`
        if rng.random() < 0.6:  # a monitor (screen 0.45-0.7 m wide, 16:9 to 4:3) on a stand at the back
            sw = rng.uniform(0.45, 0.7)
            sh = sw * rng.uniform(0.56, 0.75)
            lift = rng.uniform(0.08, 0.15)
            mx = rng.uniform(-0.25, 0.25) * w
            screen = Material("flat", 0, np.full(3, rng.uniform(0.01, 0.08), np.float32))
            parts.append(((mx, h + lift + sh / 2, -d / 2 + 0.12), (sw, sh, rng.uniform(0.02, 0.05)), screen))
            parts.append(((mx, h + lift / 2, -d / 2 + 0.14), (0.05, lift + 0.02, 0.03), screen))
            parts.append(((mx, h + 0.01, -d / 2 + 0.14), (0.22, 0.02, 0.16), screen))
            monitor = mx
            screen_box = len(b.boxes) + len(parts) - 3
    elif kind == "chair":
        w, d, h = rng.uniform(0.4, 0.55), rng.uniform(0.4, 0.55), rng.uniform(0.42, 0.48)
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
        parts.append(((0, h / 2, -d / 2 + 0.01), (w - 2 * t, h, 0.02), b.material("furniture")))
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
        front = b.material("furniture")
        for k in range(doors):
            dw = w / doors
            parts.append(((-w / 2 + dw * (k + 0.5), h / 2, d / 2 + 0.01), (dw - 0.02, h - 0.04, 0.02), front))
        surfaces = [((0, 0), (w / 2, d / 2), h)]
    elif kind == "bed":
        w, d = rng.uniform(0.9, 1.8), rng.uniform(1.9, 2.1)
        base = rng.uniform(0.25, 0.4)
        parts.append(((0, base / 2, 0), (w, base, d), wood))
        parts.append(((0, base + 0.1, 0.02), (w - 0.04, 0.2, d - 0.06), b.material("fabric")))
        parts.append(((0, rng.uniform(0.4, 0.6), -d / 2 + 0.03), (w + 0.06, rng.uniform(0.7, 1.1), 0.06), wood))
        parts.append(((0, base + 0.26, -d / 2 + 0.3), (w * 0.7, 0.12, 0.35), b.material("fabric")))
        surfaces = [((0, 0.2), (w / 2 - 0.1, d / 2 - 0.4), base + 0.2)]
    else:  # sofa
        w, d = rng.uniform(1.4, 2.4), rng.uniform(0.8, 1.0)
        seat = rng.uniform(0.42, 0.48)
        fabric = b.material("fabric")
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
    if kind == "desk":
        stand = None
        if monitor is not None:  # the stand's base (0.22 x 0.16 m) reaches 2 cm onto the surface: keep clear of it
            base = rot @ np.array([monitor, 0, -d / 2 + 0.14], np.float32) * scale + centre
            stand = (base[[0, 2]], float(np.hypot(0.11, 0.08)) * scale)
        b.desks.append((len(b.surfaces) - 1, None if monitor is None else monitor * scale, stand))
        b.screens.append(screen_box)


FURNITURE = ("table", "desk", "chair", "shelf", "cabinet", "bed", "sofa", "plant", "lamp")
FURNITURE_P = (0.17, 0.14, 0.14, 0.13, 0.13, 0.06, 0.09, 0.08, 0.06)
FURNITURE_EXTENT = {"table": 1.0, "desk": 1.0, "chair": 0.4, "shelf": 0.9, "cabinet": 0.9, "bed": 1.4, "sofa": 1.3,
                    "plant": 0.4, "lamp": 0.35}


def _plant(b: _Builder, x: float, z: float, base: float, scale: float):
    """A pot (a cylinder) and a cluster of leafy blobs above it: the irregular shapes real rooms hold."""
    rng = b.rng
    pot_r, pot_h = rng.uniform(0.08, 0.2) * scale, rng.uniform(0.15, 0.4) * scale
    b.blob((x, 0, z), (pot_r, pot_h / 2, pot_r), (0.1, 1.0), rest_on=base)
    leaves = b.material("object")
    leaves.tint = (leaves.tint * np.array([0.55, 1.0, 0.45], np.float32)).astype(np.float32)
    crown = rng.uniform(0.15, 0.5) * scale
    for _ in range(int(rng.integers(3, 7))):
        offset = rng.normal(0, crown * 0.4, 3)
        radii = crown * rng.uniform(0.25, 0.55, 3)
        b.blob((x + offset[0], base + pot_h + crown * 0.6 + abs(offset[1]), z + offset[2]), radii,
               (rng.uniform(0.8, 1.6), rng.uniform(0.8, 1.6)), _rotation(rng), leaves)


def _lamp(b: _Builder, x: float, z: float, scale: float):
    """A floor lamp: a thin pole, a shade, and a warm point light inside the shade (`b.lamps`)."""
    rng = b.rng
    height = rng.uniform(1.3, 1.7) * scale
    metal = b.material("furniture")
    b.box((x, height / 2, z), (0.03, height, 0.03), texture=metal)
    b.box((x, 0.015, z), (0.3, 0.03, 0.3), texture=metal)
    shade_r, shade_h = rng.uniform(0.15, 0.25), rng.uniform(0.1, 0.18)
    b.blob((x, height, z), (shade_r, shade_h, shade_r), (0.1, 1.0))
    b.lamps.append(np.array([x, height - shade_h - 0.05, z]))  # just under the (closed) shade


def _free_spot(rng, surface, rot: np.ndarray, radius: float, placed: list) -> Optional[np.ndarray]:
    """A random point on `surface` where a footprint of `radius` fits inside it and clear of the `placed`
    (centre, radius) footprints; None when this draw does not fit."""
    (cx, cz), (hx, hz), _, _ = surface
    if hx < radius or hz < radius:
        return None
    local = np.array([rng.uniform(-hx + radius, hx - radius), 0, rng.uniform(-hz + radius, hz - radius)])
    position = rot @ local + np.array([cx, 0, cz])
    if any(np.hypot(*(position[[0, 2]] - p)) < radius + r for p, r in placed):
        return None
    return position


FLAT_THINGS_SHARE = 0.3  # of clutter draws on raised surfaces (generator v8): papers, keyboards, books


def _flat_thing(b: _Builder, surface, rot: np.ndarray, placed: list) -> bool:
    """A paper (a sheet or a stack), a keyboard or a book lying on a raised surface, print up; False when this
    draw does not fit. Real desks owe much of their fine detail to such things: edges on no depth edge."""
    rng = b.rng
    kind = str(rng.choice(["paper", "keyboard", "book"], p=[0.45, 0.25, 0.3]))
    if kind == "paper":
        size = np.array([0.21, rng.uniform(0.002, 0.004) if rng.random() < 0.6 else rng.uniform(0.01, 0.04), 0.297])
    elif kind == "keyboard":
        size = np.array([rng.uniform(0.36, 0.46), rng.uniform(0.02, 0.035), rng.uniform(0.12, 0.16)])
    else:
        size = np.array([rng.uniform(0.13, 0.24), rng.uniform(0.015, 0.06), rng.uniform(0.18, 0.30)])
    pattern = {"paper": "text", "keyboard": "keys"}.get(kind)
    material = (Material("print", int(rng.integers(2**31)), np.ones(3, np.float32), pattern=pattern) if pattern
                else b.material("object"))  # a book: a photo cover, like any object
    radius = 0.5 * float(np.hypot(size[0], size[2]))
    position = _free_spot(rng, surface, rot, radius, placed)
    if position is None:
        return False
    b.box(position + np.array([0, surface[3] + size[1] / 2, 0]), size, yaw=rng.uniform(0, 2 * np.pi), texture=material,
          tile=float(max(size[0], size[2])))  # one print over the top face
    placed.append((position[[0, 2]], radius))
    return True


def _desk_set(b: _Builder, desk: tuple, rng) -> int:
    """What a desk in use holds (generator v13): a keyboard in front of its monitor and a mouse beside it, then
    2-6 small things (mugs, bottles, phones, small boxes), all at real sizes and inside the desk top however they
    are turned, drawn from `rng` (a stream of their own). Their footprints and the monitor stand's go to
    `b.taken[surface index]`, so the clutter placed after keeps clear; returns how many things were placed."""
    index, monitor, stand = desk
    surface = b.surfaces[index]
    (cx, cz), (hx, hz), yaw, height = surface
    rot = _yaw_matrix(yaw)
    placed = b.taken.setdefault(index, [] if stand is None else [stand])
    made = 0

    def world(local_x: float, local_z: float) -> np.ndarray:
        return rot @ np.array([local_x, 0.0, local_z]) + np.array([cx, 0.0, cz])

    def extents(half_x: float, half_z: float, turn: float) -> tuple:
        """Half extents along the desk's axes of a rectangle turned by `turn` on it."""
        c, s = np.cos(turn), abs(np.sin(turn))
        return half_x * c + half_z * s, half_x * s + half_z * c

    def dark_or_light() -> Material:
        value = rng.uniform(0.01, 0.05) if rng.random() < 0.7 else rng.uniform(0.5, 0.8)
        return Material("flat", 0, np.full(3, value, np.float32))

    if monitor is not None and rng.random() < 0.8 and len(b.boxes) < N_BOXES:
        size = np.array([rng.uniform(0.36, 0.46), rng.uniform(0.02, 0.035), rng.uniform(0.12, 0.16)])
        turn = rng.uniform(-0.15, 0.15)
        ex, ez = extents(size[0] / 2, size[2] / 2, turn)
        x = float(np.clip(monitor + rng.uniform(-0.05, 0.05), -hx + ex, hx - ex))
        z = -hz + rng.uniform(0.05, 0.2) + ez  # the surface's back edge is a little in front of the monitor
        if hx >= ex and z + ez <= hz:
            keys = Material("print", int(rng.integers(2**31)), np.ones(3, np.float32), pattern="keys")
            position = world(x, z)
            b.box(position + np.array([0, height + size[1] / 2, 0]), size, texture=keys, tile=float(size[0]),
                  rotation=rot @ _yaw_matrix(turn))
            placed.append((position[[0, 2]], float(np.hypot(ex, ez))))
            made += 1
            mouse_turn = rng.uniform(-0.3, 0.3)
            mx, mz = extents(0.03, 0.055, mouse_turn)
            mouse_x = x + ex + rng.uniform(0.05, 0.12) + mx
            mouse_z = z + rng.uniform(-0.03, 0.03)
            if rng.random() < 0.7 and mouse_x + mx <= hx and abs(mouse_z) + mz <= hz and len(b.blobs) < N_BLOBS:
                position = world(mouse_x, mouse_z)
                b.blob(position, (0.03, 0.018, 0.055), (1.0, 1.0), rot @ _yaw_matrix(mouse_turn),
                       material=dark_or_light(), rest_on=height)
                placed.append((position[[0, 2]], float(np.hypot(mx, mz))))
                made += 1
    for _ in range(int(rng.integers(2, 7))):
        kind = str(rng.choice(["mug", "bottle", "phone", "box"], p=[0.35, 0.2, 0.15, 0.3]))
        if kind in ("mug", "bottle"):
            radius = rng.uniform(0.035, 0.045) if kind == "mug" else rng.uniform(0.03, 0.04)
            tall = rng.uniform(0.09, 0.12) if kind == "mug" else rng.uniform(0.18, 0.26)
            position = _free_spot(rng, surface, rot, radius + 0.01, placed)
            if position is None or len(b.blobs) >= N_BLOBS:
                continue
            b.blob(position, (radius, tall / 2, radius), (0.1, 1.0), _yaw_matrix(rng.uniform(0, 2 * np.pi)),
                   material=sample_material(rng, b.photos, "object"), rest_on=height)
            placed.append((position[[0, 2]], radius + 0.01))
        else:
            size = (np.array([0.07, 0.009, 0.15]) * rng.uniform(0.9, 1.15) if kind == "phone"
                    else np.array([rng.uniform(0.05, 0.15), rng.uniform(0.03, 0.2), rng.uniform(0.05, 0.15)]))
            radius = 0.5 * float(np.hypot(size[0], size[2]))
            position = _free_spot(rng, surface, rot, radius, placed)
            if position is None or len(b.boxes) >= N_BOXES:
                continue
            material = dark_or_light() if kind == "phone" else sample_material(rng, b.photos, "object")
            b.box(position + np.array([0, height + size[1] / 2, 0]), size, yaw=rng.uniform(0, 2 * np.pi),
                  texture=material, tile=float(max(size[0], size[2])))
            placed.append((position[[0, 2]], radius))
        made += 1
    return made


# generator v14: the real training frames are desks in use seen by the person at them, monitors near-black and large
# in the upper frame, often two; drawn from a stream of their own, `[seed, index, 14]`
SECOND_MONITOR_SHARE, DESK_VIEW_SHARE = 0.4, 0.4


def _screens(b: _Builder, rng) -> None:
    """Generator v14: every monitor near-black (albedo 0.002-0.012, as a dark screen reads in a real frame; v2-v13
    drew 0.01-0.08, which renders mid-grey), and 40 % of desks with a monitor draw a second one beside it, placed
    when the desk is wide enough (screen, stand and base copied along the desk, 2-10 cm apart; 12 % of the monitor
    desks of 600 scenes). Its stand joins `b.taken`, so clutter and the desk set's small things keep clear of it
    (the keyboard and mouse are placed before the check; they reach the monitors' bases by a few mm at most)."""
    for (surface, monitor, stand), screen in zip(b.desks, b.screens):
        if screen is None:
            continue
        dark = Material("flat", 0, np.full(3, rng.uniform(0.002, 0.012), np.float32))
        parts = b.boxes[screen:screen + 3]  # screen, stand, base
        for box in parts:
            box.material = dark
        if rng.random() >= SECOND_MONITOR_SHARE or len(b.boxes) + 3 > N_BOXES:
            continue
        (_, _), (hx, _), yaw, _ = b.surfaces[surface]
        width = float(parts[0].size[0])
        shift = float(rng.choice([-1.0, 1.0])) * (width + rng.uniform(0.02, 0.1))
        if abs(monitor + shift) + width / 2 > hx:  # no room on that side: the other
            shift = -shift
        if abs(monitor + shift) + width / 2 > hx:
            continue
        offset = _yaw_matrix(yaw) @ np.array([shift, 0.0, 0.0], np.float32)
        for box in parts:
            b.box(box.centre + offset, box.size, texture=dark, tile=box.tile_m, rotation=box.rotation)
        b.taken.setdefault(surface, [stand]).append((stand[0] + offset[[0, 2]], stand[1]))


def _desk_view(b: _Builder, rng, camera: Camera, width: float, depth: float, height: float) -> Optional[Camera]:
    """Generator v14: for `DESK_VIEW_SHARE` of the scenes with a monitor, the view of a person working at one of
    those desks: from 0.3-0.9 m in front of it, seated (eye 1.0-1.3 m) or standing (1.4-1.7 m), looking between
    the keyboard and the screen, rolled up to 30 degrees as a hand-held camera is, the screen's centre in the frame;
    `camera`'s field of view and principal point kept. None when this scene has no such view (or no draw passes)."""
    with_monitor = [(desk, screen) for desk, screen in zip(b.desks, b.screens) if screen is not None]
    if not with_monitor or rng.random() >= DESK_VIEW_SHARE:
        return None
    (surface, monitor, _), screen = with_monitor[int(rng.integers(len(with_monitor)))]
    (cx, cz), (_, hz), yaw, top = b.surfaces[surface]
    rot = _yaw_matrix(yaw)
    room = np.array([width / 2 - 0.1, height - 0.1, depth / 2 - 0.1])
    for _ in range(10):
        eye = rng.uniform(1.0, 1.3) if rng.random() < 0.6 else rng.uniform(1.4, 1.7)
        origin = rot @ np.array([monitor + rng.uniform(-0.3, 0.3), 0.0, hz + rng.uniform(0.3, 0.9)])
        target = rot @ np.array([monitor + rng.uniform(-0.3, 0.3), 0.0, -hz + rng.uniform(-0.05, 0.3)])
        origin += np.array([cx, eye, cz])
        target += np.array([cx, top + rng.uniform(0.0, 0.35), cz])
        roll = math.radians(float(np.clip(rng.normal(0, 12), -30, 30)))
        forward = target - origin
        if _clear_view(b, origin, forward, 0.8 * np.linalg.norm(forward), room):
            view = Camera(origin.astype(np.float64), look_rotation(forward, roll), camera.hfov_deg, camera.principal_offset)
            if _in_view(view, b.boxes[screen].centre):
                return view
    return None


def _clear_view(b: _Builder, origin: np.ndarray, forward: np.ndarray, needed: float, room: np.ndarray) -> bool:
    """Whether a camera at `origin` stands inside the room (`room`: its half width, height and half depth less a
    margin; eye 0.2-2.0 m), outside every box, and sees `needed` metres along `forward` before meeting a box."""
    inside_room = np.all(np.abs(origin[[0, 2]]) < room[[0, 2]]) and 0.2 <= origin[1] <= min(2.0, room[1])
    return bool(inside_room and not _inside_any(origin, b.boxes)
                and _free_distance(origin, forward / np.linalg.norm(forward), b.boxes) >= needed)


def _in_view(camera: Camera, point: np.ndarray, aspect: float = 0.75) -> bool:
    """Whether `point` lies in front of `camera` and inside the central 90 % of its frame (height/width `aspect`;
    the margin covers the jittered principal point)."""
    local = camera.rotation.T @ (np.asarray(point, np.float64) - camera.origin)
    tan = 0.9 * math.tan(math.radians(camera.hfov_deg) / 2)
    return bool(local[2] > 0 and abs(local[0]) < tan * local[2] and abs(local[1]) < tan * aspect * local[2])


def _clutter(b: _Builder, surface, count: int, placed: Sequence = ()) -> int:
    """Free objects resting on one surface, not overlapping: on raised surfaces papers, keyboards and books
    (`_flat_thing`), scanned meshes at their real size (when a mesh library is given), boxes, spheres, cylinders,
    tori and blobs; clear of the `placed` (centre, radius) footprints already there."""
    rng = b.rng
    (cx, cz), (hx, hz), yaw, height = surface
    rot = _yaw_matrix(yaw)
    placed, made = list(placed), 0
    for _ in range(count * 3):
        if made >= count or len(b.blobs) >= N_BLOBS and len(b.boxes) >= N_BOXES - 1:
            break
        if height > 0.05 and len(b.boxes) < N_BOXES and rng.random() < FLAT_THINGS_SHARE:
            made += _flat_thing(b, surface, rot, placed)
            continue
        free_meshes = [k for k in range(len(b.mesh_bounds)) if k not in {m.mesh for m in b.meshes}]
        if free_meshes and rng.random() < 0.4:
            k = free_meshes[int(rng.integers(len(free_meshes)))]
            turn = _yaw_matrix(rng.uniform(0, 2 * np.pi))
            if rng.random() < 0.25:  # lying on its side
                turn = turn @ np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], np.float32)
            low, high = b.mesh_bounds[k]
            corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
            turned = corners @ turn.T
            radius = 0.5 * float(np.hypot(*(turned.max(0) - turned.min(0))[[0, 2]]))
            position = _free_spot(rng, surface, rot, radius, placed)
            if position is None:
                continue
            footprint_centre = 0.5 * (turned.max(0) + turned.min(0))
            origin = position - np.array([footprint_centre[0], 0, footprint_centre[2]])
            origin[1] = height - turned[:, 1].min()
            b.meshes.append(MeshObject(k, origin.astype(np.float32), turn.astype(np.float32), b.material("object")))
            placed.append((position[[0, 2]], radius))
            made += 1
            continue
        scale = rng.uniform(0.05, 0.32) if height > 0.05 else rng.uniform(0.15, 0.7)
        radius = scale * 0.75
        position = _free_spot(rng, surface, rot, radius, placed)
        if position is None:
            continue
        if rng.random() < 0.5 and len(b.boxes) < N_BOXES:
            size = np.array([rng.uniform(0.4, 1.0), rng.uniform(0.3, 1.6), rng.uniform(0.4, 1.0)]) * scale
            size[[0, 2]] = np.minimum(size[[0, 2]], radius * 1.3)
            b.box(position + np.array([0, height + size[1] / 2, 0]), size, yaw=rng.uniform(0, np.pi))
        elif len(b.blobs) < N_BLOBS:
            shape = rng.choice(["sphere", "cylinder", "torus", "rounded", "diamond", "ellipsoid"])
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
            b.blob(position, radii, exponents, rotation, torus=torus, rest_on=height)
        else:
            continue
        placed.append((position[[0, 2]], radius))
        made += 1
    return made


def _room(b: _Builder, width: float, depth: float, height: float, floor: Material):
    """Floor (wearing `floor`), ceiling, four walls (some with a doorway or window opening and a space behind
    it), skirting and boards."""
    rng = b.rng
    t = 0.1
    # v12: the floor comes in (planks, tiles, carpet, lino at real sizes); v11's draws for it are still made, unused,
    # so every other surface and shape stays v11's
    _, ceiling, wall, _ = b.material("floor"), b.material("ceiling"), b.material("wall"), rng.uniform(0.4, 2.5)
    floor_tile = floor_repeat_m(floor)
    b.box((0, -t / 2, 0), (width + 2 * t, t, depth + 2 * t), texture=floor, tile=floor_tile)
    b.box((0, height + t / 2, 0), (width + 2 * t, t, depth + 2 * t), texture=ceiling, tile=rng.uniform(1.0, 4.0))
    wall_tile = rng.uniform(1.0, 4.0)
    skirting = b.material("furniture") if rng.random() < 0.5 else None
    for wall_index, (axis, sign) in enumerate(((0, -1), (0, 1), (2, -1), (2, 1))):
        along = 2 - axis  # the wall runs along this axis
        length = depth if axis == 0 else width
        plane = sign * ((width if axis == 0 else depth) / 2 + t / 2)
        material = wall if rng.random() < 0.8 else b.material("wall")

        def wall_box(start: float, stop: float, low: float, high: float, offset: float = 0.0, thickness: float = t,
                     texture=material, tile=wall_tile):
            centre, size = np.zeros(3), np.zeros(3)
            centre[along], size[along] = (start + stop) / 2, stop - start
            centre[1], size[1] = (low + high) / 2, high - low
            centre[axis], size[axis] = plane - sign * offset, thickness
            b.box(centre, size, texture=texture, tile=tile)

        if rng.random() < 0.3 and length > 1.5:  # an opening: doorway (from the floor) or window
            door = rng.random() < 0.6
            ow = rng.uniform(0.8, min(2.0, length - 0.5))
            o0 = rng.uniform(-length / 2 + 0.2, length / 2 - 0.2 - ow)
            low = 0.0 if door else rng.uniform(0.6, 1.0)
            high = min(height - 0.1, low + (rng.uniform(2.0, 2.1) if door else rng.uniform(0.8, 1.4)))
            wall_box(-length / 2 - t, o0, 0, height)
            wall_box(o0 + ow, length / 2 + t, 0, height)
            wall_box(o0, o0 + ow, high, height)
            if low > 0:
                wall_box(o0, o0 + ow, 0, low)
            beyond = rng.uniform(1.0, 4.0)  # the wall of the next room, seen through the opening
            wall_box(o0 - 1.5, o0 + ow + 1.5, 0, height, offset=-beyond, thickness=0.1, texture=b.material("wall"))
            # its floor 1 mm below the room's: no two coplanar faces overlap (z-fighting)
            wall_box(o0 - 1.5, o0 + ow + 1.5, -0.1, -0.001, offset=-beyond / 2, thickness=beyond, texture=floor,
                     tile=floor_tile)
            if door and ow < 1.1 and rng.random() < 0.6:  # a door leaf, 4 cm thick, open 0-90 degrees inwards
                opening = rng.uniform(0, np.pi / 2)
                hinge = np.zeros(3)
                hinge[along], hinge[axis] = o0, plane - sign * t / 2
                leaf_dir = np.zeros(3)
                leaf_dir[along], leaf_dir[axis] = math.cos(opening), -sign * math.sin(opening)
                centre = hinge + leaf_dir * ow / 2
                centre[1] = (high - 0.01) / 2
                yaw = math.atan2(leaf_dir[2], leaf_dir[0])
                b.box(centre, (ow - 0.02, high - 0.01, 0.04), rotation=_yaw_matrix(-yaw), texture=b.material("furniture"))
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
                     thickness=0.03, texture=b.material("picture"))


def sample_scene(seed: int, index: int, close_range_share: float = 0.3, photos: int = 0,
                 mesh_bounds: Sequence = (), path_traced_share: float = 0.05) -> Scene:
    """Frame `index` of dataset `seed`: a furnished, cluttered room, lights and a camera.

    `photos`: how many photos the material specs may pick from (0: procedural only); `mesh_bounds`:
    (low, high) corners of each scanned object that clutter may use (none: primitives only)."""
    rng = np.random.default_rng([int(seed), int(index)])
    b = _Builder(rng, photos, mesh_bounds)
    width, depth, height = rng.uniform(2.5, 10.0), rng.uniform(2.5, 10.0), rng.uniform(2.4, 3.2)
    big = hall(seed, index)
    if big:
        width, depth, height, extra_pieces = big
    _room(b, width, depth, height, sample_floor(np.random.default_rng([int(seed), int(index), 12])))
    b.room_boxes = len(b.boxes)
    # furniture: against a wall (facing the room) or free-standing, footprints kept apart
    pieces = int(rng.integers(3, 12)) + (extra_pieces if big else 0)
    for _ in range(pieces):
        kind = str(rng.choice(FURNITURE, p=FURNITURE_P))
        extent = FURNITURE_EXTENT[kind]
        scale = rng.uniform(0.9, 1.1)
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
                mark = b.mark()
                if kind == "plant":
                    _plant(b, x, z, 0.0, scale)
                elif kind == "lamp":
                    _lamp(b, x, z, scale)
                else:
                    _furniture(b, kind, x, z, yaw, scale)
                # v10: a piece the render slots cannot hold whole is left out, with its surfaces (v9 rendered its
                # first parts and put clutter on its missing tops, floating, in 13 % of halls)
                if b.overfull(mark):
                    b.undo(mark)
                else:
                    b.footprints.append((x, z, radius))
                break
    # v14: monitors near-black, some doubled, from a stream of their own (scenes without a monitor stay v13's)
    work_rng = np.random.default_rng([int(seed), int(index), 14])
    _screens(b, work_rng)
    # v13: what a desk in use holds, from a stream of its own (scenes without a desk stay v12's)
    desk_rng = np.random.default_rng([int(seed), int(index), 13])
    objects = sum(_desk_set(b, desk, desk_rng) for desk in b.desks)
    for k, surface in enumerate(b.surfaces):
        if rng.random() < 0.9:
            objects += _clutter(b, surface, int(rng.integers(3, 14)), b.taken.get(k, ()))
    floor = ((0.0, 0.0), (width / 2 - 0.2, depth / 2 - 0.2), 0.0, 0.0)
    objects += _clutter(b, floor, int(rng.integers(1, 10)))
    lights = _lights(rng, b, width, depth, height)
    close = bool(rng.random() < close_range_share and b.surfaces)
    camera = _camera(rng, b, width, depth, height, close)
    desk_view = _desk_view(b, work_rng, camera, width, depth, height)  # v14: drawn after v13's camera, so it stays
    if desk_view is not None:
        camera, close = desk_view, False
    if len(b.boxes) > N_BOXES or len(b.blobs) > N_BLOBS:  # every part made must have a render slot
        raise RuntimeError(f"scene ({seed}, {index}) has {len(b.boxes)} boxes and {len(b.blobs)} blobs: more than the slots")
    return Scene(b.boxes, b.blobs, b.meshes, lights, camera, close, objects,
                 ambient=float(rng.uniform(0.01, 0.12)), exposure_percentile=float(rng.uniform(40, 60)),
                 exposure_target=float(rng.uniform(0.12, 0.3)), path_traced=bool(rng.random() < path_traced_share),
                 room_boxes=b.room_boxes, white_balance=float(rng.uniform(0.6, 1.0)))


def _lights(rng, b: _Builder, width: float, depth: float, height: float) -> list:
    """Ceiling panels (area lights: soft shadows), often a window (a large area light of daylight colour on a
    wall), the room's lamps (warm points), sometimes a spot; colour temperatures 2,500-9,000 K."""
    lights = []
    kelvin = rng.uniform(2700, 6500)
    for k in range(N_CEILING_LIGHTS):
        if k > 0 and rng.random() < 0.4:
            break
        if rng.random() < 0.15 and lights:
            break  # some rooms lit by the window and lamps alone
        size = (rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8))
        position = np.array([rng.uniform(-0.35, 0.35) * width, height - 0.01, rng.uniform(-0.35, 0.35) * depth])
        power = rng.uniform(2.0, 8.0) / (size[0] * size[1]) ** 0.5
        lights.append(Light("area", position, colour_temperature(kelvin + rng.normal(0, 300)) * power, size))
    if rng.random() < 0.6 or not lights:  # a window: daylight through a wall, facing into the room
        axis, sign = (0, int(rng.choice([-1, 1]))) if rng.random() < 0.5 else (2, int(rng.choice([-1, 1])))
        position = np.zeros(3)
        position[axis] = sign * ((width if axis == 0 else depth) / 2 - 0.01)
        position[2 - axis] = rng.uniform(-0.3, 0.3) * (depth if axis == 0 else width)
        position[1] = rng.uniform(1.2, 1.8)
        facing = np.zeros(3)
        facing[axis] = -sign
        lights.append(Light("area", position, colour_temperature(rng.uniform(5500, 9000)) * rng.uniform(2, 8),
                            (rng.uniform(0.4, 1.2), rng.uniform(0.4, 0.9)), facing))
    for lamp in b.lamps[:1]:
        lights.append(Light("point", lamp, colour_temperature(rng.uniform(2500, 3200)) * rng.uniform(0.5, 2.5)))
    if not b.lamps and rng.random() < 0.4:
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


def _box_distances(origin: np.ndarray, directions: np.ndarray, boxes: list) -> np.ndarray:
    """(boxes, rays): distance along each ray (rows of `directions`) to each box, inf where it misses; slab tests
    in each box's frame, all at once."""
    if not boxes:
        return np.full((0, len(directions)), np.inf)
    rotations = np.stack([box.rotation for box in boxes]).astype(np.float64)  # (K, 3, 3)
    half = np.stack([box.size for box in boxes]).astype(np.float64)[:, None] / 2  # (K, 1, 3)
    o = np.einsum("kji,kj->ki", rotations, origin - np.stack([box.centre for box in boxes]))[:, None]  # (K, 1, 3)
    d = np.einsum("kji,rj->kri", rotations, directions)  # (K, R, 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (-half - o) / d, (half - o) / d
    near = np.nanmax(np.minimum(t1, t2), axis=2)
    far = np.nanmin(np.maximum(t1, t2), axis=2)
    return np.where((near <= far) & (far > 0), np.maximum(near, 0), np.inf)


def _free_distance(origin: np.ndarray, direction: np.ndarray, boxes: list) -> float:
    """Distance along the ray to the nearest box it meets; inf if none."""
    return float(_box_distances(origin, direction[None], boxes).min(initial=np.inf))


def _first_hits(origin: np.ndarray, directions: np.ndarray, boxes: list, blobs: list) -> np.ndarray:
    """For each ray (rows of `directions`), the index of the first thing it meets: boxes 0..len(boxes)-1, then
    blobs (as their bounding spheres); -1 for none."""
    distance = _box_distances(origin, directions, boxes)
    if blobs:
        centres = np.stack([blob.centre for blob in blobs]).astype(np.float64) - origin  # (B, 3)
        radii = np.array([float(blob.radii.max()) for blob in blobs])
        along = centres @ directions.T  # (B, R)
        miss = np.sum(centres ** 2, axis=1, keepdims=True) - along ** 2
        distance = np.concatenate([distance, np.where((along > 0) & (miss < radii[:, None] ** 2), along, np.inf)])
    if not len(distance):
        return np.full(len(directions), -1)
    which = np.argmin(distance, axis=0)
    return np.where(np.isfinite(distance[which, np.arange(len(directions))]), which, -1)


def object_share(camera: Camera, boxes: list, blobs: list, room_boxes: int, grid: tuple = (6, 8),
                 aspect: float = 0.75) -> float:
    """Share of a coarse ray grid over the view (rows x columns, height/width `aspect`) whose first hit is
    furniture or clutter rather than the room's shell (its first `room_boxes` boxes): how much of the
    frame shows things, not floor and walls."""
    tan = math.tan(math.radians(camera.hfov_deg) / 2)
    v, u = np.meshgrid((np.arange(grid[0]) + 0.5) / grid[0], (np.arange(grid[1]) + 0.5) / grid[1], indexing="ij")
    rays = np.stack([(2 * u - 1) * tan, (2 * v - 1) * tan * aspect, np.ones_like(u)], -1).reshape(-1, 3)
    directions = rays @ camera.rotation.T
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    hits = _first_hits(np.asarray(camera.origin, np.float64), directions, boxes, blobs)
    return float(np.mean(hits >= room_boxes))


# where cameras are held: (share, eye height m, pitch degrees (mean, sd; + up)) for a person standing, a
# person seated or holding a phone low, and a robot or a car-height platform
HOLDERS = (("standing", 0.45, (1.35, 1.75), (-20, 12)), ("seated", 0.35, (0.9, 1.3), (-12, 12)),
           ("robot", 0.20, (0.25, 0.8), (-5, 8)))


# real captures look at things: most views (VIEW_NEEDS_OBJECTS) must show furniture or clutter on at least
# OBJECT_SHARE of a coarse ray grid (`object_share`); the rest take any view that passes the other checks
VIEW_NEEDS_OBJECTS, OBJECT_SHARE = 0.85, 0.3
# held views aimed at a wall or a corner of the room 0.8-3 m away, with no need for things in view (generator v8):
# real captures include them (the ICL room's frames are mostly walls, corners and a lamp), and since v5's filter a
# model trained on renders reads a plain wall filling the view as far
WALL_VIEW_SHARE = 0.15


def _camera(rng, b: _Builder, width: float, depth: float, height: float, close: bool) -> Camera:
    """Close range: 0.3-1.5 m from a surface holding clutter, looking down at it. Otherwise held by a person
    (standing or seated) or a robot (`HOLDERS`), at a wall or a corner 0.8-3 m away (`WALL_VIEW_SHARE`), else
    mostly aimed at furniture 1-4 m away, sometimes across the room. Of up to 40 candidate views the first
    showing enough things is kept, else the one showing most."""
    hfov = float(rng.uniform(45, 75))
    offset = (float(rng.normal(0, 0.015)), float(rng.normal(0, 0.015)))
    roll = math.radians(float(np.clip(rng.normal(0, 6), -15, 15)))
    room = np.array([width / 2 - 0.1, height - 0.1, depth / 2 - 0.1])
    shares = np.array([h[1] for h in HOLDERS])
    _, _, (eye_low, eye_high), (pitch_mean, pitch_sd) = HOLDERS[int(rng.choice(len(HOLDERS), p=shares / shares.sum()))]
    wall_view = not close and rng.random() < WALL_VIEW_SHARE
    wanted = OBJECT_SHARE if not wall_view and rng.random() < VIEW_NEEDS_OBJECTS else 0.0
    best, best_share = None, -1.0
    origin, forward, target = np.array([0.0, 1.2, 0.0]), np.array([0.0, 0.0, 1.0]), np.zeros(3)
    for _ in range(40):
        if wall_view:  # a corner or a point of a wall, from the holder's eye height 0.8-3 m into the room
            sx, sz = rng.choice([-1.0, 1.0], 2)
            if rng.random() < 0.5:
                target = np.array([sx * width / 2, 0.0, sz * depth / 2])
            elif rng.random() < 0.5:
                target = np.array([sx * width / 2, 0.0, rng.uniform(-0.4, 0.4) * depth])
            else:
                target = np.array([rng.uniform(-0.4, 0.4) * width, 0.0, sz * depth / 2])
            target[1] = rng.uniform(0.6, 2.0)
            yaw = math.atan2(-target[0], -target[2]) + rng.normal(0, 0.5)  # into the room, roughly
            reach = rng.uniform(0.8, 3.0)
            origin = target + np.array([math.sin(yaw) * reach, 0.0, math.cos(yaw) * reach])
            origin[1] = rng.uniform(eye_low, eye_high)
            forward = target - origin
        elif close or (b.surfaces and rng.random() < 0.6):
            (cx, cz), (hx, hz), _, surface_h = b.surfaces[int(rng.integers(len(b.surfaces)))]
            target = np.array([cx + rng.uniform(-hx, hx) * 0.5, surface_h, cz + rng.uniform(-hz, hz) * 0.5])
            yaw = rng.uniform(0, 2 * np.pi)
            if close:
                distance = rng.uniform(0.3, 1.5)
                pitch = math.radians(rng.uniform(15, 60))  # downward
                forward = np.array([math.cos(pitch) * math.sin(yaw), -math.sin(pitch), math.cos(pitch) * math.cos(yaw)])
                origin = target - forward * distance
            else:  # from the holder's eye height, toward the target 1-4 m away along the floor
                eye = rng.uniform(eye_low, eye_high)
                reach = rng.uniform(1.0, 4.0)
                origin = target + np.array([-math.sin(yaw) * reach, 0.0, -math.cos(yaw) * reach])
                origin[1] = eye
                forward = target - origin
        else:
            origin = np.array([rng.uniform(-0.45, 0.45) * width, rng.uniform(eye_low, eye_high),
                               rng.uniform(-0.45, 0.45) * depth])
            pitch = math.radians(float(np.clip(rng.normal(pitch_mean, pitch_sd), -60, 25)))
            # roughly toward the room's far side: a wall, the floor and furniture in view
            yaw = math.atan2(-origin[0], -origin[2]) + rng.normal(0, 0.9)
            forward = np.array([math.cos(pitch) * math.sin(yaw), math.sin(pitch), math.cos(pitch) * math.cos(yaw)])
        # the view's centre must reach 0.8 m (close range: most of the way to its target) before it meets
        # anything: no frames of a wall or a chair back filling the view from 20 cm
        if _clear_view(b, origin, forward, 0.8 * np.linalg.norm(target - origin) if close else 0.8, room):
            camera = Camera(origin.astype(np.float64), look_rotation(forward, roll), hfov, offset)
            share = object_share(camera, b.boxes, b.blobs, b.room_boxes) if wanted else 1.0
            if share > best_share:
                best, best_share = camera, share
            if share >= wanted:
                break
    if best is None:  # no view passed: the room's centre at eye height, level, toward the farther wall
        origin = np.array([0.0, float(np.clip(eye_high, 0.3, height - 0.3)), 0.0])
        forward = np.array([0.0, -0.2, 1.0]) if depth >= width else np.array([1.0, -0.2, 0.0])
        best = Camera(origin.astype(np.float64), look_rotation(forward, roll), hfov, offset)
    return best
