"""scripts/colour_statistics.py: the numbers that put renders beside real frames."""

import json

import conftest
import numpy as np
import pytest
from PIL import Image

from litedepth_hf.synthetic.config import GENERATOR

pytestmark = pytest.mark.core


def _rows(stdout: str) -> dict:
    """{folder: [values]} from the printed markdown table (a header, its rule, a row per folder)."""
    lines = stdout.splitlines()
    assert lines[1] == "|---" * 6 + "|" and all(line.count("|") == 7 for line in lines)
    rows = [line.strip("|").split("|") for line in lines[2:]]
    return {cells[0].strip(): [float(c) for c in cells[1:]] for cells in rows}


def _flat_grey(folder, meta: dict):
    """Three mid-grey frames (and flat depth) as a manifest folder."""
    (folder / "rgb").mkdir(parents=True)
    lines = ["id,rgb,depth"]
    for k in range(3):
        Image.fromarray(np.full((48, 64, 3), 128, np.uint8)).save(folder / "rgb" / f"{k}.png")
        Image.fromarray(np.full((48, 64), 5000, np.uint16)).save(folder / "rgb" / f"{k}_depth.png")
        lines.append(f"{k},rgb/{k}.png,rgb/{k}_depth.png")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    (folder / "meta.json").write_text(json.dumps({"depth_scale": 5000, **meta}))
    return folder


def test_flat_grey_has_no_colour_contrast_or_edges_and_real_frames_do(tmp_path, train_dir):
    flat = _flat_grey(tmp_path / "flat", {})
    rows = _rows(conftest.run_script("colour_statistics", flat, train_dir, "--frames", "4").stdout)
    saturation, saturated, mean, std, gradient = rows["flat"]
    assert saturation == saturated == std == gradient == 0.0 and mean == pytest.approx(128 / 255, abs=0.002)
    saturation, saturated, mean, std, gradient = rows[train_dir.name]
    assert 0.05 < saturation < 0.6 and 0.1 < mean < 0.9 and std > 0.1 and gradient > 0.01


def test_a_folder_without_manifest_is_one_line(tmp_path):
    result = conftest.run_script("colour_statistics", tmp_path, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == f"colour_statistics: {tmp_path} is not a manifest dataset: manifest.csv is missing"


def test_camera_model_changes_renders_only_and_is_repeatable(tmp_path, train_dir):
    """--camera-model shows what training feeds the network: a flat grey render gains colour and noise, the
    same numbers on every run; real frames are measured as they are."""
    rendered = _flat_grey(tmp_path / "rendered", {"generator": GENERATOR})
    args = ("colour_statistics", rendered, train_dir, "--frames", "4")
    plain = _rows(conftest.run_script(*args).stdout)
    seen = _rows(conftest.run_script(*args, "--camera-model").stdout)
    assert plain["rendered"][0] == plain["rendered"][3] == 0.0
    assert seen["rendered"][0] > 0.0 and seen["rendered"][3] > 0.0
    assert seen == _rows(conftest.run_script(*args, "--camera-model").stdout)
    assert seen[train_dir.name] == plain[train_dir.name]
