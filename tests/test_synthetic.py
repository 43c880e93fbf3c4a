"""`litedepth synth`: exact z-depth, pinhole geometry, determinism, resume, shards, loaders, bad input.

Renders are tiny (tens of pixels) so the whole file adds seconds, on either Mitsuba variant.
"""

import importlib
import json
import math
import sys

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

pytest.importorskip("mitsuba", reason="the synth extra is not installed")

from litedepth_hf import synthetic  # noqa: E402
from litedepth_hf.cli import main as cli_main  # noqa: E402
from litedepth_hf.synthetic.geometry import _rotation, _yaw_matrix  # noqa: E402

TINY = {"size": (24, 32), "spp": 2}


GREY = synthetic.Material("flat", 0, np.full(3, 0.2, np.float32))
WHITE = synthetic.Material("flat", 0, np.full(3, 0.9, np.float32))
CUBE_OBJ = "\n".join(["v -0.15 -0.15 0", "v 0.15 -0.15 0", "v 0.15 0.15 0", "v -0.15 0.15 0", "v -0.15 -0.15 0.3",
                      "v 0.15 -0.15 0.3", "v 0.15 0.15 0.3", "v -0.15 0.15 0.3", "f 1 2 3 4", "f 5 8 7 6",
                      "f 1 5 6 2", "f 2 6 7 3", "f 3 7 8 4", "f 4 8 5 1"]) + "\n"


@pytest.fixture(scope="module")
def meshes(tmp_path_factory):
    """A 0.3 m cube written here, and a scanned object (the mustard bottle) when ../shared/data is there."""
    folder = tmp_path_factory.mktemp("meshes")
    (folder / "cube.obj").write_text(CUBE_OBJ)
    found = [synthetic.read_obj(folder / "cube.obj")]
    from conftest import DATA

    bottle = DATA / "meshes" / "ycb_mustard_bottle.obj"
    if bottle.is_file():
        found.append(synthetic.read_obj(bottle))
    return found


@pytest.fixture(scope="module")
def renderer(meshes):
    """One template for the hand-built scenes (flat materials), with the test meshes in its mesh slots."""
    config = synthetic.SynthConfig(size=(72, 96), spp=4, variant=synthetic.import_mitsuba().variant())
    return synthetic.Renderer(config, synthetic.MaterialPainter(0, []), meshes)


def _scene(boxes, camera, meshes=()) -> synthetic.Scene:
    light = synthetic.Light("point", np.array([0.0, 0.0, 0.5]), np.ones(3) * 3.0)
    return synthetic.Scene(boxes, [], list(meshes), [light], camera, close_range=False, objects=len(boxes),
                           ambient=0.3)


def _wall(z: float, material=GREY) -> synthetic.Box:
    """A 40 m square slab whose front face is the plane z = `z` (camera at the origin looking +z)."""
    return synthetic.Box(np.array([0, 0, z + 0.05], np.float32), np.array([40, 40, 0.1], np.float32),
                         np.eye(3, dtype=np.float32), material)


def _camera(hfov=60.0, roll_deg=0.0, offset=(0.0, 0.0)) -> synthetic.Camera:
    rotation = synthetic.look_rotation(np.array([0.0, 0.0, 1.0]), math.radians(roll_deg))
    return synthetic.Camera(np.zeros(3), rotation, hfov, offset)


def test_fronto_parallel_plane_reads_its_z_depth_at_every_pixel(renderer):
    rgb, depth = renderer.render(_scene([_wall(3.0)], _camera(hfov=70.0)), seed=0)
    assert depth.shape == (72, 96) and rgb.shape == (72, 96, 3)
    assert np.all(np.abs(depth / 3.0 - 1.0) < 0.005), (depth.min(), depth.max())  # corners included
    assert abs(depth[0, 0] - depth[36, 48]) < 0.005 * 3.0  # z, not distance along the ray (3.68 m there)


