"""The Mitsuba-free half of `litedepth synth`: scene sampling, materials, scanned meshes, the camera model.

None of these tests needs the renderer: they run on a bare install.
"""

import dataclasses
import hashlib

import numpy as np
import pytest
from PIL import Image

from litedepth_hf.synthetic import (
    HOLDERS,
    CameraModelConfig,
    Material,
    MaterialPainter,
    apply_camera_model,
    mesh_bounds,
    photo_files,
    read_obj,
    sample_material,
    sample_scene,
    scenes,
)
from litedepth_hf.synthetic.geometry import Box, Camera, look_rotation
from litedepth_hf.synthetic.scenes import (
    OBJECT_SHARE,
    _Builder,
    _free_distance,
    _furniture,
    _lamp,
    _plant,
    object_share,
)
from litedepth_hf.synthetic.textures import FLOORS, ROLES, _floor_layout, floor_repeat_m

pytestmark = pytest.mark.core

CUBE_OBJ = """# a 0.2 m cube standing on z = 0, z up
v -0.1 -0.1 0
v 0.1 -0.1 0
v 0.1 0.1 0
v -0.1 0.1 0
v -0.1 -0.1 0.2
v 0.1 -0.1 0.2
v 0.1 0.1 0.2
v -0.1 0.1 0.2
f 1 2 3 4
f 5 8 7 6
f 1 5 6 2
f 2 6 7 3
f 3 7 8 4
f 4 8 5 1
"""


def _photos(folder, count=3):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for k in range(count):
        Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(folder / f"p{k}.jpg")
    return folder


def test_a_scene_is_a_pure_function_of_seed_and_index():
    a, b, c = sample_scene(3, 17, photos=100), sample_scene(3, 17, photos=100), sample_scene(3, 18, photos=100)
    assert len(a.boxes) == len(b.boxes) and all(np.array_equal(x.centre, y.centre) for x, y in zip(a.boxes, b.boxes))
    assert [m.material.seed for m in a.boxes] == [m.material.seed for m in b.boxes]
    assert np.array_equal(a.camera.origin, b.camera.origin)
    assert not np.array_equal(a.camera.origin, c.camera.origin)


def test_materials_are_photos_only_when_photos_are_given_and_fresh_per_frame():
    kinds = lambda scene: {s.material.kind for s in scene.boxes + scene.blobs}  # noqa: E731
    without = [sample_scene(0, i) for i in range(20)]
    assert all("photo" not in kinds(s) for s in without)
    with_photos = [sample_scene(0, i, photos=2845) for i in range(20)]
    photo_ids = [s.material.photo for scene in with_photos for s in scene.boxes if s.material.kind == "photo"]
    assert len(photo_ids) > 200 and len(set(photo_ids)) > 0.8 * min(len(photo_ids), 2845) * 0.5
    rooms = [scene.boxes[:2] for scene in with_photos]  # floor and ceiling come first
    assert all(floor.material.kind == "floor" for floor, _ in rooms)  # v12: boards, tiles, carpet, lino; no photo
    assert all(ceiling.material.kind != "photo" for _, ceiling in rooms)  # ceilings are paint or patterns
    clutter = [s for scene in with_photos for s in scene.blobs]
    assert np.mean([s.material.kind == "photo" for s in clutter]) > 0.35  # objects often wear photos


def test_furniture_and_rooms_have_real_dimensions():
    for kind, (low, high) in (("table", (0.70, 0.76)), ("desk", (0.70, 0.76)), ("chair", (0.42, 0.48 + 0.05))):
        for seed in range(10):
            b = _Builder(np.random.default_rng(seed), 0, [])
            _furniture(b, kind, 0.0, 0.0, 0.0, 1.0)
            top = b.boxes[0].centre[1] + b.boxes[0].size[1] / 2
            assert low - 1e-6 <= top <= high + 1e-6, (kind, top)
    halls = 0
    for index in range(40):
        scene = sample_scene(1, index)
        ceiling = max(box.centre[1] - box.size[1] / 2 for box in scene.boxes if box.size[0] > 2 and box.size[2] > 2)
        floor = scene.boxes[0].size  # the floor slab spans the room and its walls
        hall = scenes.hall(1, index) is not None
        halls += hall
        if hall:  # v9: open offices and labs
            assert 3.0 - 1e-6 <= ceiling <= 4.0 + 1e-6 and min(floor[0], floor[2]) > 9.0
        else:
            assert 2.4 - 1e-6 <= ceiling <= 3.2 + 1e-6 and max(floor[0], floor[2]) < 10.5
    assert 4 <= halls <= 18  # a quarter of 40


