#!/usr/bin/env python
"""A contact sheet of an RGB-D folder: random frames, RGB above depth, one colour scale in metres.

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
    parser.add_argument("--near", type=float, default=0.4, help="depth at the bright end of the scale (m)")
    parser.add_argument("--far", type=float, default=10.0, help="depth at the dark end of the scale (m)")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dataset = load_depth_dataset(args.data)
    picks = np.sort(np.random.default_rng(args.seed).choice(len(dataset), min(args.num, len(dataset)), replace=False))
    rows = -(-len(picks) // args.columns)
    figure, axes = plt.subplots(2 * rows, args.columns, figsize=(2.2 * args.columns, 3.4 * rows),
                                gridspec_kw={"hspace": 0.02, "wspace": 0.03})
    for axis in axes.ravel():
        axis.axis("off")
    for k, index in enumerate(picks):
        rgb, depth, _ = example_arrays(dataset[int(index)])
        row, column = 2 * (k // args.columns), k % args.columns
        axes[row, column].imshow(rgb)
        axes[row + 1, column].imshow(colorize_depth(depth, near=args.near, far=args.far))
        axes[row, column].set_title(f"#{dataset[int(index)]['id']}", fontsize=7, pad=2)
    ramp = np.geomspace(args.near, args.far, 256)[None, :].repeat(8, 0)
    bar = figure.add_axes([0.25, 0.06, 0.5, 0.012])
    bar.imshow(colorize_depth(ramp, near=args.near, far=args.far), aspect="auto",
               extent=(np.log(args.near), np.log(args.far), 0, 1))
    ticks = [t for t in (0.5, 1, 2, 3, 5, 10, 20) if args.near <= t <= args.far]
    bar.set_xticks(np.log(ticks), [f"{t:g} m" for t in ticks], fontsize=8)
    bar.set_yticks([])
    bar.set_title("depth (z along the optical axis); black = no surface within the cap", fontsize=8)
    figure.suptitle(f"{len(picks)} random frames of {Path(args.data).name}: RGB above depth", fontsize=10, y=0.995)
    figure.subplots_adjust(left=0.01, right=0.99, top=0.965, bottom=0.09)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
