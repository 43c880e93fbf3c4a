"""What decides a rendered dataset's pixels (`SynthConfig`, stored in meta.json) and the folder's constants."""

from dataclasses import dataclass, field

DEPTH_SCALE = 5000.0  # stored uint16 / 5000 = metres, as the TUM folders
GENERATOR = "litedepth synth"  # meta.json's "generator": how training tells renders from camera frames
GENERATOR_VERSION = 14  # 2: per-frame photo materials, scanned meshes, lamps/doors/plants/monitors, holders;
# 3: textures of boxes past the 16th slot, blobs and scans in three atlases (box faces and scans fitted to one
# crop, not repeated), scans simplified at 10 mm;
# 4: the first 32 boxes (room, most furniture) keep materials of their own with repeats; atlases from the 33rd;
# 5: scenes fuller of things: 3-11 pieces of furniture, denser and larger clutter, and 85 % of views show
# furniture or clutter on >= 30 % of the frame (scenes.object_share)
# 6: the camera white-balances (60-100 % of the lights' colour cast divided out) and exposes for the median
# (sRGB mean 0.50 against the real training frames' 0.53); more plain materials, near-black and near-white paint
# on furniture and objects, photo crops less saturated (HSV saturation 0.34 -> 0.20; real frames 0.22)
# 7: quiet surfaces, a preview only, reverted (docs/synthetic.md); no training set carries it
# 8: printed things on tables, desks and shelves (30 % of their clutter draws): papers with text, keyboards, books
# and 15 % of held views aimed at a wall or a corner 0.8-3 m away, with no need for things in view
# 9: a quarter of the rooms are halls, 9-16 m across with ceilings 3.0-4.0 m and 2-6 more pieces of furniture (the
# other rooms are v8's, pixel for pixel)
# 10: a piece of furniture the render slots cannot hold whole (80 boxes, 24 blobs) is left out with its surfaces;
# v9 rendered its first parts and clutter floated on its tops left without boxes (13 % of halls, 0.3 % of rooms)
# 11: the scenes are v10's; the clutter atlases start grey every frame, so a path-traced frame's colour no longer
# depends on the frames its process rendered before (plastic samples by its texture's mean; 16 of 1,500 frames moved)
# 12: floors are boards, tiles, carpet or lino at real sizes (boards 9-22 cm, tiles 20-60 cm), drawn from a stream of
# their own; v6-v11 floors were photo crops (35 %: cracked earth, fabric, faces), patterns (40 %) or paint (25 %)
# 13: desks in use - a keyboard before the monitor, a mouse, 2-6 mugs, bottles, phones, small boxes at real sizes -
# from a stream of their own; scenes without a desk are v12's, those with one differ beyond the desk too
# 14: desks at work - monitors near-black (albedo 0.002-0.012), a second one beside 12 % of them (drawn for 40 %, placed
# where the desk is wide enough), and ~40 % of scenes with a monitor seen by the person working at it (0.3-0.9 m before
# the desk, rolled up to 30 degrees; 20 % of all frames); a stream of their own; scenes without a monitor are v13's;
# exposure metered on surfaces that are not near-black
MANIFEST_FIELDS = ("id", "rgb", "depth", "valid_fraction", "depth_min_m", "depth_median_m", "depth_max_m",
                   "fx", "fy", "cx", "cy", "close_range", "objects", "path_traced")
FAST_PATH_NOTE = ("mitsuba: using the slow scalar_rgb renderer; for ~10x speed install LLVM >= 16 "
                  "(Debian/Ubuntu: apt-get install libllvm19) or set DRJIT_LIBLLVM_PATH to its libLLVM.so")


@dataclass
class SynthConfig:
    """Everything that decides a dataset's pixels; stored in meta.json so a resumed run must match.

    `textures`: folders of photos for materials (none: procedural materials only); `meshes`: folders of
    OBJ files in metres used as clutter (none: primitives only); `camera_model`: bake the photographic
    effects of `camera_model.py` into the saved RGB (for previews; training applies them on the fly)."""

    seed: int = 0
    size: tuple = (240, 320)  # (height, width)
    spp: int = 4  # the irradiance denoiser (render.denoise) removes most of the grain 4 samples leave
    integrator: str = "direct"
    max_depth_m: float = 10.0
    close_range_share: float = 0.3
    path_traced_share: float = 0.05  # frames whose colour is path traced (indirect light); the rest direct + ambient
    textures: list = field(default_factory=list)
    meshes: list = field(default_factory=list)
    camera_model: bool = False
    variant: str = "scalar_rgb"

    def __post_init__(self):
        self.size = tuple(int(v) for v in self.size)
        if len(self.size) != 2 or min(self.size) < 8:
            raise ValueError(f"size must be (height, width), each >= 8 pixels, got {self.size}")
        if self.spp < 1:
            raise ValueError(f"spp must be >= 1, got {self.spp}")
        if self.integrator not in ("direct", "path"):
            raise ValueError(f"integrator must be 'direct' or 'path', got {self.integrator!r}")
        if not 0 <= self.path_traced_share <= 1:
            raise ValueError(f"path_traced_share must be in [0, 1], got {self.path_traced_share}")
        if not self.max_depth_m > 0:
            raise ValueError(f"max_depth_m must be > 0, got {self.max_depth_m}")
        self.textures = [str(t) for t in self.textures]
        self.meshes = [str(m) for m in self.meshes]
