"""LiteDepth's four training losses and their combination, fixed or dynamically re-weighted.

Every term uses valid pixels only (GT > 0 and finite), is exactly 0 for a perfect
prediction, and returns a zero that still carries a graph when nothing is valid, so a
batch of holes never produces NaN.
"""

import math
from typing import Optional

import torch
from torch import nn

from .modeling_litedepth import silog_loss

DEFAULT_WEIGHTS = {"silog": 1.0, "gradient": 0.25, "virtual_normal": 2.5, "robust": 0.6}
# NYU-like focal lengths (pixels at 480x640) for data whose intrinsics are unknown.
FALLBACK_FOCAL = (518.86, 519.47)


def valid_mask(target: torch.Tensor) -> torch.Tensor:
    return torch.isfinite(target) & (target > 0)


def _zero(predicted: torch.Tensor) -> torch.Tensor:
    return predicted.sum() * 0.0


def silog(predicted, target, variance_focus: float = 0.15, **_):
    """sqrt(var(g) + 0.15 mean(g)^2) with g = ln pred - ln gt (see `modeling_litedepth.silog_loss`)."""
    return silog_loss(predicted, target, variance_focus=variance_focus)


def gradient(predicted, target, **_):
    """L1 between the x and y finite differences of ln depth, over pairs whose two GT pixels are valid."""
    valid = valid_mask(target)
    log_pred = torch.log(predicted.clamp_min(1e-6))
    log_gt = torch.log(torch.where(valid, target, torch.ones_like(target)))
    total, count = _zero(predicted), 0
    for dim in (-1, -2):
        pair = (valid.narrow(dim, 1, valid.shape[dim] - 1) & valid.narrow(dim, 0, valid.shape[dim] - 1)).float()
        pairs = pair.sum()
        if pairs > 0:  # masked mean: faster than boolean indexing on large maps
            total = total + ((log_pred.diff(dim=dim) - log_gt.diff(dim=dim)).abs() * pair).sum() / pairs
            count += 1
    return total / max(count, 1)


def robust(predicted, target, **_):
    """Barron's loss with alpha = 1 (pseudo-Huber), scale 2: sqrt((e/2)^2 + 1) - 1 on e = pred - gt."""
    valid = valid_mask(target).float()
    count = valid.sum()
    if count == 0:
        return _zero(predicted)
    error = predicted - torch.nan_to_num(target, nan=0.0, posinf=0.0, neginf=0.0)
    return ((torch.sqrt((error / 2) ** 2 + 1) - 1) * valid).sum() / count