def test_white_balance_divides_out_the_lights_colour(renderer):
    """A grey wall under a warm (2,700 K) lamp: orange as lit, grey once the camera white-balances."""
    def ratio(white_balance):
        scene = _scene([_wall(2.0)], _camera())
        scene.lights[0].colour = synthetic.colour_temperature(2700.0) * 3.0
        scene.white_balance = white_balance
        rgb, _ = renderer.render(scene, seed=0)
        r, _, b = rgb[20:52, 30:66].reshape(-1, 3).astype(np.float64).mean(0)
        return r / b

    assert ratio(0.0) > 1.4  # the warm light's cast, as a camera without white balance sees it
    assert abs(ratio(1.0) - 1.0) < 0.05


def _projected_box_mask(box, camera, height, width):
    """Pixels whose centre lies inside the pinhole projection of the box's corners (convex hull)."""
    from itertools import product

    intrinsics = camera.intrinsics(height, width)
    corners = np.array([box.centre + box.rotation @ (np.array(s) * box.size / 2) for s in product((-1, 1), repeat=3)])
    cam = (corners - camera.origin) @ camera.rotation  # (right, down, forward)
    u = intrinsics["fx"] * cam[:, 0] / cam[:, 2] + intrinsics["cx"]
    v = intrinsics["fy"] * cam[:, 1] / cam[:, 2] + intrinsics["cy"]
    points = np.stack([u, v], 1)
    hull = _convex_hull(points)
    # PIL draws with pixel centres at integer coordinates: the same convention as the intrinsics
    image = Image.new("L", (width * 8, height * 8))
    ImageDraw.Draw(image).polygon([((x + 0.5) * 8 - 0.5, (y + 0.5) * 8 - 0.5) for x, y in hull], fill=255)
    fine = np.asarray(image).reshape(height, 8, width, 8)
    return fine[:, 4, :, 4] > 127