def _scene_digest(value, digest=None):
    """A hash of every field of a scene (floats to 1e-9), to compare scenes across generator versions."""
    digest = digest or hashlib.sha256()
    if dataclasses.is_dataclass(value):
        for item in dataclasses.fields(value):
            _scene_digest(getattr(value, item.name), digest)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _scene_digest(item, digest)
    elif isinstance(value, np.ndarray):
        digest.update(np.round(value.astype(np.float64), 9).tobytes())
    elif isinstance(value, float):
        digest.update(repr(round(value, 9)).encode())
    else:
        digest.update(repr(value).encode())
    return digest


def _without_floor(scene):
    """The scene with its floor boxes' material and repeat blanked (v12 changed floors only)."""
    floor = scene.boxes[0].material
    boxes = [dataclasses.replace(b, material=None, tile_m=0.0) if b.material is floor else b for b in scene.boxes]
    return dataclasses.replace(scene, boxes=boxes)


def test_rooms_that_are_not_halls_are_generator_v8s_rooms_but_for_their_floors():
    # digests of sample_scene(8, index, photos=2845) with the floor blanked (`_without_floor`), made by generator
    # v8's code (commit 67bbe8a, the default's renders, checked out beside this file; its full-scene digests were
    # 34a8023faef2b887, 7d7d5b65bff15242, ... as this test held until v12): v9 draws its halls and v12 its floors from streams of their own, so every other
    # scene must stay v8's to the last field but the floor (v10: but for the ~0.3 % where a piece of furniture did
    # not fit the slots; none of these)
    # (v13: rooms without a desk; its desk sets change the rest, v8's 0, 2 and 11 were bb43e298..., e4418c21...,
    # 5d6b7cb0...)
    v8 = {3: "640ef4f2e4abf4b2", 5: "87843bd9d3866d7c", 15: "f098c280bae77b50", 17: "00e41f3186219b59",
          1: "74de04d1cb175cf1", 6: "cf58967048dd9ed1"}  # 1 and 6 are halls in v9
    for index, expected in v8.items():
        hall = scenes.hall(8, index) is not None
        digest = _scene_digest(_without_floor(sample_scene(8, index, photos=2845))).hexdigest()[:16]
        assert (digest != expected) if hall else (digest == expected), index


def test_floors_are_planks_tiles_carpet_or_lino_with_joints_at_real_sizes(monkeypatch):
    """Generator v12: the floor (and the floor seen through an opening) wears boards 9-22 cm wide or tiles of
    20-60 cm, with their joints where the layout puts them, carpet or a smooth floor; no photo is read."""
    opened = []
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a) or None)
    floors = []
    for index in range(60):
        scene = sample_scene(5, index, photos=2845)
        floor = scene.boxes[0]
        assert floor.material.kind == "floor" and floor.tile_m == pytest.approx(floor_repeat_m(floor.material))
        beyond = [b for b in scene.boxes[1:] if b.material is floor.material]
        assert all(b.tile_m == floor.tile_m and b.centre[1] + b.size[1] / 2 < 0 for b in beyond)
        floors.append(floor.material)
    kinds = [m.pattern for m in floors]
    assert set(kinds) == set(FLOORS) and kinds.count("planks") >= 15
    painter = MaterialPainter(0, [])
    size = 256
    for material in [m for m in floors if m.pattern in ("planks", "tiles")][:12]:
        texels = painter.paint(material, size, 0)
        assert np.array_equal(texels, MaterialPainter(0, []).paint(material, size, 0))
        assert np.array_equal(painter.paint(material, 128, 0), texels[::2, ::2])  # the same floor in every slot
        _, repeat, layout = _floor_layout(material)
        parts = layout.get("across") or layout["count"]
        metres = repeat / parts
        assert (0.09 <= metres <= 0.22) if material.pattern == "planks" else (0.2 <= metres <= 0.6)
        # the texture beside its mirror image, as mirrored repeats lay it: a joint at every edge of both, the
        # edge where they meet included (the texel pair nearest each edge, in metres from the layout)
        edges = np.arange(1, 2 * parts) * size / parts
        near = np.round(edges).astype(int)[:, None] + [-1, 0]
        middles = np.round(edges - size / parts / 2).astype(int)  # the middle of the board or tile before each
        found = False
        for grey in (texels.mean(-1), texels.mean(-1).T):  # boards and tiles run along either axis
            mirrored = np.concatenate([grey, grey[::-1]])
            if material.pattern == "tiles":  # a grout line is one colour from end to end
                found |= bool(np.all(mirrored[near].std(-1).min(1) < 1e-6))
            else:  # a joint between boards is darker than the board before it
                found |= bool(np.all(mirrored[near].mean(-1).min(1) < 0.9 * mirrored[middles].mean(-1)))
        assert found, material
    assert opened == []


