#!/usr/bin/env python
"""Score a training run on its last checkpoints, not on its end point alone.

Why: measured 2026-12-07 (docs/training.md, "the mean of a run's last three checkpoints"): the overall si-RMSE of
one run's checkpoints 800 steps apart varies with a standard deviation of 0.006-0.014 (a 2-frame folder's by up to
0.03), as much as two seeds' end points differ, so one end point cannot tell two render sets apart. The mean over
the last few checkpoints is the steadier figure. Each of the last N `checkpoint-STEP` folders is scored once on the
four dev folders by `scripts/evaluate_dev.py` (into CHECKPOINT/dev_eval; a checkpoint already scored is read, not
rescored, and one whose weights are the run's own final weights reuses RUN/dev_eval); then the per-checkpoint
si-RMSE (overall and per folder) and median scale are printed with their mean and standard deviation, and written
to RUN/checkpoint_scores.json.

  python scripts/score_run.py ~/.cache/litedepth/runs/v6v13-mix --last 5
"""

import argparse
import filecmp
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPTS = Path(__file__).resolve().parent
FOLDERS = {"tum_fr3_cabinet": "cabinet", "tum_fr3_long_office_household": "hall", "tum_fr2_desk": "fr2 desk",
           "icl_livingroom": "ICL room"}


def scored(run: Path, checkpoint: Path) -> dict:
    """{"overall": si-RMSE, FOLDER: si-RMSE, ..., "median_scale": overall} of a checkpoint, scoring it if needed."""
    metrics = checkpoint / "dev_eval" / "metrics.json"
    final = run / "dev_eval" / "metrics.json"
    if not metrics.is_file() and final.is_file() and (run / "model.safetensors").is_file() and \
            filecmp.cmp(checkpoint / "model.safetensors", run / "model.safetensors", shallow=False):
        metrics = final  # the run's end point, scored when it finished
    if not metrics.is_file():
        command = [sys.executable, str(SCRIPTS / "evaluate_dev.py"), "--model", str(checkpoint),
                   "--out", str(checkpoint / "dev_eval")]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"evaluate_dev.py failed on {checkpoint}: {(result.stderr.strip().splitlines() or ['?'])[-1]}")
    record = json.loads(metrics.read_text())
    label = next(k for k in record["results"] if Path(k).name in (checkpoint.name, run.name) or k == str(checkpoint))
    row = {"overall": record["results"][label]["si_rmse"], "median_scale": record["results"][label]["median_scale"]}
    for folder, values in record["folders"].items():
        if Path(folder).name in FOLDERS:
            row[Path(folder).name] = values["results"][label]["si_rmse"]
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a training run folder holding checkpoint-STEP folders")
    parser.add_argument("--last", type=int, default=5, help="how many of the last checkpoints (default 5)")
    args = parser.parse_args(argv)
    try:
        found = sorted((int(m.group(1)), p) for p in args.run.glob("checkpoint-*")
                       if (m := re.fullmatch(r"checkpoint-(\d+)", p.name)) and (p / "model.safetensors").is_file())
        if len(found) < max(args.last, 1):
            raise ValueError(f"{args.run} holds {len(found)} checkpoints with weights; --last {args.last} needs "
                             f"{max(args.last, 1)}")
        rows = {step: scored(args.run, path) for step, path in found[-args.last:]}
    except (OSError, ValueError, RuntimeError) as error:
        print(f"score_run: {error}", file=sys.stderr)
        return 1
    columns = ["overall", *FOLDERS, "median_scale"]
    table = np.array([[row[c] for c in columns] for row in rows.values()])
    summary = {"mean": table.mean(0), "std": table.std(0, ddof=1) if len(rows) > 1 else np.zeros(len(columns))}
    print("| step | overall si-RMSE | " + " | ".join(FOLDERS.values()) + " | median scale |")
    print("|---" * (len(columns) + 1) + "|")
    for step, values in zip(rows, table):
        print(f"| {step} | " + " | ".join(f"{v:.4f}" for v in values) + " |")
    for name, values in summary.items():
        print(f"| {name} | " + " | ".join(f"{v:.4f}" for v in values) + " |")
    (args.run / "checkpoint_scores.json").write_text(json.dumps(
        {"steps": rows, **{name: dict(zip(columns, map(float, v))) for name, v in summary.items()}}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
