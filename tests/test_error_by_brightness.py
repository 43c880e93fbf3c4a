"""scripts/error_by_brightness.py: how far off a model is on dark, mid and bright pixels.

Not `core`: the script reads folders through the `datasets` loader, which the bare install lacks."""


import conftest
import numpy as np
import pytest
import torch

from litedepth_hf import DEFAULT_CHECKPOINT, LiteDepthForDepthEstimation, LiteDepthImageProcessor


def _rows(stdout: str) -> dict:
    """{(folder, band): (frames, bias, share)} from the printed markdown table."""
    lines = stdout.splitlines()
    assert lines[1] == "|---" * 5 + "|"
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    return {(r[0], r[1]): (int(r[2]), float(r[3]), float(r[4])) for r in rows}


def test_a_model_that_sees_one_flat_distance_is_off_exactly_where_the_scene_is_not_flat(tmp_path):
    """A model whose last layer is zeroed predicts one depth everywhere; on frames whose dark quarter is 2 m away
    and the rest 1 m, median scaling puts the bright pixels right and the dark ones log 2 too near."""
    model = LiteDepthForDepthEstimation.from_pretrained(DEFAULT_CHECKPOINT)
    with torch.no_grad():
        model.decoder.head_out.weight.zero_()
    model.save_pretrained(tmp_path / "flat")
    LiteDepthImageProcessor.from_pretrained(DEFAULT_CHECKPOINT).save_pretrained(tmp_path / "flat")
    rgb = np.full((120, 160, 3), 230, np.uint8)
    depth = np.full((120, 160), 5000, np.uint16)
    rgb[:, :40], depth[:, :40] = 10, 10000  # the dark quarter, twice as far
    folder = conftest.manifest_folder(tmp_path / "frames", rgb, depth, frames=2)
    rows = _rows(conftest.run_script("error_by_brightness", folder, "--model", tmp_path / "flat").stdout)
    frames, bias, share = rows["frames", "dark (< 0.1)"]
    assert frames == 2 and bias == pytest.approx(-np.log(2), abs=0.02) and share == 1.0
    frames, bias, share = rows["frames", "bright (>= 0.6)"]
    assert frames == 2 and abs(bias) < 0.02 and share == 0.0
    assert rows["frames", "mid"][0] == 0  # no mid-grey pixels: no frames, no numbers


def test_the_default_on_real_frames_and_a_missing_folder_as_one_line(tmp_path, train_dir):
    rows = _rows(conftest.run_script("error_by_brightness", train_dir).stdout)
    assert sum(frames for (_, _), (frames, _, _) in rows.items()) > 0
    assert all(0.0 <= share <= 1.0 for (_, _), (frames, _, share) in rows.items() if frames)
    result = conftest.run_script("error_by_brightness", tmp_path / "nowhere", check=False)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
