#!/usr/bin/env python
"""Where a LiteDepth TFLite graph spends its time, op by op, on this CPU (1 thread by default).

The LiteRT Python interpreter has no per-op profiler, so this times prefixes: for every op k, a copy
of the graph cut after op k (its output made the graph output, later ops removed) runs as the real
runtime would (XNNPACK included); op k costs the difference between prefixes k and k-1. Prefixes
run interleaved in blocks of 25 back-to-back runs (12 rounds, 300 timings each by default), and the
medians are differenced, so single ops under ~5 us are noise; the stage sums (pre-processing, network,
upsampling) are the figures to trust.
Also times what a caller pays instead of the in-graph upsampling when a graph stops at 1/4
resolution: the host upsampling of litedepth_runtime (numpy) and PIL's float resize.

With XNNPACK (the default runtime) the supported ops run as one fused partition, so a prefix's
last op carries the partition's cost: per-op rows inside the network are not meaningful there, stage
sums are. `--builtin` adds a pass on TFLite's own kernels (XNNPACK off), where each op is its own kernel.

  python benchmarks/profile_tflite.py exports/tflite/model_fullframe_int8.tflite exports/tflite/model_int8.tflite \
      --builtin --out docs/benchmark/PROFILE.md
"""

import argparse
import statistics
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def load(data: bytes):
    from ai_edge_litert import schema_py_generated as schema

    return schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))


def op_names(model) -> list:
    from ai_edge_litert import schema_py_generated as schema

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    subgraph = model.subgraphs[0]
    rows = []
    for op in subgraph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        output = subgraph.tensors[op.outputs[0]]
        rows.append((names[max(code.builtinCode, code.deprecatedBuiltinCode)], tuple(int(v) for v in output.shape)))
    return rows


def prefix(data: bytes, last: int) -> bytes:
    """The graph cut after op `last`: its first output becomes the graph's output."""
    import flatbuffers

    model = load(data)
    subgraph = model.subgraphs[0]
    subgraph.operators = subgraph.operators[: last + 1]
    subgraph.outputs = [subgraph.operators[-1].outputs[0]]
    model.signatureDefs = []
    builder = flatbuffers.Builder(len(data))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def interpreter(content: bytes, threads: int, builtin: bool = False):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if builtin else OpResolverType.AUTO
    runner = Interpreter(model_content=content, num_threads=threads, experimental_op_resolver_type=resolver)
    runner.allocate_tensors()
    detail = runner.get_input_details()[0]
    rng = np.random.default_rng(0)
    if detail["dtype"] == np.uint8:
        sample = rng.integers(0, 256, detail["shape"], dtype=np.uint8)
    else:
        sample = rng.standard_normal(detail["shape"]).astype(np.float32)
    runner.set_tensor(detail["index"], sample)
    return runner


def timed(calls: list, rounds: int, block: int = 25) -> list:
    """Median ms of each zero-argument call: rounds interleave the calls, each call runs `block` times in a
    row per round (a deployed graph runs back to back with warm caches; interleaving single runs of ~80
    prefixes would time cache refills instead), the first run of every block is dropped."""
    samples = [[] for _ in calls]
    for _ in range(rounds):
        for index, call in enumerate(calls):
            for repeat in range(block + 1):
                start = time.perf_counter()
                call()
                if repeat:
                    samples[index].append((time.perf_counter() - start) * 1000)
    return [statistics.median(s) for s in samples]


def stages(ops: list) -> list:
    """pre-processing (before the first convolution's PAD/CONV), network, upsampling (after the last CONV_2D)."""
    first = next(i for i, (name, _) in enumerate(ops) if name in ("PAD", "CONV_2D"))
    last = max(i for i, (name, _) in enumerate(ops) if name == "CONV_2D")
    return ["pre-processing" if i < first else "upsampling + output" if i > last else "network" for i in range(len(ops))]


def profile(path: Path, threads: int, rounds: int, builtin: bool = False) -> list:
    data = path.read_bytes()
    ops = op_names(load(data))
    runners = [interpreter(prefix(data, k), threads, builtin) for k in range(len(ops))]
    medians = timed([r.invoke for r in runners], rounds)
    costs = [medians[0]] + [b - a for a, b in zip(medians, medians[1:])]
    kernels = "TFLite's built-in kernels, XNNPACK off" if builtin else "as deployed (XNNPACK delegate)"
    lines = [f"### `{path.name}`, {kernels}: {medians[-1]:.3f} ms in all, {len(ops)} ops", ""]
    by_stage, by_type = defaultdict(float), defaultdict(lambda: [0, 0.0])
    labels = stages(ops)
    for (name, _), cost, stage in zip(ops, costs, labels):
        by_stage[stage] += cost
        by_type[name][0] += 1
        by_type[name][1] += cost
    lines += ["| stage | ms |", "|---|---|"] + [f"| {s} | {by_stage[s]:.3f} |" for s in
                                                 ("pre-processing", "network", "upsampling + output")]
    lines += ["", "| op type | count | ms |", "|---|---|---|"]
    lines += [f"| {name} | {count} | {ms:.3f} |" for name, (count, ms) in
              sorted(by_type.items(), key=lambda item: -item[1][1])]
    lines += ["", "<details><summary>op by op</summary>", "", "| # | op | output | stage | ms |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {name} | {'x'.join(map(str, shape[1:]))} | {stage} | {cost:.3f} |"
              for k, ((name, shape), cost, stage) in enumerate(zip(ops, costs, labels))]
    lines += ["", "</details>", ""]
    print("\n".join(lines[:12]))
    return lines


def host_upsampling(rounds: int) -> list:
    """What a 1/4-resolution graph leaves to the caller: 32x40 -> 480x640 bilinear in numpy and in PIL."""
    from PIL import Image

    from litedepth_runtime import upsample_integer

    depth = np.random.default_rng(0).uniform(0.5, 5.0, (32, 40)).astype(np.float32)
    numpy_ms, pil_ms = timed([lambda: upsample_integer(depth, 15, 16),
                              lambda: Image.fromarray(depth).resize((640, 480), Image.BILINEAR)], rounds)
    return ["### Upsampling on the host instead (32x40 -> 480x640, 1 thread)", "",
            f"- numpy, two 3-tap passes (`litedepth_runtime.upsample_integer`): {numpy_ms:.3f} ms",
            f"- PIL float bilinear resize: {pil_ms:.3f} ms", ""]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("graphs", nargs="+", type=Path, help=".tflite files")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=12, help="rounds of 25 back-to-back runs per prefix")
    parser.add_argument("--builtin", action="store_true",
                        help="also profile with TFLite's built-in kernels (XNNPACK off): XNNPACK runs the supported "
                             "ops as one fused partition, so per-op differences inside it mostly land on its boundary")
    parser.add_argument("--out", type=Path, default=None, help="write the tables to this Markdown file")
    args = parser.parse_args()
    lines = [f"Measured {time.strftime('%Y-%m-%d')}, {args.threads} thread(s), median of {args.rounds * 25} runs per "
             "prefix in interleaved blocks of 25 (see benchmarks/profile_tflite.py for the method).", ""]
    for path in args.graphs:
        if not path.is_file():
            raise SystemExit(f"No such graph: {path}")
    for builtin in (False, True) if args.builtin else (False,):
        for path in args.graphs:
            lines += profile(path, args.threads, args.rounds, builtin)
    lines += host_upsampling(args.rounds)
    print("\n".join(lines[-4:]))
    if args.out:
        args.out.write_text("\n".join(lines))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
