"""Batch inference shared by the CLI, evaluation and export parity checks."""

from pathlib import Path
from typing import Iterable, Union

import numpy as np
import torch
from transformers import AutoImageProcessor, AutoModelForDepthEstimation

from . import DEFAULT_CHECKPOINT, EMBEDDED_CHECKPOINTS
from .image_processing_litedepth import _per_image, _shown_size


def resolve_checkpoint(name_or_path: Union[str, Path, None]) -> str:
    """The folder or Hub id a model name means: the default for None, an embedded checkpoint for its README name
    (`litedepth-tum`) unless a model folder of that name is here, else the name itself."""
    name = str(name_or_path or DEFAULT_CHECKPOINT)
    if name in EMBEDDED_CHECKPOINTS and not (Path(name) / "config.json").is_file():
        return EMBEDDED_CHECKPOINTS[name]
    return name


def load_model(name_or_path: Union[str, Path, None] = None, device: str = "cpu", **kwargs):
    """(model, image processor) from a folder, Hub id or embedded name (`litedepth-tum`); the default when None.

    Any `AutoModelForDepthEstimation` works, not only LiteDepth (evaluation compares against peers).
    """
    from . import register

    register()  # a no-op after `import litedepth_hf`; needed under the `litedepth` command, which defers it
    name_or_path = resolve_checkpoint(name_or_path)
    if Path(name_or_path).exists() and not (Path(name_or_path) / "config.json").is_file():
        raise FileNotFoundError(f"{name_or_path} is not a model folder: config.json is missing")
    if not Path(name_or_path).exists() and not _looks_like_hub_id(name_or_path):
        raise FileNotFoundError(f"No model folder at {name_or_path!r}, and that is no Hub id ('name' or 'owner/name')")
    try:
        model = AutoModelForDepthEstimation.from_pretrained(name_or_path, **kwargs).to(device).eval()
        processor = AutoImageProcessor.from_pretrained(name_or_path, **kwargs)
    except OSError as error:  # transformers' messages run to many lines: keep the first, say what to check
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        where = "folder" if Path(name_or_path).exists() else \
            "model: no such folder here, and the Hub could not serve it (check the id, the network, HF_TOKEN)"
        raise OSError(f"Cannot load {name_or_path!r} as a {where}: {first}") from None
    return model, processor


def _looks_like_hub_id(name: str) -> bool:
    """True for what the Hub accepts as a repo id; a path like /a/b or ./x is a folder that is missing."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


@torch.inference_mode()
def predict_depth(model, processor, images: Iterable, batch_size: int = 8, focal_length=None, fov=None) -> list:
    """Images (PIL/arrays, any sizes) -> list of float32 depth maps (H, W) at each image's size.

    `focal_length` (pixels) or `fov` (horizontal degrees), a number or one per image, tell a camera-aware model
    the camera (see `LiteDepthImageProcessor.preprocess`); otherwise the photo's EXIF, else the canonical one."""
    images = list(images)
    focal_length = _per_image(focal_length, len(images), "focal_length")
    fov = _per_image(fov, len(images), "fov")
    device = next(model.parameters()).device
    results = [None] * len(images)
    is_litedepth = getattr(model.config, "model_type", None) == "litedepth"  # others' processors take no camera
    for start in range(0, len(images), batch_size):
        indices = range(start, min(start + batch_size, len(images)))
        sizes = {i: _size(images[i]) for i in indices}
        groups = {}  # images of one input size (aspect ratios kept) go through the network together
        for i in indices:
            key = processor.input_size(*sizes[i]) if hasattr(processor, "input_size") else None
            groups.setdefault(key, []).append(i)
        for members in groups.values():
            camera = {"focal_length": [focal_length[i] for i in members], "fov": [fov[i] for i in members]} \
                if is_litedepth else {}
            inputs = processor([images[i] for i in members], return_tensors="pt", **camera).to(device)
            outputs = model(**inputs)
            for i, item in zip(members, processor.post_process_depth_estimation(
                    outputs, target_sizes=[sizes[i] for i in members])):
                results[i] = item["predicted_depth"].float().cpu().numpy()
    return results


def scale_to_known_distance(depth: np.ndarray, x: int, y: int, metres: float) -> np.ndarray:
    """The map rescaled so that pixel (x, y) reads `metres` (one known distance, e.g. from a range sensor)."""
    height, width = depth.shape
    if not (0 <= x < width and 0 <= y < height):
        raise ValueError(f"--scale-from pixel ({x}, {y}) is outside the {width}x{height} image")
    if not metres > 0 or not np.isfinite(metres):
        raise ValueError(f"--scale-from distance must be a positive number of metres, got {metres}")
    value = float(depth[y, x])
    if not value > 0 or not np.isfinite(value):
        raise ValueError(f"--scale-from pixel ({x}, {y}) has no valid depth to scale from ({value})")
    return (depth * np.float32(metres / value)).astype(np.float32)


def _size(image) -> tuple:
    """(height, width) of a PIL image (as shown, EXIF rotation applied) or an HW/HWC/CHW array: the processor's rule."""
    width, height = _shown_size(image)
    return height, width


def evaluate_dataset(model, processor, dataset, batch_size: int = 8, keep: int = 0) -> tuple:
    """Metrics of a model over an RGB-D dataset (MAI protocol), and the first `keep` (rgb, gt, pred) triples.
    Each frame's own focal length (its intrinsics) is given to the model: metric scores are for a known camera."""
    from .data import example_arrays
    from .metrics import depth_metrics

    predictions, targets, kept = [], [], []
    for start in range(0, len(dataset), batch_size):
        rows = [example_arrays(dataset[i]) for i in range(start, min(start + batch_size, len(dataset)))]
        focal = [intrinsics["fx"] if intrinsics else None for _, _, intrinsics in rows]
        depths = predict_depth(model, processor, [rgb for rgb, _, _ in rows], batch_size=batch_size, focal_length=focal)
        for (rgb, gt, _), depth in zip(rows, depths):
            predictions.append(depth)
            targets.append(gt)
            if len(kept) < keep:
                kept.append((rgb, gt, depth))
    return depth_metrics(predictions, targets), kept
