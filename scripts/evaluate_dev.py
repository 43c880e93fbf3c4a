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

from litedepth_cli import quiet_import_noise

quiet_import_noise()  # before the library's import pulls in transformers (and torchao where installed)
from litedepth_hf.data import DEV_FOLDERS, TRAIN_FOLDER, example_arrays, load_depth_dataset  # noqa: E402
from litedepth_hf.inference import evaluate_dataset, load_model, resolve_checkpoint  # noqa: E402
from litedepth_hf.metrics import METRIC_NAMES, depth_metrics, layout_prediction, layout_prior, median_depth  # noqa: E402
from litedepth_hf.visualization import colorize_depth, depth_range, error_map, image_grid  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""The project's data beside the checkout (not the working directory): the default folders come from here."""


def never_saw(model_name, folder_name: str) -> bool:
    """Whether a model's training_run.json shows it never trained on `folder_name` (a renders-only model
    never saw tum_fr1_rpy, which then joins its dev folders). Unknown history (a Hub id, no record): False."""
    record = Path(resolve_checkpoint(model_name)) / "training_run.json"
    if not record.is_file():
        return False
    sources = json.loads(record.read_text()).get("script_args", {}).get("train_data") or []
    sources = [sources] if isinstance(sources, str) else sources
    return not any(folder_name in str(source) for source in sources)


