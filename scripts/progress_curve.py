#!/usr/bin/env python
"""Where the render-trained models stand against issue 24's goals, run by run, as one picture.

Reads the record of every scored run (`docs/runs.json`, copied from the outcome tables of docs/training.md) and
draws two panels: si-RMSE as a multiple of a constant depth per dev folder (goals: <= 0.8x everywhere, <= 0.45x on
the cabinet) and the metric median scale with each frame's focal length given (goal: 0.8-1.25). A reader sees at a
glance which change moved which folder, and how far each goal still is.

  python scripts/progress_curve.py                       # docs/runs.json -> docs/progress.png
  python scripts/progress_curve.py --runs R.json --out P.png
"""

import argparse
import json
import sys
from pathlib import Path

FOLDERS = ["tum_fr3_cabinet", "tum_fr3_long_office_household", "tum_fr2_desk", "icl_livingroom", "tum_fr1_rpy"]
SHORT = {"tum_fr3_cabinet": "cabinet (58)", "tum_fr3_long_office_household": "hall (2)",
         "tum_fr2_desk": "fr2 desk (2)", "icl_livingroom": "ICL room (5)", "tum_fr1_rpy": "fr1 desk (120)",
         "overall": "overall (4 folders)"}


def load_runs(path: Path) -> dict:
    """The record, checked, so a bad one is one line: its keys, every run's label and numeric scores, and a constant
    for every folder a run scores."""
    record = json.loads(path.read_text())
    for key in ("constant", "targets", "runs"):
        if key not in record:
            raise ValueError(f"{path}: no '{key}' entry")
    for key in ("si_rmse_over_constant", "tum_fr3_cabinet_si_rmse_over_constant", "median_scale"):
        if key not in record["targets"]:
            raise ValueError(f"{path}: no targets['{key}']")
    for run in record["runs"]:
        if "label" not in run or "si_rmse" not in run:
            raise ValueError(f"{path}: a run without 'label' or 'si_rmse': {run}")
        unknown = set(run["si_rmse"]) - set(record["constant"])
        if unknown:
            raise ValueError(f"{path}: no constant baseline for {sorted(unknown)} (run '{run['label']}')")
        unknown = (set(run["si_rmse"]) | set(run.get("median_scale", {}))) - set(FOLDERS) - {"overall"}
        if unknown:
            raise ValueError(f"{path}: folders this picture does not draw: {sorted(unknown)} (run '{run['label']}')")
        for kind in ("si_rmse", "median_scale"):
            for folder, value in run.get(kind, {}).items():
                if not isinstance(value, (int, float)) or not value > 0:
                    raise ValueError(f"{path}: {kind} of {folder} in run '{run['label']}' is not a positive number")
    return record


def draw(record: dict, out: Path) -> None:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import NullFormatter
    except ImportError:
        raise ValueError("drawing needs matplotlib (pip install 'litedepth-hf[train]')") from None

    runs = record["runs"]
    x = list(range(len(runs)))
    figure = Figure(figsize=(14, 6.2))
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    colours = dict(zip(FOLDERS + ["overall"], ["C3", "C0", "C2", "C1", "C4", "black"]))
    for folder in FOLDERS + ["overall"]:
        points = [(i, run["si_rmse"][folder] / record["constant"][folder]) for i, run in enumerate(runs)
                  if folder in run["si_rmse"]]
        if points:
            left.plot(*zip(*points), marker="o", color=colours[folder], label=SHORT[folder],
                      linewidth=2.5 if folder == "overall" else 1.2)
        scales = [(i, run["median_scale"][folder]) for i, run in enumerate(runs) if folder in run.get("median_scale", {})]
        if scales:
            right.plot(*zip(*scales), marker="o", color=colours[folder], label=SHORT[folder], linewidth=1.2)
    targets = record["targets"]
    left.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    left.axhline(targets["si_rmse_over_constant"], color="grey", linestyle="--", linewidth=1)
    left.axhline(targets["tum_fr3_cabinet_si_rmse_over_constant"], color=colours["tum_fr3_cabinet"], linestyle="--",
                 linewidth=1)
    left.text(len(runs) - 0.5, 1.0, "a constant depth", ha="right", va="bottom", fontsize=8, color="grey")
    left.text(len(runs) - 0.5, targets["si_rmse_over_constant"], "goal, every folder", ha="right", va="bottom",
              fontsize=8, color="grey")
    left.text(len(runs) - 0.5, targets["tum_fr3_cabinet_si_rmse_over_constant"], "goal, cabinet", ha="right",
              va="bottom", fontsize=8, color=colours["tum_fr3_cabinet"])
    left.set_ylim(bottom=min(0.4, left.get_ylim()[0]))
    left.set_ylabel("si-RMSE / constant (lower is better)")
    left.set_title("relative depth, per dev folder")
    low, high = targets["median_scale"]
    right.axhspan(low, high, color="green", alpha=0.08, label=f"goal {low}-{high}")
    right.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    right.set_yscale("log")
    right.yaxis.set_minor_formatter(NullFormatter())  # only the named ticks: 6x10^-1 labels read badly
    right.set_yticks([0.5, 0.63, 0.8, 1.0, 1.25, 1.6, 2.0], labels=["0.5", "0.63", "0.8", "1", "1.25", "1.6", "2"])
    right.set_ylabel("median scale, prediction / GT (focal length given)")
    right.set_title("metric depth, per dev folder")
    for axis in (left, right):
        axis.set_xticks(x, [run["label"] + ("  [default]" if run.get("default") else "") for run in runs],
                        rotation=35, ha="right", fontsize=7.5)
        axis.set_xlim(-0.4, len(runs) - 0.4)
        axis.grid(alpha=0.3)
    # legends beside the panels, clear of the first runs' points
    left.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    right.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    figure.suptitle("LiteDepth trained here on our renders (one run warm-started, one with 10 % real desk frames), "
                    "scored once per run on real dev frames; one seed each, seed spread ~0.028 overall", fontsize=10)
    figure.tight_layout()
    figure.savefig(out, dpi=100)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--runs", type=Path, default=root / "docs" / "runs.json", help="the record (default docs/runs.json)")
    parser.add_argument("--out", type=Path, default=root / "docs" / "progress.png", help="PNG to write (default docs/progress.png)")
    args = parser.parse_args(argv)
    if not args.out.parent.is_dir():
        print(f"error: no folder {args.out.parent} to write {args.out.name} into", file=sys.stderr)
        return 1
    try:
        record = load_runs(args.runs)
        draw(record, args.out)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{len(record['runs'])} runs -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
