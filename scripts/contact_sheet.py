#!/usr/bin/env python
"""A contact sheet of an RGB-D folder: random frames, RGB above depth, each map's range in metres.

Each depth map uses the whole colour ramp between its own near and far depth (printed under it): a
shared scale would leave a desk scene and a hall both nearly one colour.

  python scripts/contact_sheet.py --data ~/.cache/litedepth/synth/s0 --out docs/synthetic/contact_sheet.png
"""

import argparse
from pathlib import Path

import numpy as np

from litedepth_hf.data import example_arrays, load_depth_dataset
from litedepth_hf.visualization import colorize_depth


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="manifest folder (e.g. `litedepth synth` output)")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--num", type=int, default=24, help="frames (default 24)")
    parser.add_argument("--columns", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0, help="which random frames (default 0)")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dataset = load_depth_dataset(args.data)
    picks = np.sort(np.random.default_rng(args.seed).choice(len(dataset), min(args.num, len(dataset)), replace=False))
    rows = -(-len(picks) // args.columns)
    figure, axes = plt.subplots(2 * rows, args.columns, figsize=(2.2 * args.columns, 3.7 * rows),
                                gridspec_kw={"hspace": 0.16, "wspace": 0.03})
    for axis in axes.ravel():
        axis.axis("off")
    for k, index in enumerate(picks):
        rgb, depth, _ = example_arrays(dataset[int(index)])
        row, column = 2 * (k // args.columns), k % args.columns
        axes[row, column].imshow(rgb)
        valid = depth[depth > 0]
        near, far = np.percentile(valid, 2), np.percentile(valid, 98)  # what colorize_depth spans
        axes[row + 1, column].imshow(colorize_depth(depth))
        axes[row, column].set_title(f"#{dataset[int(index)]['id']}", fontsize=7, pad=2)
        axes[row + 1, column].set_title(f"{near:.2f} m (bright) - {far:.2f} m (dark)", fontsize=6.5, pad=2)
    ramp = np.geomspace(1.0, 4.0, 256)[None, :].repeat(8, 0)
    bar = figure.add_axes([0.3, 0.05, 0.4, 0.012])
    bar.imshow(colorize_depth(ramp), aspect="auto")
    bar.set_xticks([0, 255], ["near", "far"], fontsize=8)
    bar.set_yticks([])
    bar.set_title("depth colours, inverse depth between each map's near and far (metres above it)", fontsize=8)
    figure.suptitle(f"{len(picks)} random frames of {Path(args.data).name}: RGB above depth", fontsize=10, y=0.995)
    figure.subplots_adjust(left=0.01, right=0.99, top=0.955, bottom=0.08)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
