#!/usr/bin/env python
"""Latency, size and MACs of LiteDepth against its peers, on this machine's CPU, in one interleaved run.

Two timings per cell: *graph only* (the prepared input tensor in, the runtime's output tensor out)
and *end to end* (a 640x480 uint8 frame in, depth at 640x480 out: each model's own pre-processing,
the runtime, and the resize of its output to the frame). LiteDepth runs in torch, ONNX Runtime and
TFLite (fp32/int8, core and full-frame graphs); the peers - Depth-Anything-V2-Small, DPT (ViT-B/16 at
384), GLPN (transformers' default MiT-b0 config) and a FastDepth-style MobileNetV2 model - are built
from configs with random weights (no weights can be downloaded here: latency does not depend on
them) and run in torch and ONNX Runtime fp32, the CNN peer also in ONNX Runtime int8 (static QDQ).
Rounds interleave all (model, runtime, timing, threads) cells; the median is reported. Writes
BENCH.md (table with ratios to LiteDepth's int8 full-frame graph), bench.json and BENCH.png under
--out, and estimates Raspberry Pi 4 latency by scaling the paper's 37 ms (TFLite fp32, full-frame,
1 thread assumed) by our measured end-to-end ratios to that cell.
"""

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
PAPER_PI4_MS = 37.0
REFERENCE = ("LiteDepth", "TFLite int8 (full-frame)")  # the "x LiteDepth" column divides by this row
PAPER_CELL = ("LiteDepth", "TFLite fp32 (full-frame)")  # the paper's 37 ms on a Pi 4
MODES = ("graph", "end-to-end")


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
    """Horizontal bars of the `threads` columns (log ms): graph only (light) and end to end (dark) per row,
    values on the bars, LiteDepth and peers told apart by colour, the CPU in the title. Own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows = list(dict.fromkeys((k[0], k[1]) for k in medians if k[3] == threads))
    figure = Figure(figsize=(10, 0.55 * len(rows) + 1.8))
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    colours = {("LiteDepth", "graph"): "#f4b183", ("LiteDepth", "end-to-end"): "#e8743b",
               ("peer", "graph"): "#a9bfd8", ("peer", "end-to-end"): "#5b7ea4"}
    values = []
    for index, row in enumerate(rows):
        family = "LiteDepth" if row[0] == "LiteDepth" else "peer"
        for offset, mode in ((-0.2, "graph"), (0.2, "end-to-end")):
            value = medians.get((*row, mode, threads))
            if value is None:
                continue
            values.append(value)
            axis.barh(index + offset, value, height=0.38, color=colours[(family, mode)])
            axis.text(value * 1.05, index + offset, f"{value:.2f} ms", va="center", fontsize=6.5)
    axis.set_yticks(range(len(rows)), [f"{name} - {runtime}" for name, runtime in rows], fontsize=8)
    axis.set_xscale("log")
    axis.set_xlim(min(values) / 1.5, max(values) * 5)
    axis.set_xlabel(f"ms per 640x480 frame, {threads} thread{'s' if threads > 1 else ''}, log scale (lower is better)")
    axis.set_title(f"CPU: {cpu}", fontsize=9)
    axis.invert_yaxis()
    axis.legend(handles=[Patch(color=colours[("LiteDepth", "graph")], label="LiteDepth, graph only"),
                         Patch(color=colours[("LiteDepth", "end-to-end")], label="LiteDepth, end to end"),
                         Patch(color=colours[("peer", "graph")], label="peers, graph only (random weights)"),
                         Patch(color=colours[("peer", "end-to-end")], label="peers, end to end")],
                loc="lower right", fontsize=7.5)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def replot(folder: Path, threads: int) -> None:
    """Redraw BENCH.png from a finished run's bench.json (no measurement)."""
    medians = {}
    for key, value in json.loads((folder / "bench.json").read_text()).items():
        name, runtime, mode, thread_count = (part.strip() for part in key.split("|"))
        medians[(name, runtime, mode, int(thread_count))] = value
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
    from transformers import (
        DepthAnythingConfig,
        DepthAnythingForDepthEstimation,
        Dinov2Config,
        DPTConfig,
        DPTForDepthEstimation,
        DPTImageProcessor,
        GLPNConfig,
        GLPNForDepthEstimation,
        GLPNImageProcessor,
    )

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


