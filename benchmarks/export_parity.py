#!/usr/bin/env python
"""How close each exported file is to the torch pipeline, on a whole RGB-D dataset.

Runs `pipeline`-equivalent torch inference and every graph of a `litedepth export` folder
through `litedepth_runtime`'s runner (the code the Pi runs), on every frame of --data, and
writes per-file dev metrics for each folder (default: the four dev folders), the change in si-RMSE
against torch and, for fp16/int8, against the file's fp32 twin, and the largest per-pixel difference
relative to torch's depth, |d - d_torch| / d_torch. docs/export.md's parity table comes from it.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from litedepth_cli import quiet_import_noise

quiet_import_noise()  # before the library's import pulls in transformers (and torchao where installed)
from litedepth_hf.data import DEV_FOLDERS, example_arrays, load_depth_dataset  # noqa: E402
from litedepth_hf.inference import load_model, predict_depth  # noqa: E402
from litedepth_hf.metrics import depth_metrics  # noqa: E402
from litedepth_runtime import DepthRunner  # noqa: E402

SHOWN = ("si_rmse", "rmse", "abs_rel", "delta1")
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exports", required=True, help="folder written by `litedepth export`")
    parser.add_argument("--model", default=None, help="the checkpoint that was exported (default: embedded)")
    parser.add_argument("--data", nargs="+", default=[str(DATA / name) for name in DEV_FOLDERS],
                        help="RGB-D dataset folders or Hub ids (default: the four dev folders)")
    parser.add_argument("--out", default=None, help="write the results here as JSON")
    args = parser.parse_args(argv)

    model, processor = load_model(args.model)
    files = sorted(Path(args.exports).glob("*/*.onnx")) + sorted(Path(args.exports).glob("*/*.tflite"))
    if not files:
        raise SystemExit(f"No .onnx or .tflite files under {args.exports}")
    runners = {str(path.relative_to(args.exports)): DepthRunner(path) for path in files}
    report = {}
    for data in args.data:
        frames, depths = zip(*[example_arrays(example)[:2] for example in load_depth_dataset(data)])
        reference = [np.asarray(d, dtype=np.float32) for d in predict_depth(model, processor, list(frames))]
        base = depth_metrics(reference, depths)
        results = {"torch pipeline": {k: round(base[k], 4) for k in SHOWN}}
        for name, runner in tqdm(runners.items(), desc=Path(data).name):
            predictions = [runner(frame) for frame in frames]
            metrics = depth_metrics(predictions, depths)
            relative = max(float((np.abs(p - r) / r).max()) for p, r in zip(predictions, reference))
            results[name] = {**{k: round(metrics[k], 4) for k in SHOWN},
                             "max_relative_diff": float(f"{relative:.3g}"),
                             "d_si_rmse": round(metrics["si_rmse"] - base["si_rmse"], 4)}
        for name, row in results.items():  # reduced precision against its own fp32 twin
            twin = name.replace("_int8", "_fp32").replace("_fp16", "_fp32")
            if twin != name and twin in results:
                row["d_si_rmse_vs_fp32"] = round(row["si_rmse"] - results[twin]["si_rmse"], 4)
        print(Path(data).name)
        for name, row in results.items():
            print(f"  {name:38s} " + "  ".join(f"{k} {v}" for k, v in row.items()))
        report[Path(data).name] = results
    if args.out:
        Path(args.out).write_text(json.dumps({"exports": str(args.exports), "results": report}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
