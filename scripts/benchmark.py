#!/usr/bin/env python
"""Latency, size and MACs of LiteDepth against its peers, on this machine's CPU, in one interleaved run.

Every model gets the same 640x480 frame through its own pre-processing. LiteDepth runs in torch,
ONNX Runtime and TFLite (fp32/int8, core and full-frame graphs); the peers - Depth-Anything-V2-Small,
DPT (ViT-B/16 at 384), GLPN (transformers' default MiT-b0 config) and a FastDepth-style MobileNetV2
model - are built from configs with random weights (no weights can be downloaded here: latency
does not depend on them) and run in torch and ONNX Runtime. Rounds interleave all (model, runtime,
threads) cells; the median is reported. Writes BENCH.md (table with ratios to LiteDepth) and
BENCH.png (bar chart) under --out, and estimates Raspberry Pi 4 latency by scaling the paper's
37 ms (TFLite fp32, full-frame, 1 thread assumed) by our measured ratios to that cell.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
PAPER_PI4_MS = 37.0


class FastDepthStyle(nn.Module):
    """MobileNetV2 encoder (transformers) + FastDepth's NNConv5 decoder (5 x [dw 5x5, pw, x2 nearest]), 224x224."""

    def __init__(self):
        super().__init__()
        from transformers import MobileNetV2Config, MobileNetV2Model

        self.encoder = MobileNetV2Model(MobileNetV2Config(image_size=224, add_pooling_layer=False))
        widths = [1280, 512, 256, 128, 64, 32]
        blocks = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            blocks += [nn.Conv2d(c_in, c_in, 5, padding=2, groups=c_in, bias=False), nn.BatchNorm2d(c_in), nn.ReLU(),
                       nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                       nn.Upsample(scale_factor=2, mode="nearest")]
        self.decoder = nn.Sequential(*blocks, nn.Conv2d(32, 1, 1))

    def forward(self, pixel_values):
        return self.decoder(self.encoder(pixel_values).last_hidden_state)[:, 0]


def plot_bench(medians: dict, threads: int, cpu: str, path: Path) -> None:
    """Horizontal bars of the `threads` column (log ms), values printed on the bars, LiteDepth and peers told
    apart by a legend, the CPU named in the title. Drawn on its own Agg canvas (no global backend change)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    keys = [k for k in medians if k[2] == threads]
    figure = Figure(figsize=(9.5, 0.36 * len(keys) + 1.6))
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    colours = {"LiteDepth": "#e8743b", "peer": "#5b7ea4"}
    values = [medians[k] for k in keys]
    bars = axis.barh([f"{k[0]} - {k[1]}" for k in keys], values,
                     color=[colours["LiteDepth" if k[0] == "LiteDepth" else "peer"] for k in keys])
    for bar, value in zip(bars, values):
        axis.text(bar.get_width() * 1.05, bar.get_y() + bar.get_height() / 2, f"{value:.2f} ms", va="center", fontsize=7)
    axis.set_xscale("log")
    axis.set_xlim(min(values) / 1.5, max(values) * 4)
    axis.set_xlabel(f"ms per 640x480 frame, {threads} thread{'s' if threads > 1 else ''}, log scale (lower is better)")
    axis.set_title(f"CPU: {cpu}", fontsize=9)
    axis.invert_yaxis()
    axis.legend(handles=[Patch(color=colours["LiteDepth"], label="LiteDepth (this package)"),
                         Patch(color=colours["peer"], label="peers (random weights, speed only)")],
                loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def replot(folder: Path, threads: int) -> None:
    """Redraw BENCH.png from a finished run's bench.json (no measurement)."""
    medians = {}
    for key, value in json.loads((folder / "bench.json").read_text()).items():
        name, runtime, thread_count = (part.strip() for part in key.split("|"))
        medians[(name, runtime, int(thread_count))] = value
    meta = folder / "bench_meta.json"
    cpu = json.loads(meta.read_text())["cpu"] if meta.is_file() else cpu_name()
    plot_bench(medians, threads, cpu, folder / "BENCH.png")


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo where there is one (platform.processor() is often empty on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def build_peers():
    """(name, torch module taking pixel_values, preprocess(frame) -> numpy NCHW) for each peer."""
    from transformers import (DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTConfig,
                              DPTForDepthEstimation, DPTImageProcessor, GLPNConfig, GLPNForDepthEstimation,
                              GLPNImageProcessor)

    def depth_of(model):
        class Wrapped(nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model.eval()

            def forward(self, pixel_values):
                return self.model(pixel_values=pixel_values).predicted_depth

        return Wrapped().eval()

    backbone = Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, patch_size=14,
                            image_size=518, out_indices=[3, 6, 9, 12], reshape_hidden_states=False)
    depth_anything = DepthAnythingForDepthEstimation(DepthAnythingConfig(
        backbone_config=backbone, reassemble_hidden_size=384, neck_hidden_sizes=[48, 96, 192, 384],
        fusion_hidden_size=64))
    da_processor = DPTImageProcessor(size={"height": 518, "width": 518}, keep_aspect_ratio=True, ensure_multiple_of=14,
                                     do_pad=False, image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225])
    dpt = DPTForDepthEstimation(DPTConfig(image_size=384))
    dpt_processor = DPTImageProcessor(size={"height": 384, "width": 384}, keep_aspect_ratio=False)
    glpn = GLPNForDepthEstimation(GLPNConfig())
    glpn_processor = GLPNImageProcessor()
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)

    def fastdepth_pre(frame):
        x = np.asarray(Image.fromarray(frame).resize((224, 224), Image.BILINEAR), np.float32) / 255.0
        return ((x - mean) / std).transpose(2, 0, 1)[None].astype(np.float32)

    def hf_pre(processor):
        return lambda frame: processor(Image.fromarray(frame), return_tensors="np")["pixel_values"].astype(np.float32)

    return [
        ("Depth-Anything-V2-Small", depth_of(depth_anything), hf_pre(da_processor)),
        ("DPT (ViT-B/16, 384)", depth_of(dpt), hf_pre(dpt_processor)),
        ("GLPN (MiT-b0 config)", depth_of(glpn), hf_pre(glpn_processor)),
        ("FastDepth-style MobileNetV2", FastDepthStyle().eval(), fastdepth_pre),
    ]


