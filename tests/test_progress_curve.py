"""docs/runs.json (the record behind docs/progress.png) and scripts/progress_curve.py (which needs matplotlib, of
the `train` extra: its test is not `core`)."""

import json

import conftest
import pytest
from PIL import Image

RECORD = conftest.ROOT / "docs" / "runs.json"


@pytest.mark.core
def test_the_record_names_the_shipped_default_with_its_measured_scores():
    """The run marked default carries the embedded checkpoint's own dev scores, so a new default cannot ship while
    the progress picture still shows the old one."""
    record = json.loads(RECORD.read_text())
    defaults = [run for run in record["runs"] if run.get("default")]
    assert len(defaults) == 1
    shipped = json.loads((conftest.ROOT / "litedepth_hf" / "checkpoints" / "litedepth-synth" / "dev_metrics.json").read_text())
    for folder, scores in shipped["folders"].items():
        name = folder.rstrip("/").split("/")[-1]
        (result,) = scores["results"].values()
        assert defaults[0]["si_rmse"][name] == pytest.approx(result["si_rmse"], abs=6e-5), name
        assert defaults[0]["median_scale"][name] == pytest.approx(result["median_scale"], abs=0.006), name
    (overall,) = shipped["results"].values()
    assert defaults[0]["si_rmse"]["overall"] == pytest.approx(overall["si_rmse"], abs=6e-5)


def test_the_picture_is_drawn_from_the_record_and_a_bad_record_is_one_line(tmp_path):
    out = tmp_path / "progress.png"
    result = conftest.run_script("progress_curve", "--out", out)
    assert f"{len(json.loads(RECORD.read_text())['runs'])} runs" in result.stdout
    assert Image.open(out).size[0] > 1000
    bad = json.loads(RECORD.read_text())
    bad["runs"].append({"label": "a folder with no baseline", "si_rmse": {"somewhere_else": 0.1}})
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    result = conftest.run_script("progress_curve", "--runs", tmp_path / "bad.json", "--out", tmp_path / "b.png",
                                 check=False)
    assert result.returncode == 1 and not (tmp_path / "b.png").exists()
    assert result.stderr.count("\n") == 1 and "somewhere_else" in result.stderr