def _holds(box: Box, point_xz, height: float) -> bool:
    """Whether `box`'s top face is at `height` (1 mm) and reaches over the floor point `point_xz`."""
    local = box.rotation.T @ (np.array([point_xz[0], 0.0, point_xz[1]]) - box.centre)
    return (abs(box.centre[1] + box.size[1] / 2 - height) < 1e-3 and abs(local[0]) <= box.size[0] / 2 + 1e-6
            and abs(local[2]) <= box.size[2] / 2 + 1e-6)


def test_every_surface_clutter_stands_on_is_rendered(monkeypatch):
    # v10: a piece of furniture the 80 box / 24 blob slots cannot hold whole is left out with its surfaces. v9 kept
    # its surfaces while the slots dropped its boxes, so clutter floated where a table top was missing (seed 8:
    # 7 of the first 200 scenes, 6 of them halls; this test failed on them)
    builders = []

    class Recorded(_Builder):  # keeps each scene's builder, for the surfaces clutter was placed on
        def __init__(self, *args):
            super().__init__(*args)
            builders.append(self)

    monkeypatch.setattr(scenes, "_Builder", Recorded)
    halls_full = 0
    for index in range(200):
        scene = sample_scene(8, index, photos=2845)
        b = builders[-1]
        assert len(scene.boxes) <= scenes.N_BOXES and len(scene.blobs) <= scenes.N_BLOBS
        for (cx, cz), _, _, height in b.surfaces:
            if height > 0.01:  # raised: the top of a box of the scene
                assert any(_holds(box, (cx, cz), height) for box in scene.boxes), (index, height)
        halls_full += scenes.hall(8, index) is not None and len(scene.boxes) == scenes.N_BOXES
    assert halls_full >= 20  # 28: halls still fill the 80 box slots (with clutter) as often as before


def test_a_piece_that_does_not_fit_the_slots_is_taken_back_whole():
    # the builders' side of v10: a piece is undone when it needs a box past `N_BOXES` or a blob past `N_BLOBS`
    for build in (lambda b: _furniture(b, "table", 0.0, 0.0, 0.3, 1.0), lambda b: _lamp(b, 1.0, 1.0, 1.0),
                  lambda b: _plant(b, -1.0, 0.5, 0.0, 1.0)):
        roomy = _Builder(np.random.default_rng(0), 0, [])
        mark = roomy.mark()
        build(roomy)
        assert not roomy.overfull(mark) and roomy.mark() != mark  # it fits: kept
        for boxes, blobs in ((scenes.N_BOXES - 1, 0), (0, scenes.N_BLOBS - 1)):
            full = _Builder(np.random.default_rng(0), 0, [])
            for k in range(boxes):
                full.box((k, 0.5, 0), (0.2, 0.2, 0.2))
            for k in range(blobs):
                full.blob((k, 0.5, 2), (0.1, 0.1, 0.1))
            full.surfaces.append(((0.0, 0.0), (0.5, 0.5), 0.0, 0.7))
            mark = full.mark()
            build(full)
            needs = (roomy.mark()[0] > 1) if boxes else (roomy.mark()[1] > 1)  # more than the one slot left
            assert full.overfull(mark) == needs
            full.undo(mark)
            assert full.mark() == mark and len(full.lamps) == 0 and len(full.surfaces) == 1


