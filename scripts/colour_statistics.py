#!/usr/bin/env python
"""Colour statistics of RGB-D folders, to put renders beside real frames in numbers.

Why: "do the renders look like the real rooms?" needs a measure as well as eyes. For random frames of each
folder, at 120x160: HSV saturation (mean, and the share of pixels above 0.5), the sRGB mean, the standard
deviation of grey (global contrast), the share of near-black pixels (grey < 0.1: monitors, keyboards, deep
shadow), the mean grey gradient (edges and texture) and the share of strong grey
edges (gradient > 0.05) that lie on a depth edge (|grad log depth| > 0.08, +-1 pixel): how far edges in the image
mean edges in the scene. (TUM's colour and depth are not perfectly registered, so a real folder's share is
lower than its scenes' alone would give; compare renders with it for direction, not equality.) Compare renders against
the *training* folder only (`../shared/data/tum_fr1_rpy`); tuning a renderer on the dev folders would make
their scores validation, not test, numbers.

  python scripts/colour_statistics.py ../shared/data/tum_fr1_rpy ~/.cache/litedepth/synth/s3-240x320-spp4-v5-photos-ycb

`--camera-model` passes rendered folders through the training camera model first (one fresh draw per frame, as
`--camera_model` does in training): the numbers of what the network actually sees. Real folders are left as
they are.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from litedepth_cli import quiet_import_noise

quiet_import_noise()  # before the library's import pulls in transformers (and torchao where installed)
from litedepth_hf.data import example_arrays, is_rendered, load_manifest_folder  # noqa: E402
from litedepth_hf.synthetic.camera_model import apply_camera_model  # noqa: E402

COLUMNS = ("saturation", "saturation > 0.5", "sRGB mean", "grey std", "grey < 0.1", "grey gradient",
           "edges on depth edges")


def _grow(mask: np.ndarray, pixels: int = 1) -> np.ndarray:
    """A boolean mask grown by `pixels` in the 8 directions."""
    for _ in range(pixels):
        padded = np.pad(mask, 1)
        mask = np.max([padded[1 + dy:padded.shape[0] - 1 + dy, 1 + dx:padded.shape[1] - 1 + dx]
                       for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=0)
    return mask


def edges_on_depth_edges(grey: np.ndarray, depth: np.ndarray) -> float:
    """Share of strong grey edges (gradient > 0.05) within a pixel of a depth edge, away from missing depth;
    NaN when a frame has under 20 strong edges."""
    valid = depth > 0
    gy, gx = np.gradient(np.log(np.where(valid, depth, 1.0)))
    depth_edge = _grow((np.hypot(gx, gy) > 0.08) & valid)
    gy, gx = np.gradient(grey)
    strong = (np.hypot(gx, gy) > 0.05) & ~_grow(~valid, 2)
    return float((strong & depth_edge).sum() / strong.sum()) if strong.sum() >= 20 else float("nan")


def colour_statistics(folder: Path, frames: int = 300, seed: int = 0, camera_model: bool = False) -> dict:
    """The COLUMNS averaged over up to `frames` random frames of a manifest folder; with `camera_model`, each
    frame first goes through the training camera model (rendered folders only)."""
    dataset = load_manifest_folder(folder)
    camera_model = camera_model and is_rendered(folder)
    picked = np.random.default_rng(seed).choice(len(dataset), min(frames, len(dataset)), replace=False)
    values = []
    for k in picked:
        rgb, depth, _ = example_arrays(dataset[int(k)])
        if camera_model:
            rgb = apply_camera_model(rgb, np.random.default_rng([seed, int(k)]))
        image = Image.fromarray(rgb).resize((160, 120), Image.BILINEAR)
        saturation = np.asarray(image.convert("HSV"), np.float32)[..., 1] / 255
        grey = np.asarray(image, np.float32).mean(2) / 255
        gy, gx = np.gradient(grey)
        depth = np.asarray(Image.fromarray(depth).resize((160, 120), Image.NEAREST))
        values.append((saturation.mean(), (saturation > 0.5).mean(), grey.mean(), grey.std(), (grey < 0.1).mean(),
                       np.hypot(gx, gy).mean(), edges_on_depth_edges(grey, depth)))
    columns = np.array(values, np.float64).T
    return {name: float(c[np.isfinite(c)].mean()) if np.isfinite(c).any() else float("nan")
            for name, c in zip(COLUMNS, columns)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path, help="manifest folders (real or rendered)")
    parser.add_argument("--frames", type=int, default=300, help="random frames per folder (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="which random frames (default 0)")
    parser.add_argument("--camera-model", action="store_true",
                        help="pass rendered folders through the training camera model first")
    args = parser.parse_args(argv)
    print("| folder | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for folder in args.folders:
        try:
            stats = colour_statistics(folder, args.frames, args.seed, args.camera_model)
        except (OSError, ValueError) as error:
            print(f"colour_statistics: {error}", file=sys.stderr)
            return 1
        print(f"| {folder.name} | " + " | ".join("n/a" if np.isnan(stats[c]) else f"{stats[c]:.3f}" for c in COLUMNS) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
