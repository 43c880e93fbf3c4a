"""Structure-aware distillation: the affinity loss's invariances, and real training steps with three teachers."""

import json
import os
import subprocess
import sys

import pytest
import torch
from conftest import ROOT

from litedepth_hf import LiteDepthConfig, LiteDepthForDepthEstimation, LiteDepthImageProcessor
from litedepth_hf.distillation import Distiller, Teacher, affinity_loss


def features(seed, channels=16, size=(8, 10)):
    return torch.randn(2, channels, *size, generator=torch.Generator().manual_seed(seed))


def test_zero_for_identical_features_positive_otherwise():
    f = features(0)
    assert float(affinity_loss(f, f.clone())) == pytest.approx(0.0, abs=1e-7)
    assert float(affinity_loss(f, features(1))) > 1e-3


def test_invariant_to_channel_count_and_per_pixel_scale():
    student, teacher = features(0), features(1, channels=16)
    base = float(affinity_loss(student, teacher))
    wider = torch.cat([teacher, teacher, teacher], dim=1)  # 48 channels, same directions
    scaled = teacher * (torch.rand(2, 1, 8, 10) * 5 + 0.1)  # a positive factor per pixel
    assert float(affinity_loss(student, wider)) == pytest.approx(base, rel=1e-5)
    assert float(affinity_loss(student, scaled)) == pytest.approx(base, rel=1e-5)


def test_only_valid_gt_pixels_count():
    student, teacher = features(0), features(1)
    valid = torch.zeros(2, 32, 40, dtype=torch.bool)
    valid[:, :16] = True  # top half of the GT, at 4x the feature resolution
    altered = teacher.clone()
    altered[:, :, 4:] = torch.randn_like(altered[:, :, 4:])  # bottom half: invalid there
    assert float(affinity_loss(student, teacher, valid)) == pytest.approx(float(affinity_loss(student, altered, valid)))


def test_memory_is_bounded_for_a_480x640_gt():
    """A full-resolution 480x640 level would need 307k^2 affinities; sub-sampling keeps it at 1024^2."""
    student = torch.randn(1, 8, 480, 640, requires_grad=True)
    teacher = torch.randn(1, 24, 480, 640)
    loss = affinity_loss(student, teacher, torch.ones(1, 480, 640, dtype=torch.bool), max_pixels=1024)
    loss.backward()
    assert torch.isfinite(loss) and student.grad.abs().sum() > 0


def test_gradients_reach_the_student_only():
    student = LiteDepthForDepthEstimation(LiteDepthConfig()).train()
    teacher_model = LiteDepthForDepthEstimation(LiteDepthConfig(width_multiplier=2.0))
    distiller = Distiller(Teacher(teacher_model))
    x = torch.randn(2, 3, 64, 96)
    labels = torch.rand(2, 240, 384) + 0.5
    out = student(x, output_size=labels.shape[-2:], output_hidden_states=True)
    terms = distiller(x, out.hidden_states, out.predicted_depth, labels)
    terms["distill"].backward()
    assert float(terms["distill"]) > 0
    assert all(p.grad is None for p in teacher_model.parameters())
    assert not teacher_model.training
    assert student.decoder.fuse32.weight.grad.abs().sum() > 0


def tiny_dpt():
    from transformers import DPTConfig, DPTForDepthEstimation

    return DPTForDepthEstimation(DPTConfig(hidden_size=32, num_hidden_layers=4, num_attention_heads=2,
                                           intermediate_size=64, image_size=64, patch_size=16,
                                           backbone_out_indices=[0, 1, 2, 3], neck_hidden_sizes=[8, 16, 32, 32],
                                           fusion_hidden_size=16, head_in_index=-1))


def tiny_depth_anything():
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    backbone = Dinov2Config(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64,
                            patch_size=14, image_size=70, out_indices=[1, 2, 3, 4], reshape_hidden_states=False)
    return DepthAnythingForDepthEstimation(DepthAnythingConfig(
        backbone_config=backbone, reassemble_hidden_size=32, neck_hidden_sizes=[8, 16, 32, 32],
        fusion_hidden_size=16, depth_estimation_type="relative"))


@pytest.mark.parametrize("build", [tiny_dpt, tiny_depth_anything])
def test_transformers_teachers_give_four_levels_on_non_square_crops(build):
    teacher = Teacher(build().eval(), image_mean=(0.485, 0.456, 0.406), image_std=(0.229, 0.224, 0.225))
    for size in ((64, 96), (96, 128), (128, 160)):
        feats, depth = teacher(torch.randn(2, 3, *size))
        assert len(feats) == 4 and all(f.ndim == 4 and f.shape[0] == 2 for f in feats)
        areas = [f.shape[-1] * f.shape[-2] for f in feats]
        assert areas == sorted(areas)  # coarse to fine
        assert depth.shape[0] == 2 and torch.isfinite(depth).all()


def save_teacher(kind, folder):
    from transformers import DPTImageProcessor

    if kind == "litedepth":
        LiteDepthForDepthEstimation(LiteDepthConfig(width_multiplier=2.0)).save_pretrained(folder)
        LiteDepthImageProcessor().save_pretrained(folder)
    else:
        tiny_dpt().save_pretrained(folder)
        DPTImageProcessor(size={"height": 64, "width": 64}).save_pretrained(folder)


@pytest.mark.parametrize("kind", ["litedepth", "dpt"])
def test_one_training_step_with_a_teacher(kind, tmp_path, train_dir):
    save_teacher(kind, tmp_path / "teacher")
    out = tmp_path / "student"
    command = [sys.executable, str(ROOT / "scripts" / "train.py"), "--train_data", str(train_dir),
               "--output_dir", str(out), "--max_train_samples", "4", "--max_steps", "2",
               "--per_device_train_batch_size", "2", "--logging_steps", "1", "--report_to", "none",
               "--save_strategy", "no", "--teacher_name_or_path", str(tmp_path / "teacher"),
               "--response_weight", "0.5"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "OMP_NUM_THREADS": "2"})
    assert result.returncode == 0, result.stderr[-4000:]
    logs = [e for e in json.loads((out / "training_run.json").read_text())["log_history"] if "loss_distill" in e]
    assert logs and all(e["loss_distill"] > 0 and e["loss_response"] > 0 for e in logs)
