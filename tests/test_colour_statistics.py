"""scripts/colour_statistics.py: the numbers that put renders beside real frames."""

import conftest
import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.core


def _rows(stdout: str) -> dict:
    """{folder: [values]} from the printed markdown table (a header, its rule, a row per folder)."""
    lines = stdout.splitlines()
    assert lines[1] == "|---" * 6 + "|" and all(line.count("|") == 7 for line in lines)
    rows = [line.strip("|").split("|") for line in lines[2:]]
    return {cells[0].strip(): [float(c) for c in cells[1:]] for cells in rows}


def test_flat_grey_has_no_colour_contrast_or_edges_and_real_frames_do(tmp_path, train_dir):
    flat = tmp_path / "flat"
    (flat / "rgb").mkdir(parents=True)
    lines = ["id,rgb"]
    for k in range(3):
        Image.fromarray(np.full((48, 64, 3), 128, np.uint8)).save(flat / "rgb" / f"{k}.png")
        lines.append(f"{k},rgb/{k}.png")
    (flat / "manifest.csv").write_text("\n".join(lines) + "\n")
    rows = _rows(conftest.run_script("colour_statistics", flat, train_dir, "--frames", "4").stdout)
    saturation, saturated, mean, std, gradient = rows["flat"]
    assert saturation == saturated == std == gradient == 0.0 and mean == pytest.approx(128 / 255, abs=0.002)
    saturation, saturated, mean, std, gradient = rows[train_dir.name]
    assert 0.05 < saturation < 0.6 and 0.1 < mean < 0.9 and std > 0.1 and gradient > 0.01


def test_a_folder_without_manifest_is_one_line(tmp_path):
    result = conftest.run_script("colour_statistics", tmp_path, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == f"colour_statistics: {tmp_path} has no manifest.csv"
