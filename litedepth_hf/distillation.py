"""Structure-aware distillation: the student learns the spatial affinities of a teacher's decoder features.

The teacher is a bigger LiteDepth or any transformers depth model. Per distilled level, each
pixel's channel vector is L2-normalised, the N x N cosine affinity over pixels with valid GT is
built for student and teacher, and their mean squared difference is the loss. Cosine affinities
do not depend on channel counts or on per-pixel feature scale, so any teacher fits any student.

Teacher feature maps, coarse to fine (level 0 = 1/32 ... 3 = 1/4 for LiteDepth):
- LiteDepth: the decoder's pre-activation `hidden_states` (1/32, 1/16, 1/8, 1/4).
- DPT and Depth Anything: the outputs of `neck.fusion_stage.layers[0..3]` (coarse to fine), read with
  forward hooks; each is resized to the student's level resolution.
"""

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .losses import valid_mask

HOOKED_NECKS = ("dpt", "depth_anything", "prompt_depth_anything")


def affinity_loss(student: torch.Tensor, teacher: torch.Tensor, valid: Optional[torch.Tensor] = None,
                  max_pixels: int = 1024, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Mean squared difference of cosine-affinity matrices, averaged over the batch.

    student (B, Cs, h, w); teacher (B, Ct, h', w'), resized to (h, w); valid (B, H, W) GT mask, nearest-resized.
    At most `max_pixels` valid pixels per image are drawn (memory is max_pixels^2 floats per image).
    """
    batch, _, height, width = student.shape
    if teacher.shape[-2:] != (height, width):
        teacher = F.interpolate(teacher, size=(height, width), mode="bilinear", align_corners=False)
    if valid is None:
        valid = torch.ones(batch, height, width, dtype=torch.bool, device=student.device)
    elif valid.shape[-2:] != (height, width):
        valid = F.interpolate(valid[:, None].float(), size=(height, width), mode="nearest")[:, 0] > 0.5
    losses = []
    for b in range(batch):
        index = valid[b].flatten().nonzero().squeeze(1)
        if index.numel() < 2:
            continue
        if index.numel() > max_pixels:
            index = index[torch.randperm(index.numel(), generator=generator, device=index.device)[:max_pixels]]
        s = F.normalize(student[b].flatten(1)[:, index].t(), dim=1)
        t = F.normalize(teacher[b].flatten(1)[:, index].t().to(s.dtype), dim=1)
        losses.append((s @ s.t() - t @ t.t()).pow(2).mean())
    return torch.stack(losses).mean() if losses else student.sum() * 0.0


def scale_shift_invariant_loss(student_depth: torch.Tensor, teacher_output: torch.Tensor, relative: bool,
                               valid: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Response term. Metric teachers: L1 of log depth. Relative teachers (disparity-like output): L1 between
    the student's inverse depth and the teacher's output, each normalised by its median and mean deviation."""
    teacher_output = F.interpolate(teacher_output[:, None].float(), size=student_depth.shape[-2:], mode="bilinear",
                                   align_corners=False)[:, 0]
    if valid is None:
        valid = torch.ones_like(student_depth, dtype=torch.bool)
    if not relative:
        return (torch.log(student_depth) - torch.log(teacher_output.clamp_min(1e-3))).abs()[valid].mean()

    def normalise(x):
        flat = x.flatten(1)
        median = flat.median(dim=1, keepdim=True).values
        scale = (flat - median).abs().mean(dim=1, keepdim=True).clamp_min(1e-6)
        return ((flat - median) / scale).view_as(x)

    return (normalise(1.0 / student_depth) - normalise(teacher_output)).abs()[valid].mean()


class Teacher(nn.Module):
    """A frozen depth model that returns feature maps (coarse to fine) and its depth for a student's batch.

    It re-normalises the student's `pixel_values` (made with `student_mean`/`student_std`) with its own
    image processor's mean/std, and resizes them to a size it accepts: ViT-DPT its square `image_size`,
    Depth Anything multiples of its patch size (14), LiteDepth multiples of 32.
    """

    def __init__(self, model, image_mean=(0.5, 0.5, 0.5), image_std=(0.5, 0.5, 0.5), student_mean=(0.5, 0.5, 0.5),
                 student_std=(0.5, 0.5, 0.5)):
        super().__init__()
        self.model = model.eval().requires_grad_(False)
        self.model_type = model.config.model_type
        if self.model_type != "litedepth" and self.model_type not in HOOKED_NECKS:
            raise ValueError(f"No feature mapping for teacher type {self.model_type!r}; supported: litedepth, "
                             f"{', '.join(HOOKED_NECKS)}")
        gain = torch.tensor(student_std) / torch.tensor(image_std)
        self.register_buffer("gain", gain.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("bias", ((torch.tensor(student_mean) - torch.tensor(image_mean)) /
                                      torch.tensor(image_std)).view(1, 3, 1, 1), persistent=False)
        self.relative = getattr(model.config, "depth_estimation_type", "metric") == "relative"
        self._captured = []
        if self.model_type in HOOKED_NECKS:
            for layer in self.model.neck.fusion_stage.layers:
                layer.register_forward_hook(lambda module, args, output: self._captured.append(output))

    @classmethod
    def from_pretrained(cls, name_or_path, student_processor=None, **kwargs):
        """Any `AutoModelForDepthEstimation` folder/Hub id, with its own image processor's mean/std."""
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation

        model = AutoModelForDepthEstimation.from_pretrained(name_or_path, **kwargs)
        processor = AutoImageProcessor.from_pretrained(name_or_path, **kwargs)
        student = student_processor or processor
        return cls(model, processor.image_mean, processor.image_std, student.image_mean, student.image_std)

    def input_size(self, height: int, width: int) -> tuple:
        config = self.model.config
        if self.model_type == "dpt" and not getattr(config, "is_hybrid", False) and config.backbone_config is None:
            size = config.image_size
            return (size, size) if isinstance(size, int) else tuple(size)
        if self.model_type in HOOKED_NECKS:
            patch = getattr(config.backbone_config, "patch_size", None) or getattr(config, "patch_size", 14)
            return max(patch, round(height / patch) * patch), max(patch, round(width / patch) * patch)
        return max(32, round(height / 32) * 32), max(32, round(width / 32) * 32)

    @torch.no_grad()
    def forward(self, pixel_values: torch.Tensor) -> tuple:
        """(features coarse to fine, depth) for the student's normalised `pixel_values`."""
        x = pixel_values * self.gain + self.bias
        size = self.input_size(*x.shape[-2:])
        if tuple(x.shape[-2:]) != size:
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        self._captured = []
        if self.model_type == "litedepth":
            out = self.model(x, output_hidden_states=True)
            return list(out.hidden_states), out.predicted_depth
        out = self.model(pixel_values=x)
        features, self._captured = self._captured, []
        return features, out.predicted_depth


class Distiller(nn.Module):
    """The distillation terms for a student batch: weight x sum over levels of the affinity loss (+ response)."""

    def __init__(self, teacher: Teacher, weight: float = 10.0, levels: Sequence[int] = (0, 2, 3),
                 response_weight: float = 0.0, max_pixels: int = 1024):
        super().__init__()
        if not levels or min(levels) < 0 or max(levels) > 3:
            raise ValueError(f"distill levels must be in 0..3 (1/32, 1/16, 1/8, 1/4), got {list(levels)}")
        self.teacher, self.weight, self.levels = teacher, float(weight), list(levels)
        self.response_weight, self.max_pixels = float(response_weight), max_pixels

    def forward(self, pixel_values, student_hidden, student_depth, labels) -> dict:
        teacher_features, teacher_depth = self.teacher(pixel_values)
        if len(teacher_features) < 4:
            raise ValueError(f"The teacher gave {len(teacher_features)} feature maps; 4 are needed")
        valid = valid_mask(labels)
        affinity = sum(affinity_loss(student_hidden[level], teacher_features[level].float(), valid, self.max_pixels)
                       for level in self.levels)
        terms = {"distill": self.weight * affinity}
        if self.response_weight:
            depth_valid = F.interpolate(valid[:, None].float(), size=student_depth.shape[-2:], mode="nearest")[:, 0] > 0
            terms["response"] = self.response_weight * scale_shift_invariant_loss(
                student_depth, teacher_depth, self.teacher.relative, depth_valid)
        return terms
