#!/usr/bin/env python
"""The paper's ablation ladder on real data, several seeds each, as one command.

Rungs (same budget): SILog + fixed crop -> + R2 crop -> + gradient, virtual-normal and
robust losses (fixed weights) -> + dynamic re-weighting. Each run is `scripts/train.py`
evaluated once at the end on the dev set (no checkpoint selection on dev). Writes
`OUT/ablation.json` and `OUT/ablation.md` (mean +- half-range over seeds).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # beside the checkout

RUNGS = {
    "silog + fixed crop": ["--losses", "silog", "--crop", "fixed", "--loss_weighting", "fixed"],
    "+ R2 crop": ["--losses", "silog", "--crop", "r2", "--loss_weighting", "fixed"],
    "+ grad, VN, robust (fixed weights)": ["--crop", "r2", "--loss_weighting", "fixed"],
    "+ dynamic re-weighting": ["--crop", "r2", "--loss_weighting", "dynamic"],
}
REPORTED = ("eval_si_rmse", "eval_rmse", "eval_abs_rel", "eval_delta1")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train_data", default=str(SHARED_DATA / "tum_fr1_rpy"))
    parser.add_argument("--eval_data", default=str(SHARED_DATA / "tum_fr3_cabinet"))
    parser.add_argument("--out", default="runs/ablation")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--parallel", type=int, default=2, help="runs at once (each gets cores / parallel threads)")
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for rung, flags in RUNGS.items():
        for seed in args.seeds:
            run_dir = out / f"{list(RUNGS).index(rung)}-seed{seed}"
            if (run_dir / "training_run.json").is_file():
                continue  # finished earlier: keep it
            command = [sys.executable, str(Path(__file__).parent / "train.py"), "--train_data", args.train_data,
                       "--eval_data", args.eval_data, "--output_dir", str(run_dir), "--num_train_epochs",
                       str(args.epochs), "--seed", str(seed), "--save_strategy", "no", "--disable_tqdm", "true",
                       "--report_to", "none", "--overwrite_output_dir", *flags]
            jobs.append((run_dir, command))
    threads = str(max(1, (os.cpu_count() or 2) // args.parallel))
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    running = []
    while jobs or running:
        while jobs and len(running) < args.parallel:
            run_dir, command = jobs.pop(0)
            run_dir.mkdir(parents=True, exist_ok=True)
            log = open(run_dir.with_suffix(".log"), "w")
            running.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env), run_dir, log))
            print(f"started {run_dir}", flush=True)
        process, run_dir, log = running.pop(0)
        if process.wait() != 0:
            raise SystemExit(f"{run_dir} failed: see {run_dir.with_suffix('.log')}")
        log.close()
        print(f"finished {run_dir}", flush=True)

    table = {}
    for index, rung in enumerate(RUNGS):
        runs = [json.loads((out / f"{index}-seed{s}" / "training_run.json").read_text())["metrics"] for s in args.seeds]
        table[rung] = {k: [r[k] for r in runs] for k in REPORTED}
    lines = ["| recipe | " + " | ".join(k.replace("eval_", "") for k in REPORTED) + " |",
             "|---|" + "---|" * len(REPORTED)]
    for rung, values in table.items():
        cells = [f"{np.mean(v):.4f} ± {(max(v) - min(v)) / 2:.4f}" for v in values.values()]
        lines.append(f"| {rung} | " + " | ".join(cells) + " |")
    summary = (f"Train `{args.train_data}` ({args.epochs} epochs), dev `{args.eval_data}`, seeds {args.seeds}; "
               "mean ± half-range over seeds, final model, evaluated once.\n\n" + "\n".join(lines) + "\n")
    (out / "ablation.json").write_text(json.dumps({"epochs": args.epochs, "seeds": args.seeds, "runs": table}, indent=2))
    (out / "ablation.md").write_text(summary)
    print(summary)


if __name__ == "__main__":
    main()
