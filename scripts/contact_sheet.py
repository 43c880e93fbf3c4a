#!/usr/bin/env python
"""A contact sheet of an RGB-D folder: random frames, RGB above depth, each map's range in metres.

Each depth map uses the whole colour ramp between its own near and far depth (printed under it): a
shared scale would leave a desk scene and a hall both nearly one colour.

With `--beside REAL ...` it draws a strip instead: `--num` real frames (spread over the given folders) in
the top rows and, under each, the rendered frame of `--data` whose layout is most like it (nearest
12x16 thumbnail of log depth over its median, among up to 3,000 renders), so a reader can judge how
photographic the renders are.

  python scripts/contact_sheet.py --data ~/.cache/litedepth/synth/s0 --out docs/synthetic/contact_sheet.png
  python scripts/contact_sheet.py --data RENDERS --beside ../shared/data/tum_fr3_cabinet ../shared/data/icl_livingroom \
      --num 8 --columns 8 --out docs/synthetic/real_vs_render.png
"""

import argparse
from pathlib import Path

import numpy as np

from litedepth_cli import quiet_import_noise

quiet_import_noise()  # before the library's import pulls in transformers (and torchao where installed)
from litedepth_hf.data import example_arrays, load_depth_dataset  # noqa: E402
from litedepth_hf.visualization import colorize_depth  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="manifest folder (e.g. `litedepth synth` output)")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--num", type=int, default=24, help="frames (default 24)")
    parser.add_argument("--columns", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0, help="which random frames (default 0)")
    parser.add_argument("--beside", nargs="+", default=None, metavar="REAL",
                        help="real RGB-D folders: draw real frames above the renders of most similar layout")
    args = parser.parse_args(argv)
    if args.beside:
        return strip(args)

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


def _layout(depth: np.ndarray) -> np.ndarray:
    """A 12x16 thumbnail of log depth over its median (holes filled by the median): scale-free layout."""
    valid = depth > 0
    filled = np.where(valid, depth, np.median(depth[valid]) if valid.any() else 1.0)
    h, w = filled.shape[0] // 12 * 12, filled.shape[1] // 16 * 16
    log = np.log(filled[:h, :w] / np.median(filled))
    return log.reshape(12, h // 12, 16, w // 16).mean((1, 3)).ravel()


def strip(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(args.seed)
    reals = []
    per_folder = [args.num // len(args.beside) + (k < args.num % len(args.beside)) for k in range(len(args.beside))]
    for folder, count in zip(args.beside, per_folder):
        data = load_depth_dataset(folder)
        for index in np.sort(rng.choice(len(data), min(count, len(data)), replace=False)):
            reals.append((Path(folder).name, example_arrays(data[int(index)])))
    renders = load_depth_dataset(args.data)
    pool = rng.choice(len(renders), min(3000, len(renders)), replace=False)
    layouts = np.stack([_layout(example_arrays(renders[int(i)])[1]) for i in pool])
    figure, axes = plt.subplots(4, len(reals), figsize=(2.2 * len(reals), 7.2), gridspec_kw={"hspace": 0.12, "wspace": 0.03})
    used = set()
    for column, (name, (rgb, depth, _)) in enumerate(reals):
        distance = np.abs(layouts - _layout(depth)).mean(1)
        distance[list(used)] = np.inf  # each render once
        best = int(np.argmin(distance))
        used.add(best)
        render_rgb, render_depth, _ = example_arrays(renders[int(pool[best])])
        for row, (image, title) in enumerate(((rgb, name), (colorize_depth(depth), "real depth"),
                                              (render_rgb, f"render #{renders[int(pool[best])]['id']}"),
                                              (colorize_depth(render_depth), "render depth"))):
            axes[row, column].imshow(image)
            axes[row, column].set_title(title, fontsize=7, pad=2)
            axes[row, column].axis("off")
    figure.suptitle("real frames (rows 1-2, never trained on) above the render of most similar layout (rows 3-4)",
                    fontsize=10, y=0.995)
    figure.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.01)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