def onnx_session(path, threads):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def quantize_onnx(source: Path, target: Path, batches: list) -> None:
    """Static int8 (QDQ, per-channel weights) with ONNX Runtime's quantiser, calibrated on `batches`."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"pixel_values": batch} for batch in batches])

        def get_next(self):
            return next(self.items, None)

    quantize_static(str(source), str(target), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)


def torch_calls(module, pre, frame) -> tuple:
    """(graph only, end to end) calls of a torch depth model: its prepared tensor in, or the frame in and depth
    at the frame's size out (`pre`: frame -> numpy input)."""
    from litedepth_runtime import resize_map

    pixels = torch.from_numpy(pre(frame))

    def graph():
        with torch.inference_mode():
            return module(pixels)

    def end_to_end():
        with torch.inference_mode():
            return resize_map(module(torch.from_numpy(pre(frame)))[0].numpy(), *frame.shape[:2])

    return graph, end_to_end


def litedepth_cells(args, frame, scratch: Path, cells: dict, info: dict) -> None:
    """LiteDepth in torch (core), ONNX Runtime and TFLite (core and full-frame graphs)."""
    from litedepth_hf.complexity import macs_and_params
    from litedepth_hf.export import CoreGraph, export_model
    from litedepth_hf.inference import load_model
    from litedepth_runtime import DepthRunner, preprocess

    exports = Path(args.exports) if args.exports else scratch / "exports"
    if not args.exports:
        export_model(args.model, exports, ("onnx", "tflite"), args.calibration_data)
    model, processor = load_model(args.model)
    size = tuple(model.config.image_size)
    core = CoreGraph(model).eval()
    sample = torch.from_numpy(preprocess(frame, size, processor.image_mean, processor.image_std))
    files = {name: (exports / name).stat().st_size
             for name in ("onnx/model.onnx", "tflite/model_fp32.tflite", "tflite/model_int8.tflite",
                          "tflite/model_fullframe_int8.tflite")}
    info["LiteDepth"] = (*macs_and_params(core, sample), files)

    torch_graph, torch_end_to_end = torch_calls(
        core, lambda rgb: preprocess(rgb, size, processor.image_mean, processor.image_std), frame)
    for threads in args.threads:
        cells[("LiteDepth", "torch fp32 (core)", "graph", threads)] = (threads, torch_graph)
        cells[("LiteDepth", "torch fp32 (core)", "end-to-end", threads)] = (threads, torch_end_to_end)
        for name, label in (("onnx/model.onnx", "ONNX Runtime fp32 (core)"),
                            ("onnx/model_fullframe.onnx", "ONNX Runtime fp32 (full-frame)"),
                            ("tflite/model_fp32.tflite", "TFLite fp32 (core)"),
                            ("tflite/model_int8.tflite", "TFLite int8 (core)"),
                            ("tflite/model_fullframe_fp32.tflite", "TFLite fp32 (full-frame)"),
                            ("tflite/model_fullframe_int8.tflite", "TFLite int8 (full-frame)")):
            runner = DepthRunner(exports / name, threads)
            prepared = runner.prepare(frame)
            cells[("LiteDepth", label, "graph", threads)] = (None, lambda r=runner, x=prepared: r.invoke(x))
            cells[("LiteDepth", label, "end-to-end", threads)] = (None, lambda r=runner: r(frame))


