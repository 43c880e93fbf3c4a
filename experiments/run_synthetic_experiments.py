#!/usr/bin/env python
"""Which training data makes LiteDepth see depth in rooms it never saw: recipes x seeds, same step budget.

Each recipe trains `scripts/train.py` from scratch for `--steps` steps (batch 8) and is scored by
`scripts/evaluate_dev.py` on the four dev folders (never trained on); results are si-RMSE as a
multiple of the constant-depth baseline, per folder and overall (folders weighted equally).

  python experiments/run_synthetic_experiments.py --synth ~/.cache/litedepth/synth/s0-240x320-spp8-direct-llvm \\
      --recipes real,synth,mixed,restyled,synth_then_real --seeds 0,1 --steps 2000 --out runs/synth_experiments

Recipes: real (the desk only), synth (renders only), synth2k (the first 2,000 renders: frames depend on
(seed, index) only, so this is exactly a 2k-scene set), mixed (renders 80 % + desk 20 % of every
epoch), restyled (renders colour-matched to desk frames), synth_then_real (the synth run of the same
seed, fine-tuned on the desk for a quarter of the budget at a tenth of the learning rate).
Writes OUT/results.json, OUT/results.md and OUT/results.png; finished runs are reused.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # beside the checkout
COMMON = ["--augment", "strong", "--loss_weighting", "fixed", "--per_device_train_batch_size", "8",
          "--warmup_steps", "100", "--weight_decay", "0.1", "--logging_steps", "50", "--save_strategy", "no",
          "--report_to", "none", "--disable_tqdm", "true"]


def recipes(synth: str, real: str) -> dict:
    name = Path(synth).name
    return {
        "real": ["--train_data", real],
        "synth": ["--train_data", synth],
        "synth2k": ["--train_data", synth, "--max_train_samples", "2000"],
        "mixed": ["--train_data", f"{synth},{real}", "--train_mix", f"{name}=0.8,{Path(real).name}=0.2"],
        "restyled": ["--train_data", synth, "--restyle_from", real],
    }


def run(command: list, log: Path):
    with log.open("w") as handle:
        result = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}): {' '.join(command)}\nsee {log}")


def train(out: Path, flags: list, steps: int, seed: int, crop: str, lr: float = 4e-3):
    if (out / "model.safetensors").is_file():
        return
    out.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "scripts/train.py", *flags, *COMMON, "--crop", crop, "--max_steps", str(steps),
         "--seed", str(seed), "--learning_rate", str(lr), "--output_dir", str(out), "--overwrite_output_dir"],
        out.parent / f"{out.name}.log")


def evaluate(model: Path) -> dict:
    target = model / "dev_eval"
    if not (target / "metrics.json").is_file():
        run([sys.executable, "scripts/evaluate_dev.py", "--model", str(model), "--out", str(target),
             "--grid-rows", "0", "--overwrite"], model.parent / f"{model.name}.eval.log")
    record = json.loads((target / "metrics.json").read_text())
    scores = {}
    for folder, tables in record["folders"].items():
        constant = next(v for k, v in tables["baselines"].items() if k.startswith("constant"))
        layout = tables["baselines"]["train depth layout (no image)"]
        model_row = next(iter(tables["results"].values()))
        scores[Path(folder).name] = {"si_rmse": model_row["si_rmse"], "ratio": model_row["si_rmse"] / constant["si_rmse"],
                                     "layout_ratio": layout["si_rmse"] / constant["si_rmse"],
                                     "constant": constant["si_rmse"], "layout": layout["si_rmse"]}
    ratios = [s["ratio"] for s in scores.values()]
    scores["overall"] = {"ratio": float(np.mean(ratios)),
                         "si_rmse": next(iter(record["results"].values()))["si_rmse"]}
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synth", required=True, help="a `litedepth synth` folder")
    parser.add_argument("--real", default=str(DATA / "tum_fr1_rpy"), help="the real training folder")
    parser.add_argument("--recipes", default="real,synth,synth2k,mixed,restyled,synth_then_real")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--out", default="runs/synth_experiments")
    parser.add_argument("--finetune-from", default=None,
                        help="instead of the recipes: fine-tune this checkpoint on half of the real folder's frames "
                        "and compare with training from scratch, scored on the other half")
    parser.add_argument("--finetune-steps", type=int, default=300)
    parser.add_argument("--crop", default="r2", choices=("r2", "fixed"),
                        help="crop of every run (default r2; the fixed-crop default checkpoint fine-tunes with fixed)")
    args = parser.parse_args(argv)
    if args.finetune_from:
        return finetune_demo(args)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = recipes(args.synth, args.real)
    results = {}
    for recipe in args.recipes.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            run_dir = out / f"{recipe}-s{seed}"
            if recipe == "synth_then_real":
                base = out / f"synth-s{seed}"
                train(base, table["synth"], args.steps, seed, args.crop)
                train(run_dir, ["--train_data", args.real, "--model_name_or_path", str(base)], args.steps // 4, seed,
                      args.crop, lr=4e-4)
            else:
                train(run_dir, table[recipe], args.steps, seed, args.crop)
            results.setdefault(recipe, {})[seed] = evaluate(run_dir)
            print(f"{recipe} seed {seed}: " + ", ".join(f"{k} {v['ratio']:.3f}" for k, v in results[recipe][seed].items()),
                  flush=True)
    (out / "results.json").write_text(json.dumps({"steps": args.steps, "synth": args.synth, "results": results},
                                                 indent=2) + "\n")
    folders = [k for k in next(iter(next(iter(results.values())).values())) if k != "overall"]
    lines = ["| recipe | " + " | ".join(folders) + " | overall |", "|---|" + "---|" * (len(folders) + 1)]
    for recipe, seeds in results.items():
        cells = []
        for folder in folders + ["overall"]:
            values = [seeds[s][folder]["ratio"] for s in seeds]
            cells.append(" / ".join(f"{v:.2f}" for v in values))
        lines.append(f"| {recipe} | " + " | ".join(cells) + " |")
    first = next(iter(next(iter(results.values())).values()))
    lines.append("| layout baseline (no image) | " + " | ".join(f"{first[f]['layout_ratio']:.2f}" for f in folders)
                 + f" | {np.mean([first[f]['layout_ratio'] for f in folders]):.2f} |")
    text = (f"si-RMSE as a multiple of the constant-depth baseline (lower is better; 1.00 = constant), "
            f"{args.steps} steps of batch 8, seeds {args.seeds} (one value per seed):\n\n" + "\n".join(lines))
    (out / "results.md").write_text(text + "\n")
    print(text)
    plot(results, folders, out / "results.png", args.steps)


def split_halves(real: Path, out: Path) -> tuple:
    """Two manifest folders over the real folder's files: its first and its second half of frames (in time)."""
    import csv

    with (real / "manifest.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    halves = []
    for k, part in enumerate((rows[: len(rows) // 2], rows[len(rows) // 2:])):
        folder = out / f"{real.name}_half{k}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "meta.json").write_text((real / "meta.json").read_text())
        with (folder / "manifest.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({**r, "rgb": str((real / r["rgb"]).resolve()), "depth": str((real / r["depth"]).resolve())}
                             for r in part)
        halves.append(folder)
    return tuple(halves)


def finetune_demo(args):
    """A user with ~60 frames of their own room: start from the render-pretrained checkpoint or from scratch."""
    out = Path(args.out)
    train_half, test_half = split_halves(Path(args.real), out)
    lines = ["| start | " + " | ".join(f"seed {s}" for s in args.seeds.split(",")) + " |", "|---|" + "---|" * len(args.seeds.split(","))]
    record = {}
    for label, start in (("from scratch", None), (f"from {Path(args.finetune_from).name}", args.finetune_from)):
        ratios = []
        for seed in (int(s) for s in args.seeds.split(",")):
            run_dir = out / f"finetune-{'scratch' if start is None else 'pretrained'}-s{seed}"
            flags = ["--train_data", str(train_half)] + (["--model_name_or_path", start] if start else [])
            train(run_dir, flags, args.finetune_steps, seed, args.crop, lr=4e-3 if start is None else 1e-3)
            target = run_dir / "half_eval"
            if not (target / "metrics.json").is_file():
                run([sys.executable, "scripts/evaluate_dev.py", "--model", str(run_dir), "--data", str(test_half),
                     "--baseline-from", str(train_half), "--out", str(target), "--grid-rows", "0", "--overwrite"],
                    out / f"{run_dir.name}.eval.log")
            metrics = json.loads((target / "metrics.json").read_text())
            constant = next(v for k, v in metrics["baselines"].items() if k.startswith("constant"))
            ratios.append(next(iter(metrics["results"].values()))["si_rmse"] / constant["si_rmse"])
        record[label] = ratios
        lines.append(f"| {label} | " + " | ".join(f"{r:.3f}" for r in ratios) + " |")
    text = (f"Fine-tuning on the first {Path(args.real).name} half ({args.finetune_steps} steps), scored on the second "
            "half; si-RMSE as a multiple of the constant (the first half's median depth):\n\n" + "\n".join(lines))
    (out / "finetune.json").write_text(json.dumps(record, indent=2) + "\n")
    (out / "finetune.md").write_text(text + "\n")
    print(text)


def plot(results: dict, folders: list, path: Path, steps: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = folders + ["overall"]
    figure, axis = plt.subplots(figsize=(1.6 + 1.3 * len(columns) * len(results) / 3, 3.8))
    width = 0.8 / len(results)
    for k, (recipe, seeds) in enumerate(results.items()):
        for j, column in enumerate(columns):
            values = [seeds[s][column]["ratio"] for s in seeds]
            x = j + (k - (len(results) - 1) / 2) * width
            axis.bar(x, np.mean(values), width * 0.9, color=f"C{k}", label=recipe if j == 0 else None)
            axis.scatter([x] * len(values), values, color="black", s=6, zorder=3)
    axis.axhline(1.0, color="grey", lw=1, ls="--")
    axis.text(len(columns) - 0.5, 1.01, "constant depth", ha="right", va="bottom", fontsize=7, color="grey")
    axis.set_xticks(range(len(columns)), [c.replace("tum_", "").replace("_", "\n", 1) for c in columns], fontsize=7)
    axis.set_ylabel("si-RMSE / constant's")
    axis.set_title(f"Dev scenes never trained on: {steps} steps each, bars = mean, dots = seeds", fontsize=9)
    axis.legend(fontsize=7, ncol=3, loc="lower left")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    main()
