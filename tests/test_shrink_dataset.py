"""scripts/shrink_dataset.py: a smaller copy every loader reads, with real GT values and scaled intrinsics."""

import csv
import json

import conftest
import numpy as np
import pytest
from PIL import Image

from litedepth_hf.data import example_arrays, load_depth_dataset


def test_shrunk_copy_keeps_gt_values_and_scales_intrinsics(train_dir, tmp_path):
    out = tmp_path / "small"
    conftest.run_script("shrink_dataset", train_dir, out, "--factor", "2", "--num", "4")
    meta, source_meta = (json.loads((d / "meta.json").read_text()) for d in (out, train_dir))
    assert meta["depth_scale"] == 1000.0 and meta["num_pairs"] == 4
    for key in ("fx", "fy", "cx", "cy"):
        assert meta[key] == pytest.approx(source_meta[key] / 2)
    rows = list(csv.DictReader((train_dir / "manifest.csv").open()))
    kept = list(csv.DictReader((out / "manifest.csv").open()))
    step = len(rows) // 4
    assert [r["id"] for r in kept] == [r["id"] for r in rows[::step][:4]]  # evenly spaced, in order
    small, full = load_depth_dataset(out), load_depth_dataset(train_dir)
    for i in range(4):
        rgb, depth, intrinsics = example_arrays(small[i])
        big_rgb, big_depth, _ = example_arrays(full[i * step])
        assert rgb.shape == (240, 320, 3) and depth.shape == (240, 320)
        expected = big_depth[::2, ::2]
        assert np.array_equal(depth == 0, expected == 0)  # holes stay holes, no value is invented
        assert np.abs(depth - expected).max() <= 0.0005 + 1e-6  # millimetre storage
        box = np.asarray(Image.fromarray(big_rgb).reduce(2), np.float32)
        assert np.abs(rgb.astype(np.float32) - box).mean() < 3.0  # JPEG of the box-filtered frame
        assert intrinsics["fx"] == pytest.approx(source_meta["fx"] / 2)


def test_shrink_refuses_a_folder_with_files(train_dir, tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = conftest.run_script("shrink_dataset", train_dir, out, "--num", "2", check=False)
    assert result.returncode != 0 and "not empty" in result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_factor_that_does_not_divide_the_frame_keeps_whole_cells(train_dir, tmp_path):
    out = tmp_path / "thirds"
    conftest.run_script("shrink_dataset", train_dir, out, "--factor", "3", "--num", "1")
    rgb, depth, _ = example_arrays(load_depth_dataset(out)[0])
    big_rgb, big_depth, _ = example_arrays(load_depth_dataset(train_dir)[0])
    assert rgb.shape == (160, 213, 3) and depth.shape == (160, 213)  # 640 / 3: 213 whole cells, no padding
    assert np.array_equal(depth == 0, big_depth[:480:3, :639:3] == 0)
    box = np.asarray(Image.fromarray(big_rgb).crop((0, 0, 639, 480)).reduce(3), np.float32)
    assert np.abs(rgb[:, -1].astype(np.float32) - box[:, -1]).mean() < 3.0  # the last column is image, not black
