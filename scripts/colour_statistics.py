#!/usr/bin/env python
"""Colour statistics of RGB-D folders, to put renders beside real frames in numbers.

Why: "do the renders look like the real rooms?" needs a measure as well as eyes. For random frames of each
folder, at 120x160: HSV saturation (mean, and the share of pixels above 0.5), the sRGB mean, the standard
deviation of grey (global contrast) and the mean grey gradient (edges and texture). Compare renders against
the *training* folder only (`../shared/data/tum_fr1_rpy`); tuning a renderer on the dev folders would make
their scores validation, not test, numbers.

  python scripts/colour_statistics.py ../shared/data/tum_fr1_rpy ~/.cache/litedepth/synth/s3-240x320-spp4-v5-photos-ycb
"""

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from PIL import Image

COLUMNS = ("saturation", "saturation > 0.5", "sRGB mean", "grey std", "grey gradient")


def colour_statistics(folder: Path, frames: int = 300, seed: int = 0) -> dict:
    """The COLUMNS averaged over up to `frames` random frames of a manifest folder."""
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"{folder} has no manifest.csv")
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{manifest} lists no frames")
    picked = np.random.default_rng(seed).choice(len(rows), min(frames, len(rows)), replace=False)
    values = []
    for k in picked:
        with Image.open(folder / rows[k]["rgb"]) as opened:
            image = opened.convert("RGB").resize((160, 120), Image.BILINEAR)
        saturation = np.asarray(image.convert("HSV"), np.float32)[..., 1] / 255
        grey = np.asarray(image, np.float32).mean(2) / 255
        gy, gx = np.gradient(grey)
        values.append((saturation.mean(), (saturation > 0.5).mean(), grey.mean(), grey.std(), np.hypot(gx, gy).mean()))
    return dict(zip(COLUMNS, np.mean(values, axis=0)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path, help="manifest folders (real or rendered)")
    parser.add_argument("--frames", type=int, default=300, help="random frames per folder (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="which random frames (default 0)")
    args = parser.parse_args(argv)
    print("| folder | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for folder in args.folders:
        try:
            stats = colour_statistics(folder, args.frames, args.seed)
        except (OSError, ValueError) as error:
            print(f"colour_statistics: {error}", file=sys.stderr)
            return 1
        print(f"| {folder.name} | " + " | ".join(f"{stats[c]:.3f}" for c in COLUMNS) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
