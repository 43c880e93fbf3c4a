"""Dataset loaders on the real frames: manifest, MAI-style folders, saved 🤗 datasets; depth in metres."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from litedepth_hf.data import depth_in_metres, example_arrays, load_depth_dataset


def test_manifest_folder(train_dir):
    dataset = load_depth_dataset(train_dir)
    assert len(dataset) == 16
    rgb, depth, intrinsics = example_arrays(dataset[0])
    assert rgb.shape == (480, 640, 3) and rgb.dtype == np.uint8
    assert depth.shape == (480, 640) and depth.dtype == np.float32
    raw = np.asarray(Image.open(train_dir / "depth" / "0000.png"))
    np.testing.assert_allclose(depth, raw / 5000.0, rtol=1e-6)
    assert intrinsics == pytest.approx({"fx": 517.3, "fy": 516.5, "cx": 318.6, "cy": 255.3})


def test_mai_layout_in_millimetres_gives_the_same_metres(train_dir, tmp_path):
    for sub in ("rgb", "depth"):
        (tmp_path / sub).mkdir()
    for name in ("0000", "0041"):
        shutil.copy(train_dir / "rgb" / f"{name}.jpg", tmp_path / "rgb" / f"{name}.jpg")
        tum = np.asarray(Image.open(train_dir / "depth" / f"{name}.png")).astype(np.float64)
        Image.fromarray(np.round(tum / 5.0).astype(np.uint16)).save(tmp_path / "depth" / f"{name}.png")  # mm
    dataset = load_depth_dataset(tmp_path, depth_scale=1000.0)
    reference = load_depth_dataset(train_dir)
    _, mai, intrinsics = example_arrays(dataset[1])
    _, tum, _ = example_arrays(reference[1])
    assert intrinsics is None
    assert np.abs(mai - tum).max() <= 0.0006  # rounding to whole millimetres
    with pytest.raises(ValueError, match="depth_scale"):
        load_depth_dataset(tmp_path)


def test_saved_datasets_folder_and_float_depth(tmp_path):
    import datasets

    depth = np.full((8, 10), 2.5, np.float32)
    depth[0, 0], depth[1, 1], depth[2, 2] = np.nan, np.inf, -1
    table = datasets.Dataset.from_dict({"image": [Image.new("RGB", (10, 8))], "depth": [Image.fromarray(depth)]})
    table.save_to_disk(tmp_path / "saved")
    dataset = load_depth_dataset(tmp_path / "saved")
    _, metres, _ = example_arrays(dataset[0])
    assert metres[0, 0] == 0 and metres[1, 1] == 0 and metres[2, 2] == 0 and metres[3, 3] == 2.5


def test_depth_conversion_rejects_bad_input():
    with pytest.raises(ValueError, match="depth_scale"):
        depth_in_metres(np.ones((2, 2)), 0)
    with pytest.raises(ValueError, match="single-channel"):
        depth_in_metres(np.ones((2, 2, 3)), 1.0)


def test_missing_and_broken_folders_name_the_problem(tmp_path, train_dir, monkeypatch):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_depth_dataset(tmp_path / "nope")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    for typo in ("runs/renderz", "runs/no_such/folder", "~/no_such_folder"):  # local typos, never Hub ids
        with pytest.raises(FileNotFoundError, match=f"Dataset folder not found: {typo}"):
            load_depth_dataset(typo)
    monkeypatch.setenv("HOME", str(tmp_path))  # a ~ the shell left alone (a recipe file, --flag=~/x) is expanded
    (tmp_path / "runs" / "desk").symlink_to(train_dir, target_is_directory=True)
    assert len(load_depth_dataset("~/runs/desk")) == len(load_depth_dataset(train_dir))
    monkeypatch.undo()
    (tmp_path / "runs" / "desk").unlink()
    (tmp_path / "runs").rmdir()
    (tmp_path / "rgb").mkdir()
    (tmp_path / "depth").mkdir()
    shutil.copy(train_dir / "rgb" / "0000.jpg", tmp_path / "rgb" / "a.jpg")
    shutil.copy(train_dir / "depth" / "0000.png", tmp_path / "depth" / "b.png")
    with pytest.raises(ValueError, match="no partner"):
        load_depth_dataset(tmp_path, depth_scale=5000)
    bad = tmp_path / "manifest_set"
    bad.mkdir()
    (bad / "manifest.csv").write_text("id,rgb,depth\nx,rgb/x.png,depth/x.png\n")
    with pytest.raises(FileNotFoundError, match="meta.json"):
        load_depth_dataset(bad)


def _copy_frames(train_dir, root, ids=("0000", "0041", "0082")):
    """A manifest folder with a few real frames, safe to modify."""
    import csv

    (root / "rgb").mkdir(parents=True)
    (root / "depth").mkdir()
    shutil.copy(train_dir / "meta.json", root / "meta.json")
    with (train_dir / "manifest.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["id"] in ids]
    with (root / "manifest.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        for key in ("rgb", "depth"):
            shutil.copy(train_dir / row[key], root / row[key])
    return root


def test_decoded_cache_is_bit_exact_and_rebuilt_when_a_file_changes(train_dir, tmp_path):
    import os

    from litedepth_hf.data import DecodedFrames

    root = _copy_frames(train_dir, tmp_path / "data")
    cache = tmp_path / "cache"
    dataset = load_depth_dataset(root)
    store = DecodedFrames(dataset, cache, progress=False)
    assert store.decoded_count == 3
    for i in range(3):
        rgb, depth, intrinsics = example_arrays(dataset[i])
        cached = store.arrays(i)
        assert cached[0].dtype == rgb.dtype and np.array_equal(cached[0], rgb)
        assert cached[1].dtype == depth.dtype and np.array_equal(cached[1], depth)
        assert cached[2] == intrinsics
    assert DecodedFrames(dataset, cache, progress=False).decoded_count == 0  # read back, not decoded
    depth_file = root / "depth" / "0041.png"
    os.utime(depth_file, ns=(1, 1))  # touched, content the same: no decoding
    assert DecodedFrames(dataset, cache, progress=False).decoded_count == 0
    changed = np.asarray(Image.open(depth_file)).copy()
    changed[:100] = 0
    Image.fromarray(changed).save(depth_file)
    store = DecodedFrames(dataset, cache, progress=False)
    assert store.decoded_count == 1
    assert np.array_equal(store.arrays(1)[1], example_arrays(dataset[1])[1])
    assert np.all(store.arrays(1)[1][:100] == 0)
    assert np.array_equal(store.arrays(0)[1], example_arrays(dataset[0])[1])


def test_sources_expand_globs_and_commas_and_name_clashes(train_dir, tmp_path):
    from litedepth_hf.data import expand_sources

    for name in ("synth_a", "synth_b"):
        (tmp_path / name).mkdir()
    found = expand_sources([f"{tmp_path}/synth_*,{train_dir}"])
    assert [Path(p).name for p in found] == ["synth_a", "synth_b", "tum_fr1_rpy"]
    with pytest.raises(FileNotFoundError, match="matches no folder"):
        expand_sources([f"{tmp_path}/nothing_*"])
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "synth_a").mkdir()
    with pytest.raises(ValueError, match="share the name"):
        expand_sources([str(tmp_path / "synth_a"), str(tmp_path / "other" / "synth_a")])
