"""Depth metrics under the MAI 2022 protocol, in plain numpy, and the image-blind baselines they are read against.

Predictions and ground truth in metres are compared in millimetres: predictions below
1 mm become 1 mm and pixels whose GT is <= 1 mm (or not finite) are ignored. Each metric
is computed per image and averaged over images.
"""

import math
from typing import Iterable, Optional

import numpy as np
from PIL import Image

METRIC_NAMES = ("si_rmse", "rmse", "abs_rel", "sq_rel", "log10", "delta1", "delta2", "delta3",
                "median_scale", "abs_rel_aligned", "delta1_aligned")
"""`median_scale`: median of prediction / GT (1 = metric scale right); `*_aligned`: after multiplying the
prediction by median(GT / prediction), as relative-depth models are scored: shape without scale."""


def image_metrics(predicted: np.ndarray, target: np.ndarray) -> Optional[dict]:
    """Metrics of one depth map (metres); None when the GT has no valid pixel."""
    predicted = np.asarray(predicted, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if predicted.shape != target.shape:
        raise ValueError(f"Prediction {predicted.shape} and ground truth {target.shape} differ in size")
    gt_mm = target * 1000.0
    valid = np.isfinite(gt_mm) & (gt_mm > 1.0)
    if not valid.any():
        return None
    pred_mm = np.nan_to_num(predicted[valid] * 1000.0, nan=1.0, posinf=1e9, neginf=1.0)
    pred_mm = np.maximum(pred_mm, 1.0)
    gt_mm = gt_mm[valid]
    log_diff = np.log(pred_mm) - np.log(gt_mm)
    ratio = np.maximum(pred_mm / gt_mm, gt_mm / pred_mm)
    error_m = (pred_mm - gt_mm) / 1000.0
    aligned = pred_mm * np.median(gt_mm / pred_mm)
    aligned_ratio = np.maximum(aligned / gt_mm, gt_mm / aligned)
    return {
        "si_rmse": float(np.std(log_diff)),
        "rmse": float(np.sqrt(np.mean(error_m**2))),
        "abs_rel": float(np.mean(np.abs(pred_mm - gt_mm) / gt_mm)),
        "sq_rel": float(np.mean(error_m**2 / (gt_mm / 1000.0))),
        "log10": float(np.mean(np.abs(np.log10(pred_mm) - np.log10(gt_mm)))),
        "delta1": float(np.mean(ratio < 1.25)),
        "delta2": float(np.mean(ratio < 1.25**2)),
        "delta3": float(np.mean(ratio < 1.25**3)),
        "median_scale": float(np.median(pred_mm / gt_mm)),
        "abs_rel_aligned": float(np.mean(np.abs(aligned - gt_mm) / gt_mm)),
        "delta1_aligned": float(np.mean(aligned_ratio < 1.25)),
    }


def mai_score(si_rmse: float, runtime_ms: float, constant: float = 1.0) -> float:
    """MAI 2022 score 2^(-20 si-RMSE) / (C * runtime); C only rescales, so compare scores at one C."""
    if not runtime_ms > 0:
        raise ValueError(f"runtime_ms must be > 0, got {runtime_ms}")
    return 2.0 ** (-20.0 * si_rmse) / (constant * runtime_ms)


def depth_metrics(predictions: Iterable, targets: Iterable, runtime_ms: Optional[float] = None) -> dict:
    """Mean of per-image metrics over all images with valid GT, plus `num_images` (and `mai_score`)."""
    per_image = [m for m in (image_metrics(p, t) for p, t in zip(predictions, targets)) if m is not None]
    if not per_image:
        raise ValueError("No image has valid ground truth (all GT <= 1 mm, NaN or inf)")
    result = {name: float(np.mean([m[name] for m in per_image])) for name in METRIC_NAMES}
    result["num_images"] = len(per_image)
    if runtime_ms is not None and not math.isnan(runtime_ms):
        result["mai_score"] = mai_score(result["si_rmse"], runtime_ms)
    return result


# ---- image-blind baselines: what a depth model must beat (learnt from training depth alone)

def median_depth(depths: list) -> float:
    """Median of all valid GT depths (metres) of a list of depth maps."""
    return float(np.median(np.concatenate([depth[depth > 0] for depth in depths])))


def layout_prior(depths: list, size=(120, 160)) -> np.ndarray:
    """Mean over depth maps of (ln depth - the map's median ln depth) at each pixel, at `size` (H, W)."""
    total, count = np.zeros(size), np.zeros(size)
    for depth in depths:
        valid = depth > 0
        if not valid.any():
            continue
        log = np.log(np.where(valid, depth, 1.0))
        log = np.where(valid, log - np.median(log[valid]), 0.0)
        total += _resize(log, size, Image.NEAREST)
        count += _resize(valid.astype(np.float32), size, Image.NEAREST)
    return total / np.maximum(count, 1.0)


def layout_prediction(prior: np.ndarray, median: float, shape: tuple) -> np.ndarray:
    """The layout baseline's depth (metres) for a frame of `shape` (H, W)."""
    return median * np.exp(_resize(prior, shape, Image.BILINEAR))


def _resize(array: np.ndarray, size: tuple, resample) -> np.ndarray:
    return np.asarray(Image.fromarray(array.astype(np.float32)).resize(size[::-1], resample))