def test_printed_things_lie_on_raised_surfaces_print_up_and_read_no_file(monkeypatch):
    """Generator v8: papers, keyboards and books on tables, desks and shelves; pages are dark marks on light paper,
    keyboards mostly dark keys; painted from their own seed, deterministic, without opening any image."""
    opened = []
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a) or None)
    printed = [(box, scene) for scene in (sample_scene(3, i) for i in range(40)) for box in scene.boxes
               if box.material.kind == "print"]
    assert len(printed) >= 20  # ~2 a scene
    for box, _ in printed:
        bottom = box.centre[1] - box.size[1] / 2
        assert bottom > 0.05 and box.size[1] <= 0.04 and box.size[[0, 2]].max() <= 0.47
        assert box.tile_m == pytest.approx(max(box.size[0], box.size[2]))  # one print covers the top face
    patterns = {box.material.pattern for box, _ in printed}
    assert patterns == {"text", "keys"}
    painter = MaterialPainter(0, [])
    page = next(box.material for box, _ in printed if box.material.pattern == "text")
    texels = painter.paint(page, 128, 0)
    assert np.array_equal(texels, MaterialPainter(0, []).paint(page, 128, 0))
    grey = texels.mean(-1)
    assert np.median(grey) > 0.5 and 0.05 < (grey < 0.15).mean() < 0.6  # ink on paper
    keys = next(box.material for box, _ in printed if box.material.pattern == "keys")
    assert painter.paint(keys, 64, 0).shape == (64, 64, 3)
    assert opened == []
    with pytest.raises(ValueError, match="unknown print"):
        painter.paint(Material("print", 0, np.ones(3, np.float32), pattern="poster"), 8, 0)


def test_cameras_are_held_where_people_and_robots_hold_them():
    heights = np.array([sample_scene(2, i).camera.origin[1] for i in range(200)])
    assert 0.2 <= heights.min() and heights.max() <= 2.0
    assert (heights < 0.8).mean() > 0.05  # robots
    assert ((heights > 1.3) & (heights < 1.8)).mean() > 0.2  # standing people
    assert abs(sum(h[1] for h in HOLDERS) - 1.0) < 1e-9


def test_object_share_counts_the_rays_that_meet_things_before_the_room():
    camera = Camera(np.zeros(3), look_rotation(np.array([0.0, 0.0, 1.0]), 0.0), 60.0, (0.0, 0.0))
    paint = Material("flat", 0, np.ones(3, np.float32))
    wall = Box(np.array([0, 0, 5.0]), np.array([40, 40, 0.1]), np.eye(3), paint, 1.0)  # the room: one wall ahead
    half = Box(np.array([-2.5, 0, 3.0]), np.array([5, 40, 0.1]), np.eye(3), paint, 1.0)  # covers world x < 0
    behind = Box(np.array([0, 0, 6.0]), np.array([40, 40, 0.1]), np.eye(3), paint, 1.0)  # hidden by the wall
    assert object_share(camera, [wall], [], room_boxes=1) == 0.0
    assert object_share(camera, [wall, half], [], room_boxes=1) == 0.5  # 4 of the grid's 8 columns
    assert object_share(camera, [wall, behind], [], room_boxes=1) == 0.0
    assert object_share(camera, [wall, half], [], room_boxes=2) == 0.0  # counted as room: nothing to show


def test_most_views_show_furniture_or_clutter():
    scenes = [sample_scene(6, i, photos=100) for i in range(60)]
    shares = np.array([object_share(s.camera, s.boxes, s.blobs, s.room_boxes) for s in scenes])
    assert all(0 < s.room_boxes < len(s.boxes) for s in scenes)
    # v8: 15 % of held views look at a wall or a corner and need no things in view
    assert (shares >= OBJECT_SHARE).mean() > 0.65 and (shares < 0.1).mean() < 0.25