def onnx_session(module, sample, path, threads):
    import onnxruntime

    if not path.exists():
        torch.onnx.export(module, (sample,), str(path), input_names=["pixel_values"], opset_version=17, dynamo=False)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="LiteDepth folder or Hub id (default: the embedded checkpoint)")
    parser.add_argument("--exports", default=None, help="`litedepth export` folder (default: export to a temp dir)")
    parser.add_argument("--calibration-data", default=str(ROOT.parent / "shared" / "data" / "tum_fr1_rpy"))
    parser.add_argument("--image", default=str(ROOT / "examples" / "tum_cabinet.jpg"))
    parser.add_argument("--runs", type=int, default=30, help="rounds for fast models (LiteDepth, FastDepth)")
    parser.add_argument("--slow-runs", type=int, default=5, help="rounds for the transformer peers")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-peers", action="store_true", help="LiteDepth only")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmark"))
    parser.add_argument("--replot", action="store_true", help="only redraw OUT/BENCH.png from OUT/bench.json")
    args = parser.parse_args()
    if args.replot:
        replot(Path(args.out), args.threads[0])
        print(f"redrew {Path(args.out) / 'BENCH.png'} from bench.json")
        return

    sys.path.insert(0, str(ROOT / "scripts"))
    from pi_infer import DepthRunner, preprocess

    from litedepth_hf.export import CoreGraph, export_model
    from litedepth_hf.inference import load_model, macs_and_params

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scratch_dir = tempfile.TemporaryDirectory(prefix="litedepth-bench-")  # exports and peer graphs: removed at exit
    scratch = Path(scratch_dir.name)
    exports = Path(args.exports) if args.exports else scratch / "exports"
    if not args.exports:
        export_model(args.model, exports, ("onnx", "tflite"), args.calibration_data)
    frame = np.asarray(Image.open(args.image).convert("RGB").resize((640, 480)))
    model, processor = load_model(args.model)
    sample = torch.from_numpy(preprocess(frame, tuple(model.config.image_size)))
    core = CoreGraph(model).eval()

    cells = {}  # (model, runtime, threads) -> callable
    info = {"LiteDepth": (*macs_and_params(core, sample), {})}
    for threads in args.threads:
        def torch_call(threads=threads):
            torch.set_num_threads(threads)
            with torch.inference_mode():
                core(torch.from_numpy(preprocess(frame, tuple(model.config.image_size))))
        cells[("LiteDepth", "torch fp32 (core)", threads)] = torch_call
        for name, label in (("onnx/model.onnx", "ONNX Runtime fp32 (core)"),
                            ("onnx/model_fullframe.onnx", "ONNX Runtime fp32 (full-frame)"),
                            ("tflite/model_fp32.tflite", "TFLite fp32 (core)"),
                            ("tflite/model_int8.tflite", "TFLite int8 (core)"),
                            ("tflite/model_fullframe_fp32.tflite", "TFLite fp32 (full-frame)"),
                            ("tflite/model_fullframe_int8.tflite", "TFLite int8 (full-frame)")):
            runner = DepthRunner(exports / name, threads)
            cells[("LiteDepth", label, threads)] = lambda runner=runner: runner(frame)
    for name in ("onnx/model.onnx", "tflite/model_fp32.tflite", "tflite/model_int8.tflite"):
        info["LiteDepth"][2][name] = (exports / name).stat().st_size

    slow = set()
    if not args.no_peers:
        for name, module, pre in build_peers():
            x = torch.from_numpy(pre(frame))
            macs, params = macs_and_params(module, x)
            path = scratch / f"{name.split()[0]}.onnx"
            info[name] = (macs, params, {})
            if name.startswith(("Depth-Anything", "DPT")):
                slow.add(name)
            for threads in args.threads:
                def torch_call(module=module, pre=pre, threads=threads):
                    torch.set_num_threads(threads)
                    with torch.inference_mode():
                        module(torch.from_numpy(pre(frame)))
                session = onnx_session(module, x, path, threads)
                cells[(name, "torch fp32", threads)] = torch_call
                cells[(name, "ONNX Runtime fp32", threads)] = lambda s=session, pre=pre: s.run(None, {
                    "pixel_values": pre(frame)})
            info[name][2]["onnx"] = path.stat().st_size

    timings = {key: [] for key in cells}
    for call in cells.values():  # warm-up
        call()
    for round_index in range(args.runs):
        for key, call in cells.items():
            if key[0] in slow and round_index >= args.slow_runs:
                continue
            start = time.perf_counter()
            call()
            timings[key].append((time.perf_counter() - start) * 1000)
        print(f"round {round_index + 1}/{args.runs}", end="\r", flush=True)
    medians = {key: statistics.median(values) for key, values in timings.items()}
    reference = {t: medians[("LiteDepth", "TFLite fp32 (full-frame)", t)] for t in args.threads}

    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {cpu_name()} ({platform.machine()}) "
             f"({len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} cores visible), Python {platform.python_version()}, torch {torch.__version__}. "
             f"Median of {args.runs} interleaved rounds ({args.slow_runs} for {', '.join(sorted(slow)) or 'none'}); "
             "one 640x480 frame, each model's own pre-processing included. Peers have random weights (speed only).",
             "", "| model | runtime | params | MACs | " + " | ".join(f"{t} thr ms (x LiteDepth)" for t in args.threads)
             + " |", "|---|---|---|---|" + "---|" * len(args.threads)]
    for (name, runtime, threads) in [k for k in cells if k[2] == args.threads[0]]:
        macs, params, _ = info[name]
        row = [f"{medians[(name, runtime, t)]:.2f} ({medians[(name, runtime, t)] / reference[t]:.1f}x)"
               for t in args.threads]
        lines.append(f"| {name} | {runtime} | {params / 1e6:.2f} M | {macs / 1e9:.3f} G | " + " | ".join(row) + " |")
    sizes = {f"{name}: {file}": size for name, (_, _, files) in info.items() for file, size in files.items()}
    lines += ["", "File sizes: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items())]
    first = args.threads[0]
    estimates = [f"{name} {runtime}: ~{PAPER_PI4_MS * medians[(name, runtime, first)] / reference[first]:.0f} ms"
                 for name, runtime, t in cells if t == first and (name == "LiteDepth" or "ONNX" in runtime)]
    lines += ["", f"Raspberry Pi 4 estimate ({first} thread): the paper measured {PAPER_PI4_MS:.0f} ms for LiteDepth's "
              "full-frame TFLite fp32 graph. Assuming every cell keeps its ratio to that cell from this CPU to a "
              "Pi 4 (rough: memory-bound ViTs likely fare worse on a Pi), Pi 4 time = 37 ms x ratio: "
              + "; ".join(estimates) + "."]
    table = "\n".join(lines) + "\n"
    (out / "BENCH.md").write_text(table)
    (out / "bench.json").write_text(json.dumps({f"{k[0]} | {k[1]} | {k[2]}": v for k, v in medians.items()}, indent=2))
    (out / "bench_meta.json").write_text(json.dumps({"cpu": cpu_name(), "date": time.strftime("%Y-%m-%d")}, indent=2))
    print("\n" + table)

    plot_bench(medians, args.threads[0], cpu_name(), out / "BENCH.png")
    print(f"wrote {out / 'BENCH.md'}, {out / 'BENCH.png'}")


if __name__ == "__main__":
    main()
