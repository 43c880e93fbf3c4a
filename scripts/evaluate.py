#!/usr/bin/env python
"""Evaluate depth models on an RGB-D dataset: a metrics table (Markdown + JSON) and an image grid.

Any `AutoModelForDepthEstimation` folder or Hub id works. Metrics follow the MAI 2022
protocol (mm, predictions clamped to 1 mm, GT <= 1 mm ignored), per image then averaged.
`--baseline-from TRAIN` adds two baselines that never look at the image, both from the training
set alone: a constant depth equal to its median valid depth (the trivial baseline every trained
model must beat), and its mean depth *layout* - that median times exp(mean over training frames of
ln depth minus the frame's median, at each pixel) - which shows how much of a score position alone
explains.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from litedepth_hf.data import example_arrays, load_depth_dataset
from litedepth_hf.inference import evaluate_dataset, load_model
from litedepth_hf.metrics import METRIC_NAMES, depth_metrics
from litedepth_hf.visualization import colorize_depth, error_map, image_grid


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


def markdown_table(rows: dict) -> str:
    header = "| model | " + " | ".join(METRIC_NAMES) + " |"
    lines = [header, "|" + "---|" * (len(METRIC_NAMES) + 1)]
    for name, metrics in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{metrics[m]:.4f}" for m in METRIC_NAMES) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=None,
                        help="model folder or Hub id; repeat to compare (default: the embedded checkpoint)")
    parser.add_argument("--data", default="../shared/data/tum_fr3_cabinet", help="dataset folder or Hub id")
    parser.add_argument("--depth-scale", type=float, default=None, help="stored depth per metre (folders without meta.json)")
    parser.add_argument("--baseline-from", default=None, help="training set whose median depth is the constant baseline")
    parser.add_argument("--out", default=None, help="folder for metrics.json, metrics.md and grid.png")
    parser.add_argument("--grid-rows", type=int, default=4, help="images in the RGB | GT | prediction | error grid")
    args = parser.parse_args(argv)

    dataset = load_depth_dataset(args.data, depth_scale=args.depth_scale)
    baselines, results, grids = {}, {}, []
    if args.baseline_from:
        train = [example_arrays(example)[1] for example in load_depth_dataset(args.baseline_from)]
        median, prior = median_depth(train), layout_prior(train)
        gts = [example_arrays(example)[1] for example in dataset]
        baselines[f"constant {median:.3f} m (train median)"] = depth_metrics([np.full_like(g, median) for g in gts], gts)
        baselines["train depth layout (no image)"] = depth_metrics(
            [layout_prediction(prior, median, g.shape) for g in gts], gts)
    for name in args.model or [None]:
        model, processor = load_model(name)
        label = name or "litedepth (embedded default)"
        results[label], kept = evaluate_dataset(model, processor, dataset, keep=args.grid_rows)
        grids.extend([rgb, colorize_depth(gt), colorize_depth(pred), error_map(pred, gt)] for rgb, gt, pred in kept)

    table = markdown_table({**baselines, **results})
    print(f"{args.data}: {len(dataset)} images\n\n{table}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps({"data": args.data, "baselines": baselines, "results": results}, indent=2) + "\n")
        (out / "metrics.md").write_text(f"Dataset: `{args.data}` ({len(dataset)} images)\n\n{table}\n")
        if grids:
            image_grid(grids).save(out / "grid.png")
        print(f"\nwrote {out}/metrics.json, metrics.md" + (", grid.png" if grids else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
