"""scripts/colour_statistics.py: the numbers that put renders beside real frames.

Not `core`: the script reads folders through the `datasets` loader, which the bare install lacks."""


import conftest
import numpy as np
import pytest

from litedepth_hf.synthetic.config import GENERATOR


def _rows(stdout: str) -> dict:
    """{folder: [values]} from the printed markdown table (a header, its rule, a row per folder)."""
    lines = stdout.splitlines()
    assert lines[1] == "|---" * 8 + "|" and all(line.count("|") == 9 for line in lines)
    rows = [line.strip("|").split("|") for line in lines[2:]]
    return {cells[0].strip(): [c.strip() if c.strip() == "n/a" else float(c) for c in cells[1:]] for cells in rows}


def _folder(folder, meta: dict, rgb=None, depth=None):
    """Three identical frames as a manifest folder: mid-grey and flat at 1 m unless given (120x160 arrays)."""
    rgb = np.full((120, 160, 3), 128, np.uint8) if rgb is None else rgb
    depth = np.full((120, 160), 5000, np.uint16) if depth is None else depth
    return conftest.manifest_folder(folder, rgb, depth, meta)


def test_flat_grey_has_no_colour_contrast_or_edges_and_real_frames_do(tmp_path, train_dir):
    flat = _folder(tmp_path / "flat", {})
    rows = _rows(conftest.run_script("colour_statistics", flat, train_dir, "--frames", "4").stdout)
    saturation, saturated, mean, std, dark, gradient, on_depth_edges = rows["flat"]
    assert saturation == saturated == std == dark == gradient == 0.0 and mean == pytest.approx(128 / 255, abs=0.002)
    assert on_depth_edges == "n/a"  # no edges to place
    saturation, saturated, mean, std, dark, gradient, on_depth_edges = rows[train_dir.name]
    assert 0.05 < saturation < 0.6 and 0.1 < mean < 0.9 and std > 0.1 and 0.0 < dark < 0.5 and gradient > 0.01
    assert 0.02 < on_depth_edges < 0.6


def test_edges_count_on_depth_edges_only_where_the_scene_has_one(tmp_path):
    """A grey step over a depth step is an edge of the scene; the same step painted on a flat wall is not."""
    step = np.full((120, 160, 3), 40, np.uint8)
    step[:, 80:] = 200
    near_far = np.full((120, 160), 5000, np.uint16)
    near_far[:, 80:] = 10000
    _folder(tmp_path / "object", {}, step, near_far)
    _folder(tmp_path / "painted", {}, step)
    rows = _rows(conftest.run_script("colour_statistics", tmp_path / "object", tmp_path / "painted").stdout)
    assert rows["object"][6] == 1.0 and rows["painted"][6] == 0.0


def test_a_folder_without_manifest_is_one_line(tmp_path):
    result = conftest.run_script("colour_statistics", tmp_path, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == f"colour_statistics: {tmp_path} is not a manifest dataset: manifest.csv is missing"


def test_camera_model_changes_renders_only_and_is_repeatable(tmp_path, train_dir):
    """--camera-model shows what training feeds the network: a flat grey render gains colour and noise, the
    same numbers on every run; real frames are measured as they are."""
    rendered = _folder(tmp_path / "rendered", {"generator": GENERATOR})
    args = ("colour_statistics", rendered, train_dir, "--frames", "4")
    plain = _rows(conftest.run_script(*args).stdout)
    seen = _rows(conftest.run_script(*args, "--camera-model").stdout)
    assert plain["rendered"][0] == plain["rendered"][3] == 0.0
    assert seen["rendered"][0] > 0.0 and seen["rendered"][3] > 0.0
    assert seen == _rows(conftest.run_script(*args, "--camera-model").stdout)  # "n/a" compares equal, as text
    assert seen[train_dir.name] == plain[train_dir.name]
