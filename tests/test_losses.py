"""Loss terms on real TUM depth: zero at the optimum, positive otherwise, masked, NaN-proof."""

import numpy as np
import pytest
import torch
from PIL import Image

from litedepth_hf.losses import LOSS_TERMS, LiteDepthLoss, silog


@pytest.fixture(scope="module")
def gt(train_dir):
    """Two real GT maps (metres) with their natural holes (0) and an injected NaN/inf."""
    maps = [np.asarray(Image.open(train_dir / "depth" / f"{i}.png"), dtype=np.float32) / 5000.0 for i in ("0000", "0041")]
    target = torch.from_numpy(np.stack(maps))
    assert (target == 0).any(), "real Kinect depth has holes"
    target[0, 100, 100] = float("nan")
    target[1, 200, 200] = float("inf")
    return target


@pytest.fixture(scope="module")
def intrinsics():
    return torch.tensor([[517.3, 516.5, 318.6, 255.3]] * 2)


def perfect(target):
    return torch.nan_to_num(target, nan=1.0, posinf=1.0).clamp_min(1e-3)


@pytest.mark.parametrize("term", list(LOSS_TERMS))
def test_zero_for_a_perfect_prediction_positive_otherwise(term, gt, intrinsics):
    loss = LOSS_TERMS[term]
    assert float(loss(perfect(gt), gt, intrinsics=intrinsics)) == pytest.approx(0.0, abs=1e-6)
    # a wrong prediction: a tilt (depth grows with x) plus ripples
    x = torch.arange(gt.shape[-1], dtype=torch.float32)
    wrong = torch.linspace(0.7, 1.5, gt.shape[-1]) * (1 + 0.2 * torch.sin(x / 5))
    assert float(loss(perfect(gt) * wrong.expand_as(gt), gt, intrinsics=intrinsics)) > 1e-3


@pytest.mark.parametrize("term", list(LOSS_TERMS))
def test_invalid_pixels_are_ignored(term, gt, intrinsics):
    torch.manual_seed(0)
    prediction = perfect(gt) * 1.2
    altered = prediction.clone()
    invalid = ~(torch.isfinite(gt) & (gt > 0))
    altered[invalid] = 37.0
    gen_a, gen_b = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    kwargs_a = {"intrinsics": intrinsics, "generator": gen_a}
    kwargs_b = {"intrinsics": intrinsics, "generator": gen_b}
    a = LOSS_TERMS[term](prediction, gt, **kwargs_a)
    b = LOSS_TERMS[term](altered, gt, **kwargs_b)
    assert float(a) == pytest.approx(float(b), rel=1e-5)


@pytest.mark.parametrize("term", list(LOSS_TERMS))
@pytest.mark.parametrize("bad", ["zeros", "nan", "inf"])
def test_all_invalid_gt_gives_zero_not_nan(term, bad):
    value = {"zeros": 0.0, "nan": float("nan"), "inf": float("inf")}[bad]
    target = torch.full((2, 48, 64), value)
    prediction = torch.rand(2, 48, 64, requires_grad=True)
    loss = LOSS_TERMS[term](prediction + 0.5, target)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(prediction.grad).all()


def test_gradients_stay_finite_with_nan_gt(gt, intrinsics):
    prediction = (perfect(gt) * 1.1).requires_grad_()
    total, terms = LiteDepthLoss(weighting="dynamic")(prediction, gt, intrinsics)
    total.backward()
    assert torch.isfinite(total) and torch.isfinite(prediction.grad).all()
    assert set(terms) == set(LOSS_TERMS)


def test_silog_scale_behaviour(gt):
    scaled = perfect(gt) * 1.7
    assert float(silog(scaled, gt, variance_focus=0.0)) == pytest.approx(0.0, abs=1e-3)
    assert float(silog(scaled, gt)) == pytest.approx(np.sqrt(0.15) * np.log(1.7), rel=1e-3)


def test_dynamic_weights_start_at_the_fixed_ones_and_learn():
    loss = LiteDepthLoss(weighting="dynamic")
    assert loss.weights() == pytest.approx({"silog": 1.0, "gradient": 0.25, "virtual_normal": 2.5, "robust": 0.6})
    assert loss.log_scales.requires_grad and loss.log_scales.numel() == 4


def test_bad_loss_settings_name_the_problem():
    with pytest.raises(ValueError, match="Unknown loss terms"):
        LiteDepthLoss(terms=("silog", "ssim"))
    with pytest.raises(ValueError, match="weighting"):
        LiteDepthLoss(weighting="uncertain")
    with pytest.raises(ValueError, match="shape"):
        LiteDepthLoss()(torch.ones(1, 4, 4), torch.ones(1, 5, 5))