class PortraitCrops:
    """A dataset's rows as their central 3:4 portrait crops (image, depth, cx): how phone photos are shaped."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        row = dict(self.dataset[int(index)])
        image = row["image"] if hasattr(row["image"], "crop") else Image.open(row["image"])
        depth = row["depth"] if hasattr(row["depth"], "crop") else Image.open(row["depth"])
        width = int(round(image.height * 3 / 4))
        left = (image.width - width) // 2
        row["image"], row["depth"] = (im.crop((left, 0, left + width, im.height)) for im in (image, depth))
        if "cx" in row and row["cx"] is not None:
            row["cx"] = float(row["cx"]) - left
        return row


def markdown_table(rows: dict) -> str:
    header = "| model | " + " | ".join(METRIC_NAMES) + " |"
    lines = [header, "|" + "---|" * (len(METRIC_NAMES) + 1)]
    for name, metrics in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{metrics[m]:.4f}" for m in METRIC_NAMES) + " |")
    return "\n".join(lines)


def overall(per_folder: list) -> dict:
    """Folders weighted equally (each folder's row already weights its frames equally)."""
    return {m: float(np.mean([row[m] for row in per_folder])) for m in METRIC_NAMES} | {
        "num_images": int(sum(row["num_images"] for row in per_folder)), "num_folders": len(per_folder)}


def main(argv=None) -> int:
    """The script; a missing folder, an unreadable model or bad data ends in one line and exit status 1."""
    try:
        return evaluate(argv)
    except (OSError, ValueError) as error:
        print(f"evaluate_dev.py: error: {error}", file=sys.stderr)
        return 1


def evaluate(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=None,
                        help="model folder or Hub id; repeat to compare (default: the embedded checkpoint)")
    parser.add_argument("--data", action="append", default=None,
                        help="dataset folder or Hub id; repeat for several (default: the four dev folders of "
                        f"{SHARED_DATA}: " + ", ".join(DEV_FOLDERS) + f", and {TRAIN_FOLDER} when no compared "
                        "model trained on it)")
    parser.add_argument("--depth-scale", type=float, default=None, help="stored depth per metre (folders without meta.json)")
    parser.add_argument("--baseline-from", default=str(SHARED_DATA / TRAIN_FOLDER),
                        help="training set whose median depth and depth layout are the image-blind baselines "
                        "('none' to skip; default: the training folder)")
    parser.add_argument("--out", default=None, help="folder for metrics.json, metrics.md and grid.png")
    parser.add_argument("--grid-rows", type=int, default=4, help="images per folder in the RGB | GT | prediction | error grid")
    parser.add_argument("--portrait", action="store_true",
                        help="score the central 3:4 portrait crop of every frame (how phone photos are shaped)")
    parser.add_argument("--squash", action="store_true",
                        help="resize every image to the model's input size, aspect ratio not kept (the behaviour "
                        "before 2026-12-06), to compare with the default that keeps it")
    parser.add_argument("--max-frames", type=int, default=None, metavar="N",
                        help="score only the first N frames of each folder (a rendered set holds 12,000: its first "
                        "frames tell how well a run fits its renders; in a real sequence the first N are "
                        "consecutive, not a sample); metrics.json records [scored, held] per folder")
    parser.add_argument("--overwrite", action="store_true", help="replace the metrics and grid already in --out")
    args = parser.parse_args(argv)
    if args.max_frames is not None and args.max_frames < 1:
        parser.error(f"--max-frames must be at least 1, got {args.max_frames}")
    written = ("metrics.json", "metrics.md", "grid.png")
    present = [name for name in written if args.out and (Path(args.out) / name).exists()]
    if present and not args.overwrite:  # a saved metrics.json is what `litedepth push --eval-results` reads
        parser.error(f"--out {args.out} already holds {', '.join(present)}: pass --overwrite to replace them, or "
                     "choose another --out")

    folders = args.data or [str(SHARED_DATA / name) for name in DEV_FOLDERS]
    scored = list(folders)  # the folders "overall" averages: the dev set as given, comparable across models
    if not args.data and all(never_saw(name, TRAIN_FOLDER) for name in (args.model or [None])):
        folders.append(str(SHARED_DATA / TRAIN_FOLDER))  # unseen by every model compared: one more room, reported
        # on its own row, outside "overall", so overall scores stay comparable with models that trained on it
    datasets = {folder: load_depth_dataset(folder, depth_scale=args.depth_scale) for folder in folders}  # before
    # the models load, so a mistyped folder is said at once
    models = [(name, load_model(name)) for name in (args.model or [None])]
    for _, (_, processor) in models:
        if args.squash and hasattr(processor, "keep_aspect_ratio"):
            processor.keep_aspect_ratio = False
    train = None
    if args.baseline_from and args.baseline_from.lower() != "none":
        depths = [example_arrays(example)[1] for example in load_depth_dataset(args.baseline_from)]
        train = (median_depth(depths), layout_prior(depths))
    record = {"data": folders if len(folders) > 1 else folders[0], "folders": {}}
    sections, grids = [], []
    for folder in folders:
        dataset = datasets[folder]
        held = len(dataset)
        if args.max_frames and held > args.max_frames:
            dataset = dataset.select(range(args.max_frames))
        if args.portrait:
            dataset = PortraitCrops(dataset)
        baselines, results = {}, {}
        if train:
            median, prior = train
            gts = [example_arrays(example)[1] for example in dataset]
            baselines[f"constant {median:.3f} m (train median)"] = depth_metrics([np.full_like(g, median) for g in gts], gts)
            baselines["train depth layout (no image)"] = depth_metrics(
                [layout_prediction(prior, median, g.shape) for g in gts], gts)
        for name, (model, processor) in models:
            label = name or "litedepth (embedded default)"
            results[label], kept = evaluate_dataset(model, processor, dataset, keep=args.grid_rows)
            for rgb, gt, pred in kept:  # GT and prediction on the GT's scale; the error on its own diverging map
                near, far = depth_range(gt)
                grids.append([rgb, colorize_depth(gt, near, far), colorize_depth(pred, near, far), error_map(pred, gt)])
        record["folders"][folder] = {"baselines": baselines, "results": results, "frames": [len(dataset), held]}
        shown = f"the first {len(dataset)} of {held} images" if len(dataset) < held else f"{held} images"
        sections.append(f"{folder}: {shown}\n\n{markdown_table({**baselines, **results})}")
    if len(scored) > 1:
        first = record["folders"][scored[0]]
        record["baselines"] = {k: overall([record["folders"][f]["baselines"][k] for f in scored]) for k in first["baselines"]}
        record["results"] = {k: overall([record["folders"][f]["results"][k] for f in scored]) for k in first["results"]}
        sections.append(f"overall: {len(scored)} folders weighted equally, frames equally within each"
                        + (f" ({TRAIN_FOLDER} above is not among them)" if len(folders) > len(scored) else "") + "\n\n"
                        + markdown_table({**record["baselines"], **record["results"]}))
    else:
        record.update(record["folders"][folders[0]])
    text = "\n\n".join(sections)
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(record, indent=2) + "\n")
        (out / "metrics.md").write_text(text + "\n")
        if not grids and (out / "grid.png").exists():
            (out / "grid.png").unlink()  # an older run's grid beside these metrics would not be theirs
        if grids:
            image_grid(grids, headers=["RGB", "ground truth (near = bright)", "prediction (same scale)",
                                       "log(pred / GT): blue near, red far, +-0.5"]).save(out / "grid.png")
        print(f"\nwrote {out}/metrics.json, metrics.md" + (", grid.png" if grids else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