def peer_cells(args, frame, scratch: Path, cells: dict, info: dict) -> set:
    """Each peer in torch and ONNX Runtime fp32, the CNN peer also in ONNX Runtime int8; returns the slow ones."""
    from litedepth_hf.complexity import macs_and_params
    from litedepth_runtime import resize_map

    slow = set()
    height, width = frame.shape[:2]
    for name, module, pre in build_peers():
        x = torch.from_numpy(pre(frame))
        macs, params = macs_and_params(module, x)
        path = scratch / f"{name.split()[0]}.onnx"
        torch.onnx.export(module, (x,), str(path), input_names=["pixel_values"], opset_version=17, dynamo=False)
        graphs = {"ONNX Runtime fp32": path}
        if name.startswith("FastDepth"):  # the CNN peer: also int8
            graphs["ONNX Runtime int8"] = scratch / f"{name.split()[0]}_int8.onnx"
            calibration = [pre(np.asarray(Image.fromarray(frame).rotate(angle))) for angle in (0, 5, -5, 10)]
            quantize_onnx(path, graphs["ONNX Runtime int8"], calibration)
        else:
            slow.add(name)
        info[name] = (macs, params, {f"{runtime} onnx": p.stat().st_size for runtime, p in graphs.items()})
        torch_graph, torch_end_to_end = torch_calls(module, pre, frame)
        for threads in args.threads:
            cells[(name, "torch fp32", "graph", threads)] = (threads, torch_graph)
            cells[(name, "torch fp32", "end-to-end", threads)] = (threads, torch_end_to_end)
            for runtime, graph in graphs.items():
                session, pixels = onnx_session(graph, threads), x.numpy()
                cells[(name, runtime, "graph", threads)] = (None, lambda s=session, p=pixels: s.run(None, {"pixel_values": p}))
                cells[(name, runtime, "end-to-end", threads)] = (None, lambda s=session, pre=pre: resize_map(
                    s.run(None, {"pixel_values": pre(frame)})[0][0], height, width))
    return slow


def measure(cells: dict, rounds: int, block: int, slow_rounds: int, slow: set) -> dict:
    """Median ms per cell. Rounds interleave the cells (so drifts in machine speed hit all alike); in each
    round a fast cell runs `block` + 1 times back to back and its first run is dropped, since a deployed
    model runs frame after frame with warm caches, while single runs after a 100 M-parameter peer would
    time cache refills. The slow peers run once per round, in the first `slow_rounds` rounds."""
    timings = {key: [] for key in cells}
    for torch_threads, call in cells.values():  # warm-up
        if torch_threads:
            torch.set_num_threads(torch_threads)
        call()
    for round_index in range(rounds):
        for key, (torch_threads, call) in cells.items():
            if key[0] in slow and round_index >= slow_rounds:
                continue
            if torch_threads:
                torch.set_num_threads(torch_threads)
            repeats = 1 if key[0] in slow else block + 1
            for repeat in range(repeats):
                start = time.perf_counter()
                call()
                if repeat or repeats == 1:
                    timings[key].append((time.perf_counter() - start) * 1000)
        print(f"round {round_index + 1}/{rounds}", end="\r", flush=True)
    return {key: statistics.median(values) for key, values in timings.items()}