def virtual_normal(
    predicted,
    target,
    intrinsics: Optional[torch.Tensor] = None,
    sample_ratio: float = 0.15,
    max_triplets: int = 8192,
    collinear_cos: float = 0.867,
    min_distance: float = 0.01,
    min_depth: float = 0.1,
    generator: Optional[torch.Generator] = None,
    **_,
):
    """Virtual-normal loss: L1 between normals of planes through random triplets of back-projected points.

    Per image: sample `sample_ratio` x valid pixels (at most `max_triplets`) as triplets of valid GT
    pixels with depth >= `min_depth`; drop triplets whose GT points are nearly collinear (an edge
    cosine above `collinear_cos`) or nearly coincident (closer than `min_distance` on every axis).
    `intrinsics` (B, 4) = fx, fy, cx, cy of the label grid; NaN rows use NYU-like focal lengths.
    The whole batch is sampled at once with no host synchronisation (a per-image loop made this
    term the slowest part of a training step on a GPU: 6.5 steps/s at batch 32).
    """
    batch, height, width = target.shape
    device = target.device
    valid = (valid_mask(target) & (target >= min_depth)).flatten(1)  # (B, HW)
    counts = valid.sum(1)
    wanted = torch.minimum((counts.float() * sample_ratio).long(), torch.full_like(counts, max_triplets))
    slots = min(max_triplets, int(height * width * sample_ratio))  # an upper bound on every image's count
    if slots < 1:
        return _zero(predicted)
    # the r-th valid pixel of each image, r uniform in [0, count), read from the batch's valid pixels in order
    # (one nonzero for the whole batch: one host sync, ~5x cheaper on a CPU than a search per sample)
    positions = valid.flatten().nonzero().squeeze(1)  # b * HW + pixel, sorted by image
    if positions.numel() == 0:
        return _zero(predicted)
    uniform = torch.rand((batch, slots * 3), generator=generator, device=generator.device if generator else device)
    rank = (uniform.to(device) * counts.unsqueeze(1)).long().clamp_max((counts - 1).clamp_min(0).unsqueeze(1))
    first = (counts.cumsum(0) - counts).unsqueeze(1)  # where each image's valid pixels start in `positions`
    chosen = positions.index_select(0, (first + rank).clamp_max(positions.numel() - 1).flatten())  # 7x `[]`
    offsets = torch.arange(batch, device=device).repeat_interleave(slots * 3) * (height * width)
    picks = (chosen - offsets).clamp(0, height * width - 1).view(batch, slots * 3)
    ys, xs = (picks // width).float(), (picks % width).float()
    fx, fy, cx, cy = (v[:, None] for v in _intrinsics(intrinsics, batch, height, width, device))
    rays = torch.stack([(xs - cx) / fx, (ys - cy) / fy, torch.ones_like(xs)], dim=-1)  # (B, slots * 3, 3)
    gt_depth = torch.gather(target.flatten(1), 1, picks)  # the sampled pixels only: no full-size pass
    gt_depth = torch.where(valid_mask(gt_depth), gt_depth, torch.ones_like(gt_depth))
    gt_points = (rays * gt_depth.unsqueeze(-1)).view(batch * slots, 3, 3)
    pred_points = (rays * torch.gather(predicted.flatten(1), 1, picks).unsqueeze(-1)).view(batch * slots, 3, 3)
    used = (torch.arange(slots, device=device)[None] < wanted[:, None]) & (counts >= 3)[:, None]
    keep = used & _well_formed(gt_points, collinear_cos, min_distance).view(batch, slots)
    difference = (_normals(gt_points) - _normals(pred_points)).abs().sum(-1)
    kept = keep.float()
    per_image = (difference.view(batch, slots) * kept).sum(1) / kept.sum(1).clamp_min(1.0)
    has = (kept.sum(1) > 0).float()
    return (per_image * has).sum() / has.sum().clamp_min(1.0)


def _intrinsics(intrinsics, batch: int, height: int, width: int, device) -> tuple:
    """(fx, fy, cx, cy), each (B,): the given rows, NYU-like focal lengths and the centre where a row is NaN."""
    fallback = torch.tensor([FALLBACK_FOCAL[0], FALLBACK_FOCAL[1], (width - 1) / 2, (height - 1) / 2],
                            dtype=torch.float32, device=device).expand(batch, 4)
    if intrinsics is None:
        return fallback.unbind(1)
    rows = intrinsics.to(device=device, dtype=torch.float32)
    known = torch.isfinite(rows).all(1, keepdim=True)
    return torch.where(known, rows, fallback).unbind(1)


def _well_formed(points: torch.Tensor, collinear_cos: float, min_distance: float) -> torch.Tensor:
    edges = points[:, [1, 2, 2]] - points[:, [0, 0, 1]]  # (N, 3 edges, xyz): p1-p0, p2-p0, p2-p1
    coincident = (edges.abs() < min_distance).all(-1).any(-1)
    unit = edges / edges.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    cosines = (unit[:, [0, 0, 1]] * unit[:, [1, 2, 2]]).sum(-1).abs()  # the three pairs of edges
    return ~coincident & (cosines < collinear_cos).all(-1)


def _normals(points: torch.Tensor) -> torch.Tensor:
    normal = torch.cross(points[:, 1] - points[:, 0], points[:, 2] - points[:, 0], dim=-1)
    # sqrt(|n|^2 + eps^2): finite gradients for degenerate (masked-out) triplets, where norm() gives NaN
    return normal / torch.sqrt((normal * normal).sum(-1, keepdim=True) + 1e-16)


LOSS_TERMS = {"silog": silog, "gradient": gradient, "virtual_normal": virtual_normal, "robust": robust}


class LiteDepthLoss(nn.Module):
    """Weighted sum of the chosen terms; `weighting="dynamic"` (the paper's, the default) learns one uncertainty s_i
    per term; `"fixed"` keeps the initial weights (what the shipped checkpoints trained with).

    Dynamic: L = sum_i L_i / (2 s_i^2) + log(1 + s_i^2), with s_i initialised so that
    1 / (2 s_i^2) equals the fixed weight: training starts from the paper's weights.
    The s_i are parameters of this module: give them to the optimiser.
    """

    def __init__(self, terms=("silog", "gradient", "virtual_normal", "robust"), weighting: str = "dynamic",
                 weights: Optional[dict] = None):
        super().__init__()
        unknown = [t for t in terms if t not in LOSS_TERMS]
        if unknown or not terms:
            raise ValueError(f"Unknown loss terms {unknown}; choose from {list(LOSS_TERMS)}")
        if weighting not in ("fixed", "dynamic"):
            raise ValueError(f"weighting must be 'fixed' or 'dynamic', got {weighting!r}")
        self.terms = list(terms)
        self.weighting = weighting
        self.fixed_weights = {t: float((weights or DEFAULT_WEIGHTS)[t]) for t in self.terms}
        if weighting == "dynamic":
            init = [math.sqrt(1.0 / (2.0 * self.fixed_weights[t])) for t in self.terms]
            self.log_scales = nn.Parameter(torch.log(torch.tensor(init)))

    def weights(self) -> dict:
        """Effective weight of each term (1 / (2 s^2) when dynamic)."""
        if self.weighting == "fixed":
            return dict(self.fixed_weights)
        s2 = torch.exp(2 * self.log_scales.detach())
        return {t: float(1.0 / (2.0 * s2[i])) for i, t in enumerate(self.terms)}

    def forward(self, predicted, target, intrinsics=None) -> tuple:
        """(total loss, {term: value}) for predictions and GT of the same (B, H, W) shape."""
        if predicted.shape != target.shape:
            raise ValueError(f"Prediction {tuple(predicted.shape)} and GT {tuple(target.shape)} differ in shape")
        values = {t: LOSS_TERMS[t](predicted, target, intrinsics=intrinsics) for t in self.terms}
        if self.weighting == "fixed":
            total = sum(self.fixed_weights[t] * v for t, v in values.items())
        else:
            s2 = torch.exp(2 * self.log_scales)
            total = sum(values[t] / (2 * s2[i]) + torch.log1p(s2[i]) for i, t in enumerate(self.terms))
        if not torch.isfinite(total):
            bad = {t: float(v) for t, v in values.items() if not torch.isfinite(v)}
            raise FloatingPointError(f"Non-finite loss terms {bad or values}: check the inputs and learning rate")
        return total, {t: v.detach() for t, v in values.items()}
