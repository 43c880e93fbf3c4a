"""Mitsuba 3 rendering: the renderer set-up (LLVM or scalar variant) and `Renderer`, one compiled scene
template re-posed per frame.

Speed comes from compiling once: the template has a fixed number of box, blob (superquadric) and mesh
slots, lights and textures, and each frame only changes values through `mi.traverse` (vertex positions,
texels, emitters, camera). Unused slots are shrunk and parked below the floor. Colour is rendered with
many samples per pixel (direct light, or for a share of frames the path tracer); depth in a second pass
with one sample per pixel and a box filter, so an occlusion-edge pixel holds one surface's depth, never a
blend. Depth is z along the optical axis, in metres.
"""

import glob
import math
import os
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .config import FAST_PATH_NOTE, SynthConfig
from .geometry import (
    _CUBE_TRIANGLES,
    _GRID_TRIANGLES,
    BLOB_UV,
    GRID_U,
    GRID_V,
    Blob,
    Box,
    Light,
    Scene,
    look_rotation,
    mitsuba_frame,
)
from .meshes import Mesh
from .scenes import N_BLOBS, N_BOXES, N_CEILING_LIGHTS
from .textures import LARGE_TEXTURE, SMALL_TEXTURE, MaterialPainter

PARKED = np.array([0.0, -50.0, 0.0], np.float32)  # where unused slots collapse, below every floor
_LEVELS = np.linspace(0.0, 1.0, 16384)
_BYTE_OF_LINEAR = np.round(255 * np.where(_LEVELS <= 0.0031308, 12.92 * _LEVELS,
                                          1.055 * _LEVELS ** (1 / 2.4) - 0.055)).astype(np.uint8)  # linear -> sRGB byte
LARGE_SLOTS = 16  # box slots with large textures: the room (~6-16 boxes); furniture and clutter get small ones
# box slots with a material of their own and mirrored repeats (the room, then most furniture: of ~21 boxes a scene
# spans more than one repeat, 3 lie past slot 32); the rest share the atlases and are fitted to one tile
OWN_SLOTS = 32
METERED_ALBEDO = 0.03  # v14: exposure meters on surfaces at least this bright (linear; near-black paint 0.0015-0.02)
# v14: metering on the brighter surfaces darkens frames (sRGB mean 0.49 -> 0.43 on 300 frames; the real training
# frames 0.53): this gain gives it back
METERED_GAIN = 1.3


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


def _texture_key(bsdf: dict) -> str:
    return "reflectance" if bsdf["type"] == "diffuse" else "diffuse_reflectance"


def _slot_bsdf(kind: int) -> dict:
    """Materials by slot: mostly diffuse, every 4th rough plastic, every 9th glossy plastic."""
    # mirror: photo crops do not tile, and mirrored repeats have no seams (tileable patterns stay seamless)
    texture = {"type": "bitmap", "bitmap": None, "raw": True, "filter_type": "bilinear", "wrap_mode": "mirror"}
    if kind % 9 == 8:
        return {"type": "plastic", "diffuse_reflectance": texture, "int_ior": 1.5}
    if kind % 4 == 3:
        return {"type": "roughplastic", "distribution": "ggx", "alpha": 0.2, "diffuse_reflectance": texture}
    return {"type": "diffuse", "reflectance": texture}


