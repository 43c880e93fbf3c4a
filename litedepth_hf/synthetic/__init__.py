"""Procedural indoor RGB-D scenes rendered with Mitsuba 3: training images with exact metric z-depth.

Why: the real RGB-D data here is a few rooms, and rendered depth is exact and unlimited. Every choice
(room, furniture, clutter, materials, lights, camera) is drawn from `numpy.random.default_rng([seed,
index])` (halls from `[seed, index, 9]`; domain randomisation), so frame `index` of a dataset is the same whichever shard or worker
renders it. Realism comes from real photographs as materials (fresh crops for every frame), scanned
objects at their real sizes, several light models and a camera model applied after rendering.

One module per concern: `config` (what decides the pixels), `textures` (materials), `meshes` (scanned
objects), `geometry` (shapes, lights, camera), `scenes` (sampling; reads no file), `render` (Mitsuba),
`camera_model` (sensor, lens and encoder effects; also used by training), `writer` (the dataset folder).
Only `render` and `writer` need Mitsuba, and they import it when a renderer is made.
"""

from .camera_model import CameraModelConfig, apply_camera_model
from .config import DEPTH_SCALE, GENERATOR, GENERATOR_VERSION, MANIFEST_FIELDS, SynthConfig
from .geometry import Blob, Box, Camera, Light, MeshObject, Scene, colour_temperature, look_rotation
from .meshes import Mesh, mesh_bounds, mesh_files, read_obj
from .render import Renderer, check_renderer, default_variant, denoise, import_mitsuba, llvm_library
from .scenes import HOLDERS, N_BLOBS, N_BOXES, sample_scene
from .textures import Material, MaterialPainter, photo_files, procedural_texture, sample_material
from .writer import asset_sources, camera_model_rng, render_frame, scene_statistics, synthesize

__all__ = [
    "Blob", "Box", "Camera", "CameraModelConfig", "DEPTH_SCALE", "GENERATOR", "GENERATOR_VERSION", "HOLDERS",
    "Light", "MANIFEST_FIELDS", "Material", "MaterialPainter", "Mesh", "MeshObject", "N_BLOBS", "N_BOXES",
    "Renderer", "Scene", "SynthConfig", "apply_camera_model", "asset_sources", "camera_model_rng",
    "check_renderer", "colour_temperature", "default_variant", "denoise", "import_mitsuba", "llvm_library",
    "look_rotation", "mesh_bounds", "mesh_files", "photo_files", "procedural_texture", "read_obj",
    "render_frame", "sample_material", "sample_scene", "scene_statistics",
    "synthesize",
]
