#!/usr/bin/env python
"""Average the weights of a run's last Trainer checkpoints into one model folder.

Why: one run's final weights carry the noise of its last few hundred steps. The hope is that the mean of
checkpoints taken while the learning rate is already low (the last three of a 410k-sample run: steps 11,200-12,800
of the 14,000-step schedule) lands on a flatter point of the same basin, at no training cost; measured on four runs
(docs/training.md, "the mean of a run's last three checkpoints") it helped three and hurt the default's, so the
recipe does not use it. BatchNorm's running statistics are averaged like the weights (the checkpoints are close,
so their statistics are too); integer buffers (`num_batches_tracked`) are the last checkpoint's. The folder
written is a complete model folder - the run's config, image processor, remote code, training curves and
training_run.json (which gains `averaged_checkpoints`) - so `scripts/evaluate_dev.py --model` and
`experiments/promote_default.sh` take it as they take a run.

  python scripts/average_checkpoints.py ~/.cache/litedepth/runs/v6v10-mix --last 3 \
      --out ~/.cache/litedepth/runs/v6v10-mix-avg3
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from litedepth_cli import quiet_import_noise

quiet_import_noise()  # before the library's import pulls in transformers (and torchao where installed)
from litedepth_hf.training import run_checkpoints  # noqa: E402

COPIED = ("config.json", "preprocessor_config.json", "training_curves.png", "configuration_litedepth.py",
          "modeling_litedepth.py", "image_processing_litedepth.py")


def checkpoints(run: Path, last: int, until=None) -> list:
    """The last `last` `checkpoint-STEP` folders of `run` up to step `until` (all steps when None), oldest first."""
    found = [(step, path) for step, path in run_checkpoints(run) if until is None or step <= until]
    if len(found) < last:
        upto = "" if until is None else f" up to step {until}"
        raise ValueError(f"{run} holds {len(found)} checkpoints with weights{upto}; --last {last} needs {last}")
    return found[-last:]


def average_state(paths: list) -> dict:
    """The element-wise mean of floating tensors over the weight files (in float64); other tensors from the last."""
    states = [load_file(str(path)) for path in paths]
    keys = set(states[0])
    for path, state in zip(paths[1:], states[1:]):
        if set(state) != keys or any(state[k].shape != states[0][k].shape for k in keys):
            raise ValueError(f"{path} holds other tensors than {paths[0]}: not checkpoints of one model")
    return {k: (torch.stack([s[k].double() for s in states]).mean(0).to(states[-1][k].dtype)
                if states[-1][k].is_floating_point() else states[-1][k].clone()) for k in states[-1]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a training run folder holding checkpoint-STEP folders")
    parser.add_argument("--out", type=Path, required=True, help="the model folder to write (must not exist)")
    parser.add_argument("--last", type=int, default=3, help="how many of the last checkpoints to average (default 3)")
    parser.add_argument("--until", type=int, default=None, help="only checkpoints up to this step (default: all)")
    args = parser.parse_args(argv)
    try:
        if args.last < 1:
            raise ValueError(f"--last must be at least 1, got {args.last}")
        if args.out.exists():
            raise FileExistsError(f"{args.out} exists: choose another --out or remove it first")
        picked = checkpoints(args.run, args.last, args.until)
        state = average_state([path / "model.safetensors" for _, path in picked])
        source = picked[-1][1]  # where the run folder lacks a file (a run still training), its last checkpoint's
        run_record = args.run / "training_run.json"
        record = json.loads(run_record.read_text()) if run_record.is_file() else {}
        args.out.mkdir(parents=True)
        for name in COPIED:
            for folder in (args.run, source):
                if (folder / name).is_file():
                    shutil.copy2(folder / name, args.out / name)
                    break
        save_file(state, str(args.out / "model.safetensors"), metadata={"format": "pt"})
        record["averaged_checkpoints"] = {"run": str(args.run.resolve()), "steps": [step for step, _ in picked]}
        (args.out / "training_run.json").write_text(json.dumps(record, indent=2) + "\n")
    except (OSError, ValueError) as error:
        print(f"average_checkpoints: {error}", file=sys.stderr)
        return 1
    print(f"averaged steps {', '.join(str(step) for step, _ in picked)} of {args.run} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
