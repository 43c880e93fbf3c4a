#!/usr/bin/env python
"""Dev si-RMSE against the number of rendered scenes (and any extra runs), from `evaluate_dev.py --out` files.

  python experiments/scene_count_curve.py --runs 2000=runs/curve/synth2000/dev_eval 8000=runs/curve/synth8000/dev_eval \\
      20000=runs/curve/synth20000/dev_eval --extra "distilled, 20k=runs/curve/distilled20000/dev_eval" \\
      --out docs/synthetic_experiments/scene_count

Writes OUT.json (per folder and overall: si-RMSE and its ratio to the constant baseline) and OUT.png (ratio
against scenes, log x, one line per folder plus the overall; extra runs as single markers; the layout
baseline dashed).
"""

import argparse
import json
from pathlib import Path


def read(folder: Path) -> dict:
    """{folder name: (si-RMSE, constant's si-RMSE, layout's si-RMSE)} plus "overall", for the file's first model."""
    record = json.loads((Path(folder) / "metrics.json").read_text())
    rows = {}
    for name, section in list(record["folders"].items()) + [("overall", record)]:
        model = next(iter(section["results"].values()))["si_rmse"]
        baselines = list(section["baselines"].values())
        rows[Path(name).name] = (model, baselines[0]["si_rmse"], baselines[1]["si_rmse"])
    return rows


def pairs(items: list) -> list:
    out = []
    for item in items:
        label, _, path = item.partition("=")
        if not path:
            raise SystemExit(f"expected LABEL=FOLDER, got {item!r}")
        out.append((label, Path(path)))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", required=True, help="SCENES=EVAL_FOLDER, one per point of the curve")
    parser.add_argument("--extra", nargs="*", default=[], help="LABEL=EVAL_FOLDER, shown as markers at 20k scenes")
    parser.add_argument("--out", required=True, help="output path without suffix")
    args = parser.parse_args(argv)
    curve = [(int(label), read(path)) for label, path in pairs(args.runs)]
    curve.sort()
    extra = [(label, read(path)) for label, path in pairs(args.extra)]
    record = {"curve": {n: {k: {"si_rmse": v[0], "ratio": v[0] / v[1]} for k, v in rows.items()} for n, rows in curve},
              "extra": {label: {k: {"si_rmse": v[0], "ratio": v[0] / v[1]} for k, v in rows.items()} for label, rows in extra},
              "layout_ratio": {k: v[2] / v[1] for k, v in curve[0][1].items()}}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.4))
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    scenes = [n for n, _ in curve]
    for index, name in enumerate(curve[0][1]):
        colour = f"C{index}"
        width = 2.6 if name == "overall" else 1.2
        axis.plot(scenes, [rows[name][0] / rows[name][1] for _, rows in curve], marker="o", color=colour, lw=width,
                  label=name)
        axis.axhline(record["layout_ratio"][name], color=colour, ls=":", lw=0.8)
        for marker, (label, rows) in zip("s^vD", extra):
            axis.scatter([max(scenes)], [rows[name][0] / rows[name][1]], marker=marker, color=colour, s=36,
                         edgecolor="black", zorder=3, label=label if name == "overall" else None)
    axis.axhline(1.0, color="black", lw=0.8)
    axis.set_xscale("log")
    axis.set_xticks(scenes, [f"{n:,}" for n in scenes])
    axis.minorticks_off()
    axis.set_xlabel("rendered scenes seen in training (8,000 steps of batch 8 each, seed 0)")
    axis.set_ylabel("si-RMSE / constant baseline (lower is better)")
    axis.set_title("Renders only: dev error against scene count (dotted: layout baseline per folder)", fontsize=9)
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(out.with_suffix(".png"), dpi=110)
    print(f"wrote {out.with_suffix('.json')}, {out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