def report(medians: dict, info: dict, args, slow: set) -> str:
    """BENCH.md: one row per (model, runtime), graph-only and end-to-end columns per thread count."""
    columns = [(mode, t) for mode in MODES for t in args.threads]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {cpu_name()} ({platform.machine()}, {cores} cores visible to "
             f"this process), Python {platform.python_version()}, torch {torch.__version__}. Median of {args.rounds * args.block} "
             f"timed runs per cell: {args.rounds} interleaved rounds of {args.block} back-to-back runs after one untimed "
             f"(warm caches, as in a frame loop); {', '.join(sorted(slow)) or 'none'}: one run in each of "
             f"{args.slow_rounds} rounds.",
             "",
             "*graph* = the runtime alone: the prepared input tensor in, its output tensor out. *end to end* = a "
             "640x480 uint8 frame in, depth at 640x480 out (each model's own pre-processing, the runtime, and the "
             "resize of its output to the frame). (x) = ratio to LiteDepth's TFLite int8 full-frame graph in the "
             "same column. Peers have random weights (speed only). LiteDepth's core graphs take 128x160 normalised "
             "pixels and return 32x40 depth; its full-frame graphs take the frame and return full-size depth.",
             "", "| model | runtime | params | MACs | " + " | ".join(f"{m} {t} thr ms (x)" for m, t in columns) + " |",
             "|---|---|---|---|" + "---|" * len(columns)]
    for name, runtime in dict.fromkeys((k[0], k[1]) for k in medians):
        macs, params, _ = info[name]
        row = [f"{medians[(name, runtime, m, t)]:.2f} ({medians[(name, runtime, m, t)] / medians[(*REFERENCE, m, t)]:.1f}x)"
               for m, t in columns]
        lines.append(f"| {name} | {runtime} | {params / 1e6:.2f} M | {macs / 1e9:.3f} G | " + " | ".join(row) + " |")
    sizes = {f"{name}: {file}": size for name, (_, _, files) in info.items() for file, size in files.items()}
    lines += ["", "File sizes: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items())]
    first = args.threads[0]
    paper = medians[(*PAPER_CELL, "end-to-end", first)]
    estimates = [f"{name} {runtime}: ~{PAPER_PI4_MS * medians[(name, runtime, 'end-to-end', first)] / paper:.0f} ms"
                 for name, runtime in dict.fromkeys((k[0], k[1]) for k in medians)
                 if name == "LiteDepth" or "ONNX" in runtime]
    lines += ["", f"Raspberry Pi 4 estimate ({first} thread, end to end): the paper measured {PAPER_PI4_MS:.0f} ms for "
              "LiteDepth's full-frame TFLite fp32 graph. Assuming every cell keeps its ratio to that cell from this "
              "CPU to a Pi 4 (rough: memory-bound ViTs likely fare worse on a Pi), Pi 4 time = 37 ms x ratio: "
              + "; ".join(estimates) + "."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="LiteDepth folder or Hub id (default: the embedded checkpoint)")
    parser.add_argument("--exports", default=None, help="`litedepth export` folder (default: export to a temp dir)")
    parser.add_argument("--calibration-data", default=str(ROOT.parent / "shared" / "data" / "tum_fr1_rpy"))
    parser.add_argument("--image", default=str(ROOT / "examples" / "tum_cabinet.jpg"))
    parser.add_argument("--rounds", type=int, default=60, help="interleaved rounds (fast models: --block runs each)")
    parser.add_argument("--block", type=int, default=5, help="timed back-to-back runs of a fast cell per round")
    parser.add_argument("--slow-rounds", type=int, default=5, help="rounds for the transformer peers (one run each)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-peers", action="store_true", help="LiteDepth only")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmark"))
    parser.add_argument("--replot", action="store_true", help="only redraw OUT/BENCH.png from OUT/bench.json")
    args = parser.parse_args()
    out = Path(args.out)
    if args.replot:
        replot(out, args.threads[0])
        print(f"redrew {out / 'BENCH.png'} from bench.json")
        return
    out.mkdir(parents=True, exist_ok=True)
    frame = np.asarray(Image.open(args.image).convert("RGB").resize((640, 480)))
    cells, info = {}, {}  # (model, runtime, mode, threads) -> (torch threads or None, call)
    with tempfile.TemporaryDirectory(prefix="litedepth-bench-") as scratch:  # exports and peer graphs
        litedepth_cells(args, frame, Path(scratch), cells, info)
        slow = set() if args.no_peers else peer_cells(args, frame, Path(scratch), cells, info)
        medians = measure(cells, args.rounds, args.block, args.slow_rounds, slow)
    table = report(medians, info, args, slow)
    (out / "BENCH.md").write_text(table)
    (out / "bench.json").write_text(json.dumps({" | ".join(map(str, k)): v for k, v in medians.items()}, indent=2))
    (out / "bench_meta.json").write_text(json.dumps({"cpu": cpu_name(), "date": time.strftime("%Y-%m-%d")}, indent=2))
    print("\n" + table)
    plot_bench(medians, args.threads[0], cpu_name(), out / "BENCH.png")
    print(f"wrote {out / 'BENCH.md'}, {out / 'BENCH.png'}")


if __name__ == "__main__":
    main()