def _convex_hull(points):
    points = sorted(map(tuple, points))
    def turn(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def half(seq):
        out = []
        for p in seq:
            while len(out) >= 2 and turn(out[-2], out[-1], p) <= 0:
                out.pop()
            out.append(p)
        return out
    lower, upper = half(points), half(reversed(points))
    return lower[:-1] + upper[:-1]


def test_box_covers_its_pinhole_projection_and_edges_agree(renderer):
    box = synthetic.Box(np.array([0.25, -0.1, 2.5], np.float32), np.array([0.9, 0.6, 0.7], np.float32),
                        _yaw_matrix(0.5) @ _rotation(np.random.default_rng(3)).astype(np.float32), WHITE)
    camera = _camera(hfov=55.0, roll_deg=8.0, offset=(0.04, -0.03))
    rgb, depth = renderer.render(_scene([_wall(5.0), box], camera), seed=1)
    rendered = depth < 4.5
    predicted = _projected_box_mask(box, camera, *depth.shape)
    iou = (rendered & predicted).sum() / (rendered | predicted).sum()
    assert iou >= 0.95, iou
    # one surface per pixel: the wall or the box, never a blend between them
    far_corner = float(((box.centre - camera.origin) @ camera.rotation[:, 2]) + np.linalg.norm(box.size) / 2)
    assert np.all((np.abs(depth - 5.0) < 0.01) | (depth <= far_corner))
    # depth edges sit on RGB edges (white box on a grey wall): within one pixel
    grey = rgb.astype(np.float32).mean(-1)
    rgb_edge = np.zeros_like(rendered)
    rgb_edge[:, 1:] |= np.abs(np.diff(grey, axis=1)) > 30
    rgb_edge[1:, :] |= np.abs(np.diff(grey, axis=0)) > 30
    depth_edge = np.zeros_like(rendered)
    depth_edge[:, 1:] |= np.diff(rendered.astype(int), axis=1) != 0
    depth_edge[1:, :] |= np.diff(rendered.astype(int), axis=0) != 0
    near_rgb_edge = np.zeros_like(rgb_edge)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near_rgb_edge |= np.roll(np.roll(rgb_edge, dy, 0), dx, 1)
    assert depth_edge.sum() > 20
    assert (depth_edge & near_rgb_edge).sum() / depth_edge.sum() >= 0.95


def test_every_clutter_slot_shows_its_own_texture_through_the_atlas(renderer):
    """Slots past the room's share one material per type through a texture atlas (one traced material, not
    ~100): 48 boxes in those slots, each a colour drawn at random, must each show their own colour."""
    from litedepth_hf.synthetic.render import OWN_SLOTS, fold_repeats

    palette = np.array([[0.8, 0.05, 0.05], [0.05, 0.8, 0.05], [0.05, 0.05, 0.8], [0.8, 0.8, 0.05]], np.float32)
    colours = np.random.default_rng(0).integers(len(palette), size=48)
    hidden = [synthetic.Box(np.array([0, 0, -5.0], np.float32), np.full(3, 0.1, np.float32), np.eye(3, dtype=np.float32), GREY)
              for _ in range(OWN_SLOTS - 1)]  # the wall and these fill the slots with materials of their own
    boxes = [synthetic.Box(np.array([(k % 8 - 3.5) * 0.3, (k // 8 - 2.5) * 0.3, 3.0], np.float32), np.full(3, 0.22, np.float32),
                           np.eye(3, dtype=np.float32), synthetic.Material("flat", 0, palette[c]), tile_m=0.1)
             for k, c in enumerate(colours)]
    camera = _camera()
    rgb, depth = renderer.render(_scene([_wall(5.0)] + hidden + boxes, camera), seed=1)
    intrinsics = camera.intrinsics(*depth.shape)
    chroma = palette / palette.sum(1, keepdims=True)
    for box, colour in zip(boxes, colours):
        x, y, z = (box.centre - [0, 0, 0.11] - camera.origin) @ camera.rotation
        u, v = round(intrinsics["fx"] * x / z + intrinsics["cx"]), round(intrinsics["fy"] * y / z + intrinsics["cy"])
        assert abs(depth[v, u] - 2.89) < 0.01
        linear = (rgb[v, u].astype(np.float32) / 255) ** 2.2
        seen = linear / max(float(linear.sum()), 1e-6)
        assert np.argmin(np.abs(chroma - seen).sum(1)) == colour
    # mirrored repeats fold continuously into [0, 1], so a vertex on a repeat's edge serves both sides
    np.testing.assert_allclose(fold_repeats(np.array([0.2, 0.99, 1.0, 1.01, 1.8, 2.0, 3.8, 4.0])),
                               [0.2, 0.99, 1.0, 0.99, 0.2, 0.0, 0.2, 0.0], atol=1e-6)


def test_a_path_traced_frame_does_not_depend_on_the_frames_rendered_before(renderer):
    """The path tracer samples a plastic material by its texture's mean, and an atlas is one texture for ~100
    slots: a tile left by an earlier, fuller frame changed later path-traced frames' colour (v10 and before).
    A frame rendered after a scene with 40 more white clutter boxes must equal the same frame rendered before."""
    from litedepth_hf.synthetic.render import OWN_SLOTS

    def clutter(count, z, material):
        return [synthetic.Box(np.array([(k % 8 - 3.5) * 0.3, (k // 8 - 2.5) * 0.3, z], np.float32), np.full(3, 0.22, np.float32),
                              np.eye(3, dtype=np.float32), material) for k in range(count)]

    hidden = clutter(OWN_SLOTS - 1, -5.0, GREY)  # the wall and these take the slots with materials of their own
    frame = _scene([_wall(5.0)] + hidden + clutter(8, 3.0, GREY), _camera())
    frame.path_traced = True
    fuller = _scene([_wall(5.0)] + hidden + clutter(48, -3.0, WHITE), _camera())
    before = renderer.render(frame, seed=3)[0]
    renderer.render(fuller, seed=4)
    after = renderer.render(frame, seed=3)[0]
    np.testing.assert_array_equal(after, before)


def _pinhole_zbuffer(vertices, faces, camera, height, width):
    """Software z-buffer of a triangle mesh at pixel centres (pinhole, the intrinsics' convention): z in
    metres, 0 where no triangle covers the centre. 1/z is affine in the image, so it is what is interpolated."""
    intrinsics = camera.intrinsics(height, width)
    cam = (vertices - camera.origin) @ camera.rotation
    u = intrinsics["fx"] * cam[:, 0] / cam[:, 2] + intrinsics["cx"]
    v = intrinsics["fy"] * cam[:, 1] / cam[:, 2] + intrinsics["cy"]
    inverse = np.zeros((height, width))
    for a, b, c in faces:
        xs, ys = u[[a, b, c]], v[[a, b, c]]
        x0, x1 = max(int(np.ceil(xs.min())), 0), min(int(np.floor(xs.max())), width - 1)
        y0, y1 = max(int(np.ceil(ys.min())), 0), min(int(np.floor(ys.max())), height - 1)
        if x0 > x1 or y0 > y1:
            continue
        py, px = np.mgrid[y0:y1 + 1, x0:x1 + 1]
        det = (ys[1] - ys[2]) * (xs[0] - xs[2]) + (xs[2] - xs[1]) * (ys[0] - ys[2])
        if abs(det) < 1e-12:
            continue
        w0 = ((ys[1] - ys[2]) * (px - xs[2]) + (xs[2] - xs[1]) * (py - ys[2])) / det
        w1 = ((ys[2] - ys[0]) * (px - xs[2]) + (xs[0] - xs[2]) * (py - ys[2])) / det
        w2 = 1 - w0 - w1
        inside = (w0 >= 0) & (w1 >= 0) & (w2 >= 0)
        inv = w0 / cam[a, 2] + w1 / cam[b, 2] + w2 / cam[c, 2]
        region = inverse[y0:y1 + 1, x0:x1 + 1]
        np.copyto(region, np.maximum(region, np.where(inside, inv, 0)))  # nearest surface: largest 1/z
    with np.errstate(divide="ignore"):
        return np.where(inverse > 0, 1 / inverse, 0.0)


@pytest.mark.parametrize("which", [0, 1], ids=["cube", "scanned"])
def test_mesh_covers_its_pinhole_projection_at_its_size_and_depth(renderer, meshes, which):
    if which >= len(meshes):
        pytest.skip("the scanned meshes of the project's data (shared/data/meshes) are not here (LITEDEPTH_DATA)")
    mesh = meshes[which]
    rotation = (_yaw_matrix(0.7) @ _rotation(np.random.default_rng(5))).astype(np.float32)
    distance = (0.9, 0.45)[which]  # the bottle is 19 cm tall: closer, so it covers a few hundred pixels
    placed = synthetic.MeshObject(which, np.array([0.05, 0.02, distance], np.float32), rotation, WHITE)
    camera = _camera(hfov=50.0, roll_deg=5.0, offset=(0.02, -0.01))
    _, depth = renderer.render(_scene([_wall(3.0)], camera, [placed]), seed=2)
    world = mesh.vertices @ rotation.T + placed.centre
    expected = _pinhole_zbuffer(world, mesh.faces, camera, *depth.shape)
    rendered, predicted = depth < 2.5, expected > 0
    assert predicted.sum() > 200
    iou = (rendered & predicted).sum() / (rendered | predicted).sum()
    assert iou >= 0.95, iou
    inner = predicted & rendered
    for axis in (0, 1):  # away from silhouettes, where one pixel may see either surface
        inner[1:-1] &= np.roll(predicted, 1, axis)[1:-1] & np.roll(predicted, -1, axis)[1:-1]
    # the depth pass takes one random point inside each pixel, not its centre: on a slanted face that moves z by
    # up to a pixel's footprint (~9 mm at 0.9 m here) times the slope
    error = np.abs(depth[inner] - expected[inner])
    assert np.median(error) < 0.001 and np.percentile(error, 95) < 0.015, (np.median(error), error.max())


def _assert_same(files: dict, reference: dict):
    """Every file byte for byte: colour too (Mitsuba's object merging once made light sampling depend on
    memory addresses, so about 1 process in 10 drew other colour grain; the template now loads unmerged)."""
    assert sorted(files) == sorted(reference)
    for name, data in reference.items():
        assert files[name] == data, name


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and p.name != "progress.jsonl"}


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory, train_dir, meshes):
    out = tmp_path_factory.mktemp("synth") / "set"
    mesh_folder = tmp_path_factory.mktemp("mesh_folder")
    (mesh_folder / "cube.obj").write_text(CUBE_OBJ)
    config = synthetic.SynthConfig(**TINY, textures=[str(train_dir)], meshes=[str(mesh_folder)], camera_model=True,
                                   variant=synthetic.import_mitsuba().variant())
    result = synthetic.synthesize(out, 6, config, workers=1, progress=False)
    return out, config, result


def test_same_seed_same_files_shards_and_resume(tiny_set, tmp_path):
    out, config, result = tiny_set
    assert result["rendered"] == 6 and len(result["rows"]) == 6
    again = tmp_path / "again"
    # fresh (spawned) processes: the reference was rendered in this one
    synthetic.synthesize(again, 6, config, workers=2, progress=False)
    reference = _files(out)
    _assert_same(_files(again), reference)
    # shards 0/2 and 1/2 are disjoint and together the same frames
    halves = [tmp_path / f"half{k}" for k in (0, 1)]
    for k, folder in enumerate(halves):
        synthetic.synthesize(folder, 6, config, shard=(k, 2), workers=2, progress=False)
    ids = [[r.split(",")[0] for r in (f / "manifest.csv").read_text().splitlines()[1:]] for f in halves]
    assert ids == [["000000", "000002", "000004"], ["000001", "000003", "000005"]]
    for folder in halves:
        files = _files(folder)
        _assert_same({k: v for k, v in files.items() if k.startswith(("rgb/", "depth/"))},
                     {k: reference[k] for k in files if k.startswith(("rgb/", "depth/"))})
    # an interrupted run (two frames lost, the log cut mid-line) resumes and ends with the same files; the cut
    # line's frame is kept on disk, so three frames render whichever worker wrote the log's last line
    log = again / "progress.jsonl"
    cut = json.loads(log.read_text().splitlines()[-1])["id"]
    for frame in [f for f in ("000003", "000004", "000005") if f != cut][:2]:
        (again / "rgb" / f"{frame}.png").unlink()
    log.write_text(log.read_text()[:-20])
    resumed = synthetic.synthesize(again, 6, config, workers=1, progress=False)
    assert resumed["rendered"] == 3 and resumed["skipped"] == 3
    _assert_same(_files(again), reference)
    with pytest.raises(FileExistsError, match="holds a dataset started with --num 6: --num 4 would cut its manifest"):
        synthetic.synthesize(again, 4, config, workers=1, progress=False)  # checked before any frame renders
    _assert_same(_files(again), reference)


def test_folder_loads_with_per_row_intrinsics_that_reach_the_losses(tiny_set):
    from litedepth_hf.augmentation import AugmentConfig
    from litedepth_hf.data import example_arrays, load_depth_dataset
    from litedepth_hf.losses import virtual_normal
    from litedepth_hf.training import RGBDDataset, pad_collate

    out, config, result = tiny_set
    dataset = load_depth_dataset(out)
    assert len(dataset) == 6
    rows = result["rows"]
    assert len({r["fx"] for r in rows}) > 1  # the field of view varies per frame
    for example, row in zip(dataset, rows):
        rgb, depth, intrinsics = example_arrays(example)
        assert rgb.shape == (24, 32, 3) and depth.shape == (24, 32)
        assert intrinsics["fx"] == pytest.approx(float(row["fx"]), rel=1e-4)
        assert intrinsics["cy"] == pytest.approx(float(row["cy"]), rel=1e-4)
        stored = np.asarray(Image.open(out / row["depth"]), np.float32) / synthetic.DEPTH_SCALE
        assert np.array_equal(depth, stored) and (depth > 0).mean() > 0.5
    train = RGBDDataset(dataset, train=True, augment_config=AugmentConfig(crop="fixed", rotation_p=0.0,
                                                                                    flip_p=0.0))
    batch = pad_collate([train[i] for i in range(6)])
    expected = torch.tensor([[float(r[k]) for k in ("fx", "fy", "cx", "cy")] for r in rows])
    assert torch.allclose(batch["intrinsics"], expected, rtol=1e-4)
    labels = batch["labels"]
    predicted = labels * (1 + 0.1 * torch.linspace(0, 1, labels.shape[-1]))  # a tilted error
    generator = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    with_rows = virtual_normal(predicted, labels, batch["intrinsics"], generator=generator())
    without = virtual_normal(predicted, labels, torch.full_like(batch["intrinsics"], math.nan), generator=generator())
    assert with_rows > 0 and not torch.isclose(with_rows, without)


def test_trains_a_step_through_the_training_script(tiny_set, tmp_path):
    out, _, _ = tiny_set
    train = importlib.import_module("litedepth_hf.train")
    run = tmp_path / "run"
    train.main(["--train_data", str(out), "--output_dir", str(run), "--max_steps", "2",
                "--per_device_train_batch_size", "3", "--report_to", "none", "--save_strategy", "no",
                "--logging_steps", "1"])
    record = json.loads((run / "training_run.json").read_text())
    losses = [e["loss"] for e in record["log_history"] if "loss" in e]
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses)


def test_bad_input_is_one_line_and_loses_nothing(tiny_set, tmp_path, capsys):
    out, _, _ = tiny_set
    before = _files(out)
    cases = [
        (["--num", "0"], "--num must be a positive"),
        (["--num", "-3"], "--num must be a positive"),
        (["--num", "2", "--size", "240by320"], "--size must be HEIGHTxWIDTH"),
        (["--num", "2", "--shard", "3/2"], "--shard must be K/N"),
        (["--num", "2", "--size", "24x32", "--seed", "5"], "holds another dataset"),
    ]
    empty = tmp_path / "no_images"
    empty.mkdir()
    (empty / "notes.txt").write_text("no pictures here")
    cases.append((["--num", "2", "--textures", str(empty)], "holds no images"))
    cases.append((["--num", "2", "--meshes", str(empty)], "holds no .obj files"))
    cases.append((["--num", "2", "--meshes", str(tmp_path / "nowhere")], "mesh folder not found"))
    for extra, message in cases:
        target = str(out) if "another" in message else str(tmp_path / "new")
        code = cli_main(["synth", "--out", target] + extra)
        error = capsys.readouterr().err.strip()
        assert code == 2 and message in error and len(error.splitlines()) == 1, error
    assert _files(out) == before
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "mine.txt").write_text("keep me")
    assert cli_main(["synth", "--out", str(stranger), "--num", "1"]) == 2
    assert "holds no synthetic dataset" in capsys.readouterr().err
    assert (stranger / "mine.txt").read_text() == "keep me"


def test_missing_mitsuba_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mitsuba", None)  # what an install without the extra sees
    with pytest.raises(RuntimeError, match=r"litedepth-hf\[synth\]"):
        synthetic.import_mitsuba("scalar_rgb")


def test_two_sources_a_synthetic_and_a_real_one_reduce_the_loss(tiny_set, train_dir, tmp_path):
    out, _, _ = tiny_set
    train = importlib.import_module("litedepth_hf.train")
    run = tmp_path / "mixed"
    train.main(["--train_data", f"{out},{train_dir}", "--train_mix", f"{out.name}=0.5,tum_fr1_rpy=0.5",
                "--max_train_samples", "12", "--epoch_size", "16", "--num_train_epochs", "15",
                "--per_device_train_batch_size", "4", "--warmup_steps", "4", "--logging_steps", "4",
                "--loss_weighting", "fixed", "--crop", "fixed", "--output_dir", str(run), "--report_to", "none",
                "--save_strategy", "no", "--decoded_cache", str(tmp_path / "cache")])
    record = json.loads((run / "training_run.json").read_text())
    losses = [e["loss"] for e in record["log_history"] if "loss" in e]
    assert len(losses) >= 10 and all(math.isfinite(v) for v in losses)
    assert sum(losses[-3:]) / 3 < 0.85 * sum(losses[:3]) / 3, losses
    assert (tmp_path / "cache").is_dir() and any((tmp_path / "cache").rglob("rgb.u8"))


def test_without_textures_no_image_is_read_and_meta_names_the_sources(tiny_set, tmp_path, monkeypatch):
    out, config, _ = tiny_set
    meta = json.loads((out / "meta.json").read_text())
    assert meta["generator_version"] == synthetic.GENERATOR_VERSION
    assert meta["texture_sources"][0]["files"] == 16 and meta["mesh_sources"][0]["files"] == 1
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda path, *a, **k: opened.append(str(path)) or real_open(path, *a, **k))
    bare = synthetic.SynthConfig(**TINY, variant=config.variant)
    result = synthetic.synthesize(tmp_path / "bare", 2, bare, workers=1, progress=False)
    assert result["rendered"] == 2 and opened == []
    assert json.loads((tmp_path / "bare" / "meta.json").read_text())["texture_sources"] == []
