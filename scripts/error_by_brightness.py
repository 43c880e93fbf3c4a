#!/usr/bin/env python
"""Where a model's shapes go wrong, by how bright the pixels are.

Why: on real desks the renders-trained models draw black monitors, keyboards and phones too far; a number for it
says whether a change to the renders (generator v13's desk sets) fixed that, rather than a look at one grid. For
every frame of each folder the prediction is median-scaled to the ground truth (shapes, not metres; each frame's
focal length given where its row has intrinsics); pixels with depth are split by grey level of the image
(dark < 0.1, mid, bright >= 0.6, grey = mean of sRGB channels in [0, 1]), and per band the script prints the mean
over frames of the median log(prediction / ground truth) (+ too far, - too near) and of the share of pixels off by
more than 1.25x. Bands with under 100 pixels in a frame skip that frame. Measure on the training folder
(`../shared/data/tum_fr1_rpy`); the dev folders' numbers are for reporting, not tuning.

  python scripts/error_by_brightness.py --model litedepth_hf/checkpoints/litedepth-synth ../shared/data/tum_fr1_rpy
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from litedepth_cli import quiet_import_noise

quiet_import_noise()  # before the library's import pulls in transformers (and torchao where installed)
from litedepth_hf.data import example_arrays, load_manifest_folder  # noqa: E402
from litedepth_hf.inference import load_model, predict_depth  # noqa: E402

BANDS = {"dark (< 0.1)": (0.0, 0.1), "mid": (0.1, 0.6), "bright (>= 0.6)": (0.6, 1.01)}


def error_by_brightness(model, processor, folder: Path) -> dict:
    """{band: (frames, mean median log ratio, mean share off by > 1.25x)} over the frames of `folder`."""
    dataset = load_manifest_folder(folder)
    found = {band: [] for band in BANDS}
    for k in range(len(dataset)):
        rgb, depth, intrinsics = example_arrays(dataset[k])
        prediction = predict_depth(model, processor, [rgb], focal_length=intrinsics and intrinsics["fx"])[0]
        valid = (depth > 0) & np.isfinite(prediction) & (prediction > 0)
        error = np.log(np.where(valid, prediction, 1.0)) - np.log(np.where(valid, depth, 1.0))
        error -= np.median(error[valid])
        grey = rgb.astype(np.float32).mean(2) / 255
        for band, (low, high) in BANDS.items():
            pixels = valid & (grey >= low) & (grey < high)
            if pixels.sum() >= 100:
                found[band].append((np.median(error[pixels]), np.mean(np.abs(error[pixels]) > np.log(1.25))))
    return {band: (len(v), *np.mean(v, axis=0)) if v else (0, np.nan, np.nan) for band, v in found.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path, help="RGB-D manifest folders (real frames)")
    parser.add_argument("--model", default=None, help="model folder or Hub id (default: the embedded checkpoint)")
    args = parser.parse_args(argv)
    try:
        model, processor = load_model(args.model)
        print("| folder | band | frames | median log(pred / GT) | share off by > 1.25x |")
        print("|---|---|---|---|---|")
        for folder in args.folders:
            for band, (frames, bias, share) in error_by_brightness(model, processor, folder).items():
                print(f"| {folder.name} | {band} | {frames} | {bias:+.3f} | {share:.2f} |")
    except (OSError, ValueError) as error:
        print(f"error_by_brightness: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
