"""Metrics equal hand-computed values, follow the MAI protocol, and match the `evaluate` module."""

import math

import numpy as np
import pytest

from litedepth_hf.metrics import depth_metrics, image_metrics, mai_score


def test_hand_computed_values():
    pred = np.array([[1.0, 2.0], [4.0, 0.0005]])  # the last prediction is below 1 mm: clamped to 1 mm
    gt = np.array([[1.0, 1.0], [5.0, 0.0]])       # the last GT is invalid
    m = image_metrics(pred, gt)
    d = np.log([1.0, 2.0, 0.8])
    assert m["si_rmse"] == pytest.approx(np.std(d))
    assert m["rmse"] == pytest.approx(math.sqrt((0 + 1 + 1) / 3))
    assert m["abs_rel"] == pytest.approx((0 + 1 + 0.2) / 3)
    assert m["sq_rel"] == pytest.approx((0 + 1 / 1 + 1 / 5) / 3)
    assert m["log10"] == pytest.approx((0 + math.log10(2) + abs(math.log10(0.8))) / 3)
    assert m["delta1"] == pytest.approx(1 / 3)  # ratios 1, 2, 1.25: 1.25 is not < 1.25
    assert m["delta2"] == pytest.approx(2 / 3) and m["delta3"] == pytest.approx(2 / 3)  # 2 > 1.25^3


def test_mai_protocol_clamps_and_ignores():
    gt = np.array([[0.0005, 2.0, np.nan, np.inf]])
    pred = np.array([[9.0, 2.0, 1.0, 1.0]])
    m = image_metrics(pred, gt)
    assert m["rmse"] == 0 and m["si_rmse"] == 0  # only the 2 m pixel counts
    tiny = image_metrics(np.array([[-1.0, 0.0]]), np.array([[0.002, 0.002]]))
    assert tiny["abs_rel"] == pytest.approx(0.5)  # both predictions clamped to 1 mm


def test_dataset_average_is_per_image_and_skips_empty_gt():
    a = np.full((4, 4), 2.0)
    result = depth_metrics([a, a * 2, a], [a, a, np.zeros((4, 4))])
    assert result["num_images"] == 2 and result["abs_rel"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="valid ground truth"):
        depth_metrics([a], [np.zeros((4, 4))])
    with pytest.raises(ValueError, match="differ in size"):
        image_metrics(a, np.ones((3, 3)))


def test_mai_score_formula():
    assert mai_score(0.311, 37.0) == pytest.approx(2 ** (-6.22) / 37.0)
    with pytest.raises(ValueError):
        mai_score(0.3, 0.0)


def test_evaluate_module_agrees_with_numpy(dev_dir):
    import evaluate
    from PIL import Image

    import litedepth_hf

    gt = [np.asarray(Image.open(dev_dir / "depth" / f"000{i}.png"), dtype=np.float32) / 5000 for i in range(3)]
    pred = [np.full_like(g, 1.3) + 0.01 * i for i, g in enumerate(gt)]
    metric = evaluate.load(str(__import__("pathlib").Path(litedepth_hf.__file__).parent / "depth_metric"))
    result = metric.compute(predictions=pred, references=gt, runtime_ms=20.0)
    expected = depth_metrics(pred, gt, runtime_ms=20.0)
    assert result == pytest.approx(expected)


def test_layout_baseline_is_learnt_from_training_depth_only(train_dir):
    """The image-blind layout baseline (metrics.layout_*): right shape, near at the bottom, and on its own
    training frames better than the constant on si-RMSE (the constant's si-RMSE is each frame's spread)."""
    from litedepth_hf.data import example_arrays, load_depth_dataset
    from litedepth_hf.metrics import layout_prediction, layout_prior, median_depth

    gts = [example_arrays(example)[1] for example in load_depth_dataset(train_dir)]
    prior, median = layout_prior(gts), median_depth(gts)
    assert prior.shape == (120, 160) and np.isfinite(prior).all()
    assert prior[-20:].mean() < prior[20:40].mean()  # the desk at the bottom is nearer than the wall above
    layout = depth_metrics([layout_prediction(prior, median, g.shape) for g in gts], gts)
    constant = depth_metrics([np.full_like(g, median) for g in gts], gts)
    assert layout["si_rmse"] < constant["si_rmse"] - 0.02
    assert layout_prediction(prior, median, (48, 64)).shape == (48, 64)



def test_evaluate_script_scores_several_folders_with_an_overall_row(tmp_path, train_dir, shared_data):
    """scripts/evaluate_dev.py on two dev folders: a table per folder, the folders' equal-weight mean, and
    --max-frames taking the first frames of a folder longer than it."""
    import json

    from conftest import run_script

    folders = [str(shared_data / "tum_fr2_desk"), str(shared_data / "icl_livingroom")]
    run_script("evaluate_dev", "--data", folders[0], "--data", folders[1], "--baseline-from", train_dir,
               "--out", tmp_path, "--grid-rows", "1", "--max-frames", "3")
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert list(record["folders"]) == folders
    rows = [record["folders"][f]["results"]["litedepth (embedded default)"] for f in folders]
    assert [r["num_images"] for r in rows] == [2, 3]
    assert [record["folders"][f]["frames"] for f in folders] == [[2, 2], [3, 5]]
    assert "the first 3 of 5 images" in (tmp_path / "metrics.md").read_text()
    overall = record["results"]["litedepth (embedded default)"]
    assert overall["si_rmse"] == pytest.approx((rows[0]["si_rmse"] + rows[1]["si_rmse"]) / 2)  # folders equal
    assert overall["num_images"] == 5 and overall["num_folders"] == 2
    for name in ("train depth layout (no image)",):
        assert name in record["baselines"] and all(name in record["folders"][f]["baselines"] for f in folders)
    assert (tmp_path / "grid.png").is_file() and "overall" in (tmp_path / "metrics.md").read_text()
    saved = (tmp_path / "metrics.json").read_bytes()  # a second run into the same --out asks first
    again = run_script("evaluate_dev", "--data", folders[0], "--baseline-from", "none", "--out", tmp_path, check=False)
    assert again.returncode == 2 and "pass --overwrite" in again.stderr.strip().splitlines()[-1]
    assert (tmp_path / "metrics.json").read_bytes() == saved


def test_median_scale_and_scale_aligned_metrics():
    from litedepth_hf.metrics import image_metrics

    rng = np.random.default_rng(0)
    gt = rng.uniform(0.5, 5.0, (48, 64))
    doubled = image_metrics(2.0 * gt, gt)
    assert doubled["median_scale"] == pytest.approx(2.0)
    assert doubled["abs_rel"] == pytest.approx(1.0) and doubled["delta1"] == 0.0  # metric: all wrong
    assert doubled["abs_rel_aligned"] == pytest.approx(0.0, abs=1e-12) and doubled["delta1_aligned"] == 1.0
    noisy = image_metrics(gt * np.exp(rng.normal(0, 0.3, gt.shape)), gt)
    assert 0.1 < noisy["abs_rel_aligned"] < 0.4 and 0.4 < noisy["delta1_aligned"] < 0.8
