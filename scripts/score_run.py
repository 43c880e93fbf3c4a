#!/usr/bin/env python
"""Score a training run on its last checkpoints, not on its end point alone.

Why: measured 2026-12-07 with this script (docs/training.md, the amendment to "desks in use"): the overall
si-RMSE of one run's last five checkpoints, 800 steps apart, varies with a standard deviation of 0.006-0.014 (one
folder's by up to 0.03), as much as two seeds' end points differ, so one end point cannot tell two render sets
apart. The mean over the last few checkpoints is the steadier figure. Each of the last N `checkpoint-STEP`
folders is scored once on the four dev folders by `scripts/evaluate_dev.py` (into CHECKPOINT/dev_eval; a checkpoint
already scored is read, not rescored, and one whose weights are the run's own final weights reuses RUN/dev_eval);
then the per-checkpoint si-RMSE (overall and per folder) and median scale are printed with their mean and standard
deviation, and written to RUN/checkpoint_scores.json.

  python scripts/score_run.py ~/.cache/litedepth/runs/v6v13-mix --last 5
"""

import argparse
import filecmp
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from litedepth_cli import quiet_import_noise

quiet_import_noise()  # before the library's import pulls in transformers (and torchao where installed)
from litedepth_hf.data import DEV_FOLDERS  # noqa: E402
from litedepth_hf.training import run_checkpoints  # noqa: E402

SCRIPTS = Path(__file__).resolve().parent
FOLDERS = dict(zip(DEV_FOLDERS, ("cabinet", "hall", "fr2 desk", "ICL room")))


def scored(run: Path, checkpoint: Path) -> dict:
    """{"overall": si-RMSE, FOLDER: si-RMSE, ..., "median_scale": overall} of a checkpoint, scoring it if needed."""
    metrics = checkpoint / "dev_eval" / "metrics.json"
    final = run / "dev_eval" / "metrics.json"
    if not metrics.is_file() and final.is_file() and (run / "model.safetensors").is_file() and \
            filecmp.cmp(checkpoint / "model.safetensors", run / "model.safetensors", shallow=False):
        metrics = final  # the run's end point, scored when it finished
    if not metrics.is_file():  # the dev folders only, no baselines or grid: the scores are what is wanted
        command = [sys.executable, str(SCRIPTS / "evaluate_dev.py"), "--model", str(checkpoint), "--out",
                   str(checkpoint / "dev_eval"), "--baseline-from", "none", "--grid-rows", "0", "--overwrite"]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            last = (result.stderr.strip().splitlines() or ["?"])[-1]
            raise RuntimeError(f"evaluate_dev.py failed on {checkpoint}: {last}")
    record = json.loads(metrics.read_text())
    folder = run if metrics.parent.parent == run else checkpoint  # evaluate_dev names a result by the path given
    names = [k for k in record["results"] if Path(k).expanduser().resolve() == folder.resolve()]
    names = names or [k for k in record["results"] if Path(k).name == folder.name]
    if not names:
        raise ValueError(f"{metrics} holds no result for {folder} (only {', '.join(record['results'])})")
    label = names[0]
    row = {"overall": record["results"][label]["si_rmse"], "median_scale": record["results"][label]["median_scale"]}
    for data, values in record["folders"].items():
        if Path(data).name in FOLDERS:
            row[Path(data).name] = values["results"][label]["si_rmse"]
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a training run folder holding checkpoint-STEP folders")
    parser.add_argument("--last", type=int, default=5, help="how many of the last checkpoints (default 5)")
    args = parser.parse_args(argv)
    try:
        if args.last < 1:
            raise ValueError(f"--last must be at least 1, got {args.last}")
        found = run_checkpoints(args.run)
        if len(found) < args.last:
            raise ValueError(f"{args.run} holds {len(found)} checkpoints with weights; --last {args.last} needs them")
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
