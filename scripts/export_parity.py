#!/usr/bin/env python
"""How close each exported file is to the torch pipeline, on a whole RGB-D dataset.

Runs `pipeline`-equivalent torch inference and every graph of a `litedepth export` folder
through `scripts/pi_infer.py`'s runner (the code the Pi runs), on every frame of --data, and
writes per-file dev metrics, the change in si-RMSE against torch, and the largest per-pixel
difference relative to torch's depth, |d - d_torch| / d_torch. docs/export.md's parity table comes from it.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).parent))
from pi_infer import DepthRunner  # noqa: E402

from litedepth_hf.data import example_arrays, load_depth_dataset  # noqa: E402
from litedepth_hf.inference import load_model, predict_depth  # noqa: E402
from litedepth_hf.metrics import depth_metrics  # noqa: E402

SHOWN = ("si_rmse", "rmse", "abs_rel", "delta1")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exports", required=True, help="folder written by `litedepth export`")
    parser.add_argument("--model", default=None, help="the checkpoint that was exported (default: embedded)")
    parser.add_argument("--data", default="../shared/data/tum_fr3_cabinet", help="RGB-D dataset folder or Hub id")
    parser.add_argument("--out", default=None, help="write the results here as JSON")
    args = parser.parse_args(argv)

    frames, depths = zip(*[example_arrays(example)[:2] for example in load_depth_dataset(args.data)])
    model, processor = load_model(args.model)
    reference = [np.asarray(d, dtype=np.float32) for d in predict_depth(model, processor, list(frames))]
    base = depth_metrics(reference, depths)
    results = {"torch pipeline": {k: round(base[k], 4) for k in SHOWN}}
    files = sorted(Path(args.exports).glob("*/*.onnx")) + sorted(Path(args.exports).glob("*/*.tflite"))
    if not files:
        raise SystemExit(f"No .onnx or .tflite files under {args.exports}")
    for path in tqdm(files, desc="exported graphs"):
        runner = DepthRunner(path)
        predictions = [runner(frame) for frame in frames]
        metrics = depth_metrics(predictions, depths)
        relative = max(float((np.abs(p - r) / r).max()) for p, r in zip(predictions, reference))
        results[str(path.relative_to(args.exports))] = {
            **{k: round(metrics[k], 4) for k in SHOWN},
            "max_relative_diff": float(f"{relative:.3g}"),
            "d_si_rmse": round(metrics["si_rmse"] - base["si_rmse"], 4),
        }
    for name, row in results.items():
        print(f"{name:40s} " + "  ".join(f"{k} {v}" for k, v in row.items()))
    if args.out:
        Path(args.out).write_text(json.dumps({"data": args.data, "results": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
