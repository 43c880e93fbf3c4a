"""scripts/score_run.py: a run scored on its last checkpoints, each evaluated once.

Not `core`: scoring reads the dev folders through the `datasets` loader, which the bare install lacks."""

import json
import shutil
from pathlib import Path

import conftest
import numpy as np
import pytest

from litedepth_hf import DEFAULT_CHECKPOINT as DEFAULT

DEFAULT_CHECKPOINT = Path(DEFAULT)
FOLDERS = ("tum_fr3_cabinet", "tum_fr3_long_office_household", "tum_fr2_desk", "icl_livingroom")


def _checkpoint(folder):
    """A checkpoint folder holding the default's weights and config."""
    folder.mkdir(parents=True)
    for name in ("model.safetensors", "config.json", "preprocessor_config.json"):
        shutil.copy(DEFAULT_CHECKPOINT / name, folder / name)
    return folder


def _metrics(folder, label, overall, per_folder, scale):
    """A dev_eval/metrics.json as evaluate_dev.py writes it, with the given si-RMSE values."""
    (folder / "dev_eval").mkdir(parents=True)
    folders = {f"/data/{name}": {"results": {label: {"si_rmse": value}}} for name, value in zip(FOLDERS, per_folder)}
    record = {"results": {label: {"si_rmse": overall, "median_scale": scale}}, "folders": folders}
    (folder / "dev_eval" / "metrics.json").write_text(json.dumps(record))


def _rows(stdout: str) -> dict:
    lines = stdout.splitlines()
    assert lines[1] == "|---" * 7 + "|"
    rows = (line.strip("|").split("|") for line in lines[2:])
    return {cells[0].strip(): [float(c) for c in cells[1:]] for cells in rows}


def test_scores_already_made_are_read_not_remade_and_summarised(tmp_path):
    """Three checkpoints: two scored, the last one the run's own final weights, scored in RUN/dev_eval; a run
    that had to be evaluated here would take minutes and print other numbers."""
    run = tmp_path / "run"
    _metrics(_checkpoint(run / "checkpoint-800"), str(run / "checkpoint-800"), 0.30, (0.2, 0.3, 0.4, 0.3), 0.9)
    _metrics(_checkpoint(run / "checkpoint-1600"), str(run / "checkpoint-1600"), 0.20, (0.1, 0.2, 0.3, 0.2), 1.0)
    _checkpoint(run / "checkpoint-2400")
    shutil.copy(DEFAULT_CHECKPOINT / "model.safetensors", run / "model.safetensors")
    _metrics(run, str(run), 0.10, (0.05, 0.1, 0.15, 0.1), 1.1)
    _checkpoint(run / "checkpoint-90")  # older than the last three by step, newer by name: not read
    rows = _rows(conftest.run_script("score_run", run, "--last", "3").stdout)
    assert list(rows) == ["800", "1600", "2400", "mean", "std"]  # by step
    assert [rows[s][0] for s in ("800", "1600", "2400")] == [0.30, 0.20, 0.10]
    assert rows["mean"] == pytest.approx([0.2, 0.1167, 0.2, 0.2833, 0.2, 1.0], abs=1e-4)
    assert rows["std"][0] == pytest.approx(np.std([0.3, 0.2, 0.1], ddof=1), abs=1e-4)
    saved = json.loads((run / "checkpoint_scores.json").read_text())
    assert saved["mean"]["overall"] == pytest.approx(0.2) and list(saved["steps"]) == ["800", "1600", "2400"]


def test_an_unscored_checkpoint_is_scored_as_evaluate_dev_scores_the_default(tmp_path, shared_data):
    """A checkpoint holding the default's weights scores what docs/default_checkpoint/metrics.json says."""
    _checkpoint(tmp_path / "run" / "checkpoint-800")
    rows = _rows(conftest.run_script("score_run", tmp_path / "run", "--last", "1").stdout)
    shipped = json.loads((conftest.ROOT / "docs" / "default_checkpoint" / "metrics.json").read_text())
    default = shipped["results"]["litedepth_hf/checkpoints/litedepth-synth"]
    assert rows["800"][0] == pytest.approx(default["si_rmse"], abs=1e-4)
    assert (tmp_path / "run" / "checkpoint-800" / "dev_eval" / "metrics.json").is_file()


def test_too_few_checkpoints_a_bad_count_or_scores_of_another_model_is_one_line(tmp_path):
    run = tmp_path / "run"
    _metrics(_checkpoint(run / "checkpoint-800"), "/elsewhere/other-model", 0.3, (0.2, 0.3, 0.4, 0.3), 0.9)
    for last in ("2", "0", "-1", "1"):  # the last: checkpoint-800's scores name another model
        result = conftest.run_script("score_run", run, "--last", last, check=False)
        assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, (last, result.stderr)
    assert not (run / "checkpoint_scores.json").exists()