def test_wall_views_look_at_the_room_shell_from_a_step_or_three_away(monkeypatch):
    monkeypatch.setattr(scenes, "WALL_VIEW_SHARE", 1.0)
    distances = []
    for index in range(40):
        scene = sample_scene(4, index, close_range_share=0.0)
        camera = scene.camera
        forward = camera.rotation[:, 2]
        distances.append(_free_distance(camera.origin, forward, scene.boxes[:scene.room_boxes]))
    distances = np.array(distances)
    assert distances.min() >= 0.8 and np.median(distances) < 2.8  # a wall near by (other held views: ~3.3 m)


def test_scanned_meshes_are_placed_on_surfaces_at_their_real_size(tmp_path):
    (tmp_path / "cube.obj").write_text(CUBE_OBJ)
    mesh = read_obj(tmp_path / "cube.obj")
    assert mesh.faces.shape == (12, 3) and np.allclose(mesh.extent, 0.2)
    assert mesh.vertices[:, 1].min() == pytest.approx(0.0)  # z up in the file -> y up
    bounds = mesh_bounds([tmp_path / "cube.obj"]) * 3
    scenes = [sample_scene(4, i, mesh_bounds=bounds) for i in range(30)]
    placed = [m for s in scenes for m in s.meshes]
    assert placed and all(m.scale == 1.0 for m in placed)
    for scene in scenes:
        assert len({m.mesh for m in scene.meshes}) == len(scene.meshes)  # each mesh slot used once per frame
        for m in scene.meshes:
            bottom = float((mesh.vertices @ m.rotation.T + m.centre)[:, 1].min())
            surfaces = [0.0] + [s.centre[1] + s.size[1] / 2 for s in scene.boxes]
            assert min(abs(bottom - h) for h in surfaces) < 1e-4  # resting on the floor or a top


def test_real_scanned_meshes_load_upright(shared_data):
    files = sorted((shared_data / "meshes").glob("*.obj"))
    if not files:
        pytest.skip("no meshes in ../shared/data")
    bottle = read_obj(next(f for f in files if "mustard" in f.name))
    height = bottle.extent[1]
    assert 0.18 < height < 0.21 and height == bottle.extent.max()  # 19 cm tall, standing on y


