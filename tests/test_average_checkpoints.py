"""scripts/average_checkpoints.py: the mean of a run's last checkpoints, as a model folder that loads."""

import json

import conftest
import pytest
import torch
from safetensors.torch import load_file

from litedepth_hf import DEFAULT_CHECKPOINT, LiteDepthForDepthEstimation, LiteDepthImageProcessor

pytestmark = pytest.mark.core


def _run(folder, steps):
    """A run folder as the Trainer leaves it: checkpoint-STEP folders whose weights are the default's times STEP/1000,
    and a training_run.json."""
    model = LiteDepthForDepthEstimation.from_pretrained(DEFAULT_CHECKPOINT)
    base = {k: v.clone() for k, v in model.state_dict().items()}
    for step in steps:
        with torch.no_grad():
            for name, tensor in model.state_dict().items():
                if tensor.is_floating_point():
                    tensor.copy_(base[name] * step / 1000)
                else:
                    tensor.fill_(step)
        model.save_pretrained(folder / f"checkpoint-{step}")
        LiteDepthImageProcessor.from_pretrained(DEFAULT_CHECKPOINT).save_pretrained(folder / f"checkpoint-{step}")
    (folder / "training_run.json").write_text(json.dumps({"script_args": {"stop_at_step": steps[-1]}}))
    return base


def test_the_last_checkpoints_are_averaged_into_a_model_that_loads(tmp_path):
    base = _run(tmp_path / "run", [800, 1600, 2400, 3200])
    out = tmp_path / "avg"
    result = conftest.run_script("average_checkpoints", tmp_path / "run", "--last", "3", "--out", out)
    assert "1600, 2400, 3200" in result.stdout
    state = load_file(str(out / "model.safetensors"))
    weight = "decoder.head_out.weight"
    assert torch.allclose(state[weight], base[weight] * 2.4, atol=1e-6)  # (1.6 + 2.4 + 3.2) / 3
    tracked = [k for k in state if k.endswith("num_batches_tracked")]
    assert tracked and all(int(state[k]) == 3200 for k in tracked)  # integers: the last checkpoint's
    record = json.loads((out / "training_run.json").read_text())
    assert record["averaged_checkpoints"]["steps"] == [1600, 2400, 3200]
    assert record["script_args"]["stop_at_step"] == 3200  # the run's record, kept
    model = LiteDepthForDepthEstimation.from_pretrained(out)  # a whole model folder
    assert torch.equal(model.state_dict()[weight], state[weight])
    LiteDepthImageProcessor.from_pretrained(out)
    until = conftest.run_script("average_checkpoints", tmp_path / "run", "--last", "2", "--until", "2400",
                                "--out", tmp_path / "until")
    assert "1600, 2400" in until.stdout


def test_an_existing_folder_or_too_few_checkpoints_is_one_line_and_nothing_is_written(tmp_path):
    _run(tmp_path / "run", [800, 1600])
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "mine.txt").write_text("a user's file")
    for args in (["--out", tmp_path / "kept"], ["--last", "3", "--out", tmp_path / "new"]):
        result = conftest.run_script("average_checkpoints", tmp_path / "run", *args, check=False)
        assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert (tmp_path / "kept" / "mine.txt").read_text() == "a user's file" and not (tmp_path / "new").exists()