class _Atlas:
    """The textures of many slots side by side in one bitmap, so those slots share one material.

    Why: Dr.Jit traces every distinct material into each render's kernel; with ~100 clutter slots each
    holding its own, tracing cost more than shading (measured: 23 of 52 ms a frame at 240x320). A slot's
    tile has a one-texel border copied from its edge, so bilinear lookups never reach a neighbour."""

    def __init__(self, count: int, size: int):
        self.size, self.cell = size, size + 2
        self.columns = max(1, math.ceil(math.sqrt(count)))
        rows = max(1, math.ceil(count / self.columns))
        self.texels = np.full((rows * self.cell, self.columns * self.cell, 3), 0.5, np.float32)
        self.changed, self.written = True, False

    def clear(self):
        """Every tile back to grey, as a fresh template has it (no upload when nothing was written since)."""
        if self.written:
            self.texels.fill(0.5)
            self.changed, self.written = True, False

    def origin(self, index: int) -> tuple:
        return (index % self.columns) * self.cell + 1, (index // self.columns) * self.cell + 1  # x, y of texel (0, 0)

    def uv(self, index: int, uv: np.ndarray) -> np.ndarray:
        """Slot UVs in [0, 1] to this slot's tile of the atlas."""
        x, y = self.origin(index)
        height, width = self.texels.shape[:2]
        return ((np.array([x, y], np.float32) + np.clip(uv, 0.0, 1.0) * self.size) / [width, height]).astype(np.float32)

    def write(self, index: int, texture: np.ndarray):
        x, y = self.origin(index)
        size, texels = self.size, self.texels  # the tile, then its border copied from its edge (np.pad's "edge", in place)
        texels[y:y + size, x:x + size] = texture
        texels[y - 1, x:x + size], texels[y + size, x:x + size] = texture[0], texture[-1]
        texels[y - 1:y + size + 1, x - 1] = texels[y - 1:y + size + 1, x]
        texels[y - 1:y + size + 1, x + size] = texels[y - 1:y + size + 1, x + size - 1]
        self.changed = self.written = True


def fold_repeats(uv: np.ndarray) -> np.ndarray:
    """Mirrored texture repeats folded into [0, 1] vertex by vertex. Exact when no triangle crosses a whole
    number in u or v (the blobs' grid has a vertex line on each), which is what lets a slot use an atlas tile."""
    period = np.floor(uv)
    fraction = uv - period
    return np.where(period.astype(np.int64) % 2 == 1, 1.0 - fraction, fraction).astype(np.float32)


def fit_box_faces(uv: np.ndarray) -> np.ndarray:
    """A box's (24, 2) UVs in repeats made to start at each face's corner and fit in [0, 1] (a face larger
    than one repeat is stretched to one), so no triangle crosses a repeat and an atlas tile serves it."""
    faces = uv.reshape(6, 4, 2)
    faces = faces - faces.min(axis=1, keepdims=True)
    return (faces / np.maximum(faces.max(axis=(1, 2), keepdims=True), 1.0)).reshape(24, 2)


class Renderer:
    """One Mitsuba scene template, re-posed per frame: `render(scene, seed, frame)` -> (RGB uint8, z-depth m).

    Slots: `N_BOXES` boxes, `N_BLOBS` superquadrics and one slot per scanned mesh. The first `OWN_SLOTS` boxes
    (the room, then furniture) have a material of their own with mirrored repeats, `LARGE_TEXTURE` texels for the
    first `LARGE_SLOTS`, `SMALL_TEXTURE` after; every other slot has a `SMALL_TEXTURE` tile in one of three
    atlases (one per material type), its UVs folded into the tile (`fold_repeats`, `fit_box_faces`)."""

    def __init__(self, config: SynthConfig, painter: MaterialPainter, meshes: Sequence[Mesh] = ()):
        mi = self.mi = import_mitsuba(config.variant)
        import drjit

        self.dr = drjit
        self.config, self.painter, self.meshes = config, painter, list(meshes)
        height, width = config.size
        template = {
            "type": "scene",
            "sensor": {"type": "perspective", "fov_axis": "x", "fov": 60.0, "near_clip": 0.01, "far_clip": 1000.0,
                       "film": {"type": "hdrfilm", "width": width, "height": height, "pixel_format": "rgb",
                                "rfilter": {"type": "box"}}},
        }
        specs = [("box", 24, len(_CUBE_TRIANGLES))] * N_BOXES + [("blob", (GRID_V + 1) * GRID_U, len(_GRID_TRIANGLES))] * N_BLOBS
        specs += [("mesh", len(m.vertices), len(m.faces)) for m in self.meshes]
        kinds = [_slot_bsdf(k)["type"] for k in range(len(specs))]
        shared_slot = [k >= OWN_SLOTS for k in range(len(specs))]  # boxes come first, then blobs and scans
        self.atlases = {kind: _Atlas(sum(1 for k in range(len(specs)) if shared_slot[k] and kinds[k] == kind), SMALL_TEXTURE)
                        for kind in sorted(set(kinds))}
        shared = {}
        for kind, atlas in self.atlases.items():
            bsdf = _slot_bsdf([k for k in range(len(specs)) if kinds[k] == kind][0])
            bsdf[_texture_key(bsdf)]["bitmap"] = mi.Bitmap(atlas.texels)
            shared[kind] = mi.load_dict(bsdf)
        # per kind of slot: (key, texture, texture size, vertex count); texture is (the slot's own texture
        # parameter, None) or (its atlas, its tile index)
        self.slots = {"box": [], "blob": [], "mesh": []}
        tiles = dict.fromkeys(self.atlases, 0)
        holders = {kind: set() for kind in self.atlases}  # the slots that share each atlas
        for k, (kind, vertex_count, face_count) in enumerate(specs):
            key = f"{kind}{k:03d}"
            props = mi.Properties()
            size = LARGE_TEXTURE if k < LARGE_SLOTS else SMALL_TEXTURE
            if shared_slot[k]:
                atlas, tile = self.atlases[kinds[k]], tiles[kinds[k]]
                tiles[kinds[k]] += 1
                holders[kinds[k]].add(key)
                props["bsdf"] = shared[kinds[k]]
                texture = (atlas, tile)
            else:
                bsdf = _slot_bsdf(k)
                bsdf[_texture_key(bsdf)]["bitmap"] = mi.Bitmap(np.full((size, size, 3), 0.5, np.float32))
                props["bsdf"] = mi.load_dict(bsdf)
                texture = (f"{key}.bsdf.{_texture_key(bsdf)}.data", None)
            mesh = mi.Mesh(key, vertex_count, face_count, props=props, has_vertex_normals=kind == "blob",
                           has_vertex_texcoords=True)
            mesh_params = mi.traverse(mesh)
            if kind == "box":
                faces = _CUBE_TRIANGLES
            elif kind == "blob":
                faces = _GRID_TRIANGLES
            else:
                faces = self.meshes[len(self.slots["mesh"])].faces
            mesh_params["faces"] = faces.ravel()
            mesh_params["vertex_positions"] = np.tile(PARKED, vertex_count)
            # blobs and scans (all past OWN_SLOTS, so in an atlas): their UVs never change, set once in their tile
            if kind == "mesh":
                mesh_params["vertex_texcoords"] = texture[0].uv(texture[1], self.meshes[len(self.slots["mesh"])].uv).ravel()
            if kind == "blob":
                mesh_params["vertex_texcoords"] = texture[0].uv(texture[1], fold_repeats(BLOB_UV)).ravel()
                # given, so Mitsuba does not try (and warn) to compute them for a collapsed mesh
                mesh_params["vertex_normals"] = np.tile(np.array([0, 1.0, 0], np.float32), vertex_count)
            mesh_params.update()
            template[key] = mesh
            self.slots[kind].append((key, texture, size, vertex_count))
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
        # a shared material is listed once, under whichever of its slots Mitsuba visits first: find it by its slots
        self.atlas_keys = {}
        for kind, keys in holders.items():
            found = [key for key in self.params.keys() if key.endswith(".data") and key.split(".", 1)[0] in keys]
            if len(found) != 1:
                raise RuntimeError(f"expected one texture parameter for the {kind} atlas, found {found}")
            self.atlas_keys[kind] = found[0]
        self._parked = {key for slots in self.slots.values() for key, *_ in slots}  # rewritten only when they move
        # light sampling only (no BSDF samples): half the cost of the default at the same grain
        self.direct = mi.load_dict({"type": "direct", "emitter_samples": 1, "bsdf_samples": 0})
        self.path = mi.load_dict({"type": "path", "max_depth": 3})
        # one sample per pixel: each pixel sees one surface; albedo here carries the ambient term
        self.geometry_integrator = mi.load_dict({"type": "aov", "aovs": "dd:depth,pp:position,al:albedo"})

    def _set_mesh(self, key: str, vertices, uv=None, normals=None):
        self.params[f"{key}.vertex_positions"] = vertices.ravel()
        if uv is not None:
            self.params[f"{key}.vertex_texcoords"] = uv.ravel()
        if normals is not None:
            self.params[f"{key}.vertex_normals"] = normals.ravel()

    def pose(self, scene: Scene, frame: int = 0):
        """Write a sampled scene into the template's slots (unused slots parked under the floor); `frame`
        picks the procedural pool its materials draw from."""
        mi, params = self.mi, self.params
        if len(scene.boxes) > len(self.slots["box"]) or len(scene.blobs) > len(self.slots["blob"]):
            raise ValueError(f"scene has {len(scene.boxes)} boxes / {len(scene.blobs)} blobs; the template holds "
                             f"{len(self.slots['box'])} / {len(self.slots['blob'])}")
        placements = list(zip(self.slots["box"], scene.boxes)) + list(zip(self.slots["blob"], scene.blobs))
        for item in scene.meshes:
            if not 0 <= item.mesh < len(self.meshes):
                raise ValueError(f"scene uses mesh {item.mesh}; the renderer holds {len(self.meshes)}")
            placements.append((self.slots["mesh"][item.mesh], item))
        # every tile starts grey each frame: a tile left from an earlier frame's slot is never hit, but a plastic
        # material's sampling weight follows its whole texture's mean, so stale tiles changed path-traced colour
        # with the frames rendered before (v10 and earlier)
        for atlas in self.atlases.values():
            atlas.clear()
        used = set()
        for (key, texture, size, _), shape in placements:
            used.add(key)
            target, tile = texture  # the slot's own texture parameter, or its atlas
            if isinstance(shape, Box):
                vertices, uv = shape.mesh()
                self._set_mesh(key, vertices, uv if tile is None else target.uv(tile, fit_box_faces(uv)))
            elif isinstance(shape, Blob):
                vertices, normals, _ = shape.mesh()
                self._set_mesh(key, vertices, normals=normals)
            else:
                mesh = self.meshes[shape.mesh]
                self._set_mesh(key, (mesh.vertices * shape.scale) @ shape.rotation.T + shape.centre)
            texels = self.painter.paint(shape.material, size, frame)
            if tile is None:
                params[target] = mi.TensorXf(texels)
            else:
                target.write(tile, texels)
        for kind, atlas in self.atlases.items():
            if atlas.changed:
                params[self.atlas_keys[kind]] = mi.TensorXf(atlas.texels)
                atlas.changed = False
        self._parked -= used
        for kind, slots in self.slots.items():
            for key, _, _, count in slots:
                if key not in used and key not in self._parked:
                    self._set_mesh(key, np.tile(PARKED, (count, 1)))
                    self._parked.add(key)
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

    def render(self, scene: Scene, seed: int, frame: int = 0) -> tuple:
        """(RGB uint8 (H, W, 3), z-depth float32 metres (H, W), 0 = no surface or beyond the cap)."""
        mi = self.mi
        self.pose(scene, frame)
        path = scene.path_traced or self.config.integrator == "path"
        radiance = np.array(mi.render(self.scene, integrator=self.path if path else self.direct,
                                      spp=self.config.spp, seed=seed))[..., :3]
        # evaluated, not symbolic, calls: this pass traces each of the ~120 shapes and materials for only a
        # few operations, and tracing them symbolically cost more than running them (31 -> 20 ms a frame, same bytes)
        with self.dr.scoped_set_flag(self.dr.JitFlag.SymbolicCalls, False):
            geometry = np.array(mi.render(self.scene, integrator=self.geometry_integrator, spp=1, seed=seed))
        distance, position, albedo = geometry[..., 0], geometry[..., 1:4], geometry[..., 4:7]
        forward = scene.camera.rotation[:, 2]
        z = ((position - scene.camera.origin) @ forward).astype(np.float32)
        z[(distance <= 0) | ~np.isfinite(z) | (z <= 0)] = 0.0
        lights = [light.colour for light in scene.lights] or [np.ones(3)]
        ambient = scene.ambient * np.mean(lights, axis=0) / max(float(np.max(np.mean(lights, axis=0))), 1e-6)
        if path:  # the path tracer carries indirect light itself: keep a little fill only
            ambient = ambient * 0.25
        linear = (denoise(radiance, albedo, z) + ambient.astype(np.float32)) * albedo
        if scene.white_balance:  # a camera's auto white balance: the lights' mean colour toward grey
            cast = np.mean(lights, axis=0) / max(float(np.mean(lights)), 1e-6)
            linear = linear / np.maximum(cast, 1e-3).astype(np.float32) ** scene.white_balance
        rgb = expose(linear, albedo, scene.exposure_percentile, scene.exposure_target)
        z[z > self.config.max_depth_m] = 0.0
        return rgb, z


def expose(linear: np.ndarray, albedo: np.ndarray, percentile: float, target: float) -> np.ndarray:
    """sRGB bytes of a linear image exposed as an auto-exposing camera does: the `percentile` of luminance goes to
    `target` (x `METERED_GAIN`). v14: the meter reads only surfaces of albedo >= `METERED_ALBEDO` when they are at
    least a fifth of the frame, so a dark screen filling half the view stays dark, as in a real frame (v6-v13 read
    every pixel and drew it mid-grey)."""
    weights = np.array([0.2126, 0.7152, 0.0722], np.float32)
    luminance = linear @ weights
    metered = (albedo @ weights) >= METERED_ALBEDO
    level = float(np.percentile(luminance[metered] if metered.mean() >= 0.2 else luminance, percentile))
    linear = linear * (target * METERED_GAIN / max(level, 1e-6))
    return _BYTE_OF_LINEAR[np.clip(linear * (len(_BYTE_OF_LINEAR) - 1), 0, len(_BYTE_OF_LINEAR) - 1).astype(np.int32)]


def denoise(radiance: np.ndarray, albedo: np.ndarray, depth: np.ndarray, radius: int = 2) -> np.ndarray:
    """Irradiance (radiance / albedo) averaged over a (2r+1)-pixel row, then column, among pixels on the same
    surface (z within 2 %): removes light-sampling grain, keeps texture (albedo) and depth edges sharp. Two
    1-D passes cost 2(2r+1) shifted reads instead of (2r+1)^2."""
    irradiance = radiance / np.maximum(albedo, 0.02)
    tolerance = 0.02 * depth + 0.005
    for axis in (1, 0):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius, radius)
        padded_irr = np.pad(irradiance, pad + [(0, 0)], mode="edge")
        padded_z = np.pad(depth, pad, mode="edge")
        total = np.zeros_like(irradiance)
        weights = np.zeros(depth.shape, np.float32)
        term, near, w = np.empty_like(irradiance), np.empty_like(depth), np.empty(depth.shape, np.float32)
        for offset in range(2 * radius + 1):  # the same float operations as out-of-place ones, into reused buffers
            window = [slice(None), slice(None)]
            window[axis] = slice(offset, offset + depth.shape[axis])
            np.subtract(padded_z[tuple(window)], depth, out=near)
            np.less(np.abs(near, out=near), tolerance, out=w, casting="unsafe")
            weights += w
            total += np.multiply(padded_irr[tuple(window)], w[..., None], out=term)
        irradiance = np.divide(total, np.maximum(weights, 1.0)[..., None], out=total)
    return irradiance