def test_photo_files_take_subfolders_but_not_depth_maps(tmp_path):
    _photos(tmp_path / "set_a", 2)
    _photos(tmp_path / "set_b" / "nested", 1)
    Image.fromarray(np.zeros((4, 4), np.uint16)).save((tmp_path / "set_a" / "x.png"))
    (tmp_path / "depth").mkdir()
    Image.fromarray(np.zeros((4, 4), np.uint16)).save(tmp_path / "depth" / "d.png")
    files = photo_files([tmp_path])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "set_a/p0.jpg", "set_a/p1.jpg", "set_a/x.png", "set_b/nested/p0.jpg"]
    with pytest.raises(FileNotFoundError):
        photo_files([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        photo_files([tmp_path / "empty"])


def test_painter_reads_only_the_given_photos_and_is_deterministic(tmp_path, monkeypatch):
    photos = photo_files([_photos(tmp_path / "photos")])
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda path, *a, **k: opened.append(str(path)) or real_open(path, *a, **k))
    rng = np.random.default_rng(0)
    materials = [sample_material(rng, len(photos)) for _ in range(30)]
    first = [MaterialPainter(0, photos).paint(m, 32, 5) for m in materials]
    second = [MaterialPainter(0, photos).paint(m, 32, 5) for m in materials]
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert opened and set(opened) <= {str(p) for p in photos}
    assert all(t.shape == (32, 32, 3) and 0 <= t.min() and t.max() <= 0.95 for t in first)
    opened.clear()
    painter = MaterialPainter(0, [])
    for m in [sample_material(rng, 0, role) for role in ROLES for _ in range(4)]:
        painter.paint(m, 16, 0)
    assert opened == []  # no photos given: no image file is read
    flat = MaterialPainter(0, []).paint(Material("flat", 0, np.array([0.2, 0.5, 0.9], np.float32)), 8, 0)
    assert np.allclose(flat, [0.2, 0.5, 0.9])


def test_camera_model_changes_colour_only_and_is_deterministic(train_dir):
    rgb = np.asarray(Image.open(sorted((train_dir / "rgb").iterdir())[0]).convert("RGB"))
    outs = [apply_camera_model(rgb, np.random.default_rng([7, k])) for k in range(6)]
    again = apply_camera_model(rgb, np.random.default_rng([7, 0]))
    assert np.array_equal(outs[0], again)
    assert all(o.shape == rgb.shape and o.dtype == np.uint8 for o in outs)
    assert all(np.abs(o.astype(int) - rgb).mean() > 1 for o in outs)
    # geometry kept: each output still lines up with the input (edges of 8x8 block means correlate), while a
    # shift of the input by one block does not
    def edges(a):
        h, w = a.shape[0] // 8 * 8, a.shape[1] // 8 * 8
        blocks = a[:h, :w].astype(np.float32).mean(-1).reshape(h // 8, 8, w // 8, 8).mean((1, 3))
        return np.diff(blocks, axis=1).ravel()

    for o in outs:
        assert np.corrcoef(edges(rgb), edges(o))[0, 1] > 0.8
    assert np.corrcoef(edges(rgb), edges(np.roll(rgb, 8, axis=1)))[0, 1] < 0.8
    off = CameraModelConfig(white_balance=(1, 1), exposure=(1, 1), vignetting_p=0, defocus_p=0, motion_p=0,
                            aberration_p=0, noise_p=0, gamma=(1, 1), contrast=(1, 1), jpeg_p=0)
    assert np.abs(apply_camera_model(rgb, np.random.default_rng(0), off).astype(int) - rgb).max() <= 1
    with pytest.raises(ValueError):
        apply_camera_model(rgb.astype(np.float32), np.random.default_rng(0))


def _recorded_builders(monkeypatch) -> list:
    """Every `_Builder` that `sample_scene` makes from now on, in order: what the tests look inside."""
    builders = []

    class Recorded(_Builder):
        def __init__(self, *args):
            super().__init__(*args)
            builders.append(self)

    monkeypatch.setattr(scenes, "_Builder", Recorded)
    return builders


def test_desks_hold_a_keyboard_before_the_monitor_and_scenes_without_a_desk_are_v12s(monkeypatch):
    """Generator v13: a desk in use holds a keyboard in front of its monitor, a mouse beside it and small
    things, every one inside the desk top and resting on it, from a stream of their own; clutter keeps clear of
    them and of the monitor's stand; a scene without a desk is v12's to the last field (digests made by v12's
    code, commit a9e3921)."""
    v12 = {3: "e32c2bfcce57477a", 5: "3ecc1ec3d18eae87", 7: "166fd536b2e8ce21", 10: "6ce8b50b3437b3f4"}
    builders, sets = _recorded_builders(monkeypatch), []
    desk_set = scenes._desk_set

    def recorded(b, desk, rng):  # what each desk set added
        boxes, blobs = len(b.boxes), len(b.blobs)
        made = desk_set(b, desk, rng)
        sets.append((b, desk, b.boxes[boxes:], b.blobs[blobs:]))
        assert made == len(b.boxes) - boxes + len(b.blobs) - blobs
        return made

    monkeypatch.setattr(scenes, "_desk_set", recorded)
    for index, expected in v12.items():
        assert _scene_digest(sample_scene(8, index, photos=2845)).hexdigest()[:16] == expected, index
        assert builders[-1].desks == []
    sets.clear()
    for index in range(40):
        sample_scene(8, index, photos=2845)
    monitors = keyboards = mice = small = 0
    for b, (surface, monitor, stand), boxes, blobs in sets:
        (cx, cz), (hx, hz), yaw, height = b.surfaces[surface]
        rot = scenes._yaw_matrix(yaw)

        def local(point):  # (x, z) on the desk top of a world point or of a world (x, z)
            point = np.asarray(point, np.float64)
            point = np.array([point[0], 0.0, point[-1]])
            return (rot.T @ (point - np.array([cx, 0.0, cz])))[[0, 2]]

        for box in boxes:  # every corner on the desk top, the bottom face on it
            corners = box.mesh()[0]
            assert np.all(np.abs([local(c) for c in corners]) <= np.array([hx, hz]) + 1e-5)
            assert abs(corners[:, 1].min() - height) < 1e-5
        for blob in blobs:
            vertices = blob.local_vertices() @ blob.rotation.T + blob.centre
            assert np.all(np.abs([local(v) for v in vertices]) <= np.array([hx, hz]) + 1e-5)
            assert abs(vertices[:, 1].min() - height) < 1e-4
        monitors += monitor is not None
        keys = [box for box in boxes if box.material.kind == "print" and box.material.pattern == "keys"]
        assert len(keys) <= (monitor is not None)
        if keys:  # in front of the monitor: within 5 cm of it along the desk unless the desk's end is nearer
            keyboards += 1
            x, z = local(keys[0].centre)
            assert abs(x - monitor) <= 0.05 + 1e-6 or hx - abs(x) < 0.25
            assert z > local(stand[0])[1] and 0.36 <= keys[0].size[0] <= 0.46
            mouse = [blob for blob in blobs if np.allclose(blob.radii, (0.03, 0.018, 0.055))]
            mice += len(mouse)
            assert all(local(blob.centre)[0] > x for blob in mouse)  # to the right of the keyboard
        small += len(boxes) - len(keys) + len(blobs)
        taken = b.taken[surface]
        assert taken[0] is stand or stand is None
        own = {id(thing) for thing in boxes + blobs}
        others = [thing.centre for thing in b.boxes + b.blobs if id(thing) not in own]
        for centre in others:  # clutter on this desk top stays out of the desk set's footprints
            on_top = abs(local(centre)[0]) <= hx and abs(local(centre)[1]) <= hz and centre[1] > height
            if on_top and centre[1] < height + 0.5:
                assert all(np.hypot(*(np.asarray(centre)[[0, 2]] - p)) >= r for p, r in taken)
    assert monitors >= 10 and keyboards >= 0.6 * monitors and mice >= 0.4 * keyboards and small >= 2 * len(sets)


def test_desks_at_work_dark_and_doubled_monitors_and_the_view_of_the_person_at_the_desk(monkeypatch):
    """Generator v14: every monitor near-black, some doubled beside the first inside the desk's width with their
    stand kept clear, and a share of the scenes with a monitor seen from 0.3-0.9 m in front of that desk, toward
    it, its screen in the frame, roll at most 30 degrees; a scene without a monitor is v13's to the last field
    (digests made by v13's code, commit 0a8eb90)."""
    v13 = {0: "8eb04ee30356f2c6", 2: "d4229a2b05c29a96", 3: "e32c2bfcce57477a", 9: "bb7e96373e88de0e"}
    builders, views = _recorded_builders(monkeypatch), []
    desk_view = scenes._desk_view

    def recorded(b, rng, camera, *room):
        view = desk_view(b, rng, camera, *room)
        views.append((b, camera, view))
        return view

    monkeypatch.setattr(scenes, "_desk_view", recorded)
    for index, expected in v13.items():
        assert _scene_digest(sample_scene(8, index, photos=2845)).hexdigest()[:16] == expected, index
        assert all(screen is None for screen in builders[-1].screens)
    views.clear()
    doubled = seen = 0
    for index in range(80):
        scene = sample_scene(8, index, photos=2845)
        b, v13_camera, view = views[-1]
        assert len(b.screens) == len(b.desks)
        for (surface, monitor, stand), screen in zip(b.desks, b.screens):
            assert (screen is None) == (monitor is None)
            if screen is None:
                continue
            (cx, cz), (hx, hz), yaw, top = b.surfaces[surface]
            rot = scenes._yaw_matrix(yaw)
            parts = b.boxes[screen:screen + 3]
            for box in parts:  # screen, stand and base near-black
                assert box.material.kind == "flat" and np.all((0.002 <= box.material.tint) & (box.material.tint <= 0.012))
            copies = [box for box in b.boxes if box is not parts[0] and np.allclose(box.size, parts[0].size)
                      and box.material is parts[0].material]
            assert len(copies) <= 1
            for copy in copies:  # beside the first, same height and depth, apart, inside the desk's width
                doubled += 1
                shift = (rot.T @ (copy.centre - parts[0].centre))
                assert abs(shift[1]) < 1e-6 and abs(shift[2]) < 1e-6
                assert parts[0].size[0] + 0.02 - 1e-6 <= abs(shift[0]) <= parts[0].size[0] + 0.1 + 1e-6
                assert abs(monitor + shift[0]) + parts[0].size[0] / 2 <= hx + 1e-6
                assert len(b.taken[surface]) >= 2 and b.taken[surface][0] is stand
        assert view is None or any(screen is not None for screen in b.screens)
        if view is None:
            assert scene.camera is v13_camera
            continue
        seen += 1
        assert scene.camera is view and not scene.close_range
        assert view.hfov_deg == v13_camera.hfov_deg and view.principal_offset == v13_camera.principal_offset
        assert 1.0 <= view.origin[1] <= 1.7
        right, down, forward = view.rotation.T
        level = np.cross(forward, [0.0, 1.0, 0.0])  # the image-right of the same view without roll (up to sign)
        level /= np.linalg.norm(level)
        assert np.degrees(np.arccos(min(1.0, abs(float(right @ level))))) <= 30 + 1e-6  # roll
        # a desk whose screen projects into the frame, seen from 0.3-0.9 m in front of it, toward it
        k = view.intrinsics(240, 320)
        at_work = False
        for (surface, monitor, _), screen in zip(b.desks, b.screens):
            if screen is None:
                continue
            local = view.rotation.T @ (b.boxes[screen].centre - view.origin)
            in_frame = local[2] > 0 and 0 <= k["fx"] * local[0] / local[2] + k["cx"] < 320 and (
                0 <= k["fy"] * local[1] / local[2] + k["cy"] < 240)
            (cx, cz), (hx, hz), yaw, top = b.surfaces[surface]
            rot = scenes._yaw_matrix(yaw)
            x, _, z = rot.T @ (view.origin - np.array([cx, 0.0, cz]))
            toward = (rot.T @ forward)[2] < 0  # facing the monitor's side
            at_work |= bool(in_frame and hz + 0.3 - 1e-6 <= z <= hz + 0.9 + 1e-6 and abs(x - monitor) <= 0.3 + 1e-6
                            and toward)
        assert at_work
    monitor_scenes = sum(any(screen is not None for screen in b.screens) for b, _, _ in views)
    assert doubled >= 3 and 0.2 * monitor_scenes <= seen <= 0.6 * monitor_scenes


def test_exposure_meters_on_surfaces_that_are_not_near_black():
    """Generator v14: a near-black screen filling half the view stays near-black (the meter reads the rest); when
    near-black surfaces fill more than four fifths, the meter reads every pixel, as before."""
    from litedepth_hf.synthetic.render import METERED_GAIN, expose

    albedo = np.full((10, 20, 3), 0.5, np.float32)
    albedo[:, :10] = 0.006  # a screen on the left half
    linear = albedo * 0.4  # the same light everywhere
    rgb = expose(linear, albedo, 50.0, 0.2)
    bright = 0.2 * METERED_GAIN  # the metered half lands on the target
    assert abs(rgb[:, 10:].mean() / 255 - (1.055 * bright ** (1 / 2.4) - 0.055)) < 0.01
    assert rgb[:, :10].mean() / 255 < 0.1
    albedo[:, :17] = 0.006  # 85 % near-black: the meter reads every pixel, the screen is lifted toward the target
    rgb = expose(albedo * 0.4, albedo, 50.0, 0.2)
    assert rgb[:, :17].mean() / 255 > 0.4
    albedo[:, 16:] = 0.5  # exactly a fifth metered: still metered on it
    assert expose(albedo * 0.4, albedo, 50.0, 0.2)[:, :16].mean() / 255 < 0.1
    for dark, metered in ((0.029, False), (0.031, True)):  # either side of METERED_ALBEDO (0.03)
        albedo[:, :10], albedo[:, 10:] = dark, 0.5
        rgb = expose(albedo * 0.4, albedo, 40.0, 0.2)  # the 40th percentile lies in the dark half when it is metered
        assert (rgb[:, :10].mean() / 255 > 0.4) == metered, dark
