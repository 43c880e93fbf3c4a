#!/usr/bin/env python3
"""LiteDepth on a Raspberry Pi: TFLite or ONNX Runtime, numpy and Pillow, nothing else.

One self-contained file to copy to the device (no torch, no transformers):

  pip install numpy pillow huggingface_hub ai-edge-litert    # or tflite-runtime, or onnxruntime
  python pi_infer.py --repo-id ORG/litedepth photo.jpg --out depth/
  python pi_infer.py --model exports/tflite/model_int8.tflite frames/ --out depth/
  python pi_infer.py --repo-id ORG/litedepth camera:0 --out depth/ --smooth 0.5   # OpenCV camera

Writes DIR/<stem>_depth.png (colour map, near = bright) and DIR/<stem>_depth.npy (float32
metres at the input's resolution), and prints per-frame latency and FPS. Core graphs get the
same pre-processing as `LiteDepthImageProcessor` (a parity test holds them together);
full-frame graphs take the uint8 frame as it is.
"""

import argparse
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
RAMP = np.array([[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21],
                 [250, 193, 39], [252, 255, 164]], dtype=np.float32)


def load_interpreter(path: Path, threads: int):
    """A TFLite interpreter from whichever runtime is installed."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise SystemExit("Install a TFLite runtime: pip install ai-edge-litert (or tflite-runtime)") from None
    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    return interpreter


class DepthRunner:
    """Runs an exported LiteDepth graph (.tflite or .onnx, core or full-frame) on RGB uint8 frames."""

    def __init__(self, path, threads: int = 2):
        self.path = Path(path)
        if self.path.suffix == ".onnx":
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            self.session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
            node = self.session.get_inputs()[0]
            self.input_name, shape = node.name, list(node.shape)
            self.full_frame = node.type == "tensor(uint8)"
        elif self.path.suffix == ".tflite":
            self.interpreter = load_interpreter(self.path, threads)
            detail = self.interpreter.get_input_details()[0]
            self.input_index, shape = detail["index"], list(detail["shape"])
            self.output_index = self.interpreter.get_output_details()[0]["index"]
            self.full_frame = detail["dtype"] == np.uint8
        else:
            raise SystemExit(f"{self.path}: expected a .tflite or .onnx file")
        # core: (1, 3, h, w) normalised; full-frame: (1, H, W, 3) uint8
        self.size = (int(shape[1]), int(shape[2])) if self.full_frame else (int(shape[2]), int(shape[3]))

    def _invoke(self, array: np.ndarray) -> np.ndarray:
        if hasattr(self, "session"):
            return self.session.run(None, {self.input_name: array})[0]
        self.interpreter.set_tensor(self.input_index, array)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output_index)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 (H, W, 3) -> float32 depth (H, W) in metres."""
        height, width = rgb.shape[:2]
        if self.full_frame:
            frame = rgb if (height, width) == self.size else np.asarray(
                Image.fromarray(rgb).resize(self.size[::-1], Image.BILINEAR))
            depth = self._invoke(np.ascontiguousarray(frame[None]))[0]
        else:
            depth = self._invoke(preprocess(rgb, self.size))[0]
        return resize_map(depth, height, width)


def preprocess(rgb: np.ndarray, size) -> np.ndarray:
    """As LiteDepthImageProcessor: [0, 1] floats, per-channel bilinear resize in float, (x - 0.5) / 0.5."""
    x = rgb.astype(np.float32) / 255.0
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(x[..., c])).resize(size[::-1], Image.BILINEAR))
                for c in range(3)]
    return ((np.stack(channels) - 0.5) / 0.5)[None].astype(np.float32)


def resize_map(depth: np.ndarray, height: int, width: int) -> np.ndarray:
    if depth.shape == (height, width):
        return depth.astype(np.float32)
    return np.asarray(Image.fromarray(depth.astype(np.float32)).resize((width, height), Image.BILINEAR))


def colour(depth: np.ndarray) -> np.ndarray:
    """Inverse depth between its 2nd and 98th percentiles through a dark-to-bright ramp (near = bright)."""
    inverse = 1.0 / np.maximum(depth, 1e-3)
    low, high = np.percentile(inverse, (2, 98))
    t = np.clip((inverse - low) / max(high - low, 1e-9), 0, 1) * (len(RAMP) - 1)
    i = np.minimum(t.astype(int), len(RAMP) - 2)
    return (RAMP[i] + (RAMP[i + 1] - RAMP[i]) * (t - i)[..., None]).astype(np.uint8)


def hub_patterns(precision: str) -> list:
    """What a Pi fetches from a Hub repo: the graphs of one runtime and the JSON that describes them."""
    return ["*.onnx", "*.json"] if precision == "onnx" else ["*.tflite", "*.json"]


def resolve_model(model: str, repo_id: str, precision: str, graph: str, revision=None) -> Path:
    """A local .tflite/.onnx file, a folder of exports, or a Hub repo (only the needed files are fetched)."""
    name = f"model{'_fullframe' if graph == 'fullframe' else ''}"
    wanted = f"{name}.onnx" if precision == "onnx" else f"{name}_{precision}.tflite"
    if repo_id:
        from huggingface_hub import snapshot_download

        model = snapshot_download(repo_id, revision=revision, allow_patterns=hub_patterns(precision))
    path = Path(model)
    if path.is_file():
        return path
    found = sorted(path.rglob(wanted)) if path.is_dir() else []
    if not found:
        raise SystemExit(f"No {wanted} under {path}: export one with `litedepth export` first")
    return found[0]


def frames_from(inputs):
    """(stem, uint8 RGB) from files and folders, EXIF orientation applied."""
    for item in inputs:
        path = Path(item)
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if path.is_dir() else [path]
        for file in files:
            try:
                with Image.open(file) as image:
                    yield file.stem, np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
            except (OSError, ValueError) as error:
                print(f"skipping {file}: {error}", file=sys.stderr)


class LatestFrame:
    """Reads a camera in a thread and keeps only the newest frame: slow inference drops frames, never queues."""

    def __init__(self, index: int):
        import cv2

        self.cv2, self.capture = cv2, cv2.VideoCapture(index)
        if not self.capture.isOpened():
            raise SystemExit(f"Cannot open camera {index}")
        self.frame, self.dropped, self.lock, self.running = None, 0, threading.Lock(), True
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while self.running:
            ok, frame = self.capture.read()
            if ok:
                with self.lock:
                    self.dropped += self.frame is not None
                    self.frame = self.cv2.cvtColor(frame, self.cv2.COLOR_BGR2RGB)

    def take(self):
        while self.running:
            with self.lock:
                frame, self.frame = self.frame, None
            if frame is not None:
                return frame
            time.sleep(0.001)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a .tflite/.onnx file or a folder of `litedepth export` outputs")
    source.add_argument("--repo-id", help="Hub repo to fetch the exported graphs from (cached; HF_HUB_OFFLINE=1 works)")
    parser.add_argument("inputs", nargs="+", help="image files, folders, or camera:N")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "int8", "onnx"])
    parser.add_argument("--graph", default="core", choices=["core", "fullframe"])
    parser.add_argument("--revision", default=None, help="Hub revision (with --repo-id)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--smooth", type=float, default=0.0,
                        help="camera only: weight of the previous frame in a log-depth moving average (0 = off)")
    parser.add_argument("--max-frames", type=int, default=0, help="camera only: stop after N frames (0 = never)")
    args = parser.parse_args(argv)
    if not 0.0 <= args.smooth < 1.0:
        parser.error("--smooth must be in [0, 1)")

    runner = DepthRunner(resolve_model(args.model, args.repo_id, args.precision, args.graph, args.revision),
                         args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"model {runner.path} ({'full-frame' if runner.full_frame else 'core'} graph, input {runner.size})")
    timings = []
    camera = [i for i in args.inputs if i.startswith("camera:")]
    if camera:
        stream, log_depth, count = LatestFrame(int(camera[0].split(":", 1)[1])), None, 0
        try:
            while not args.max_frames or count < args.max_frames:
                rgb = stream.take()
                start = time.perf_counter()
                current = np.log(np.maximum(runner(rgb), 1e-3))
                log_depth = current if log_depth is None or not args.smooth else (
                    args.smooth * log_depth + (1 - args.smooth) * current)
                timings.append(time.perf_counter() - start)
                count += 1
                Image.fromarray(colour(np.exp(log_depth))).save(out / "camera_depth.png")
                print(f"frame {count}: {timings[-1] * 1000:.1f} ms, dropped {stream.dropped}", flush=True)
        finally:
            stream.running = False
    for stem, rgb in frames_from([i for i in args.inputs if not i.startswith("camera:")]):
        start = time.perf_counter()
        depth = runner(rgb)
        timings.append(time.perf_counter() - start)
        np.save(out / f"{stem}_depth.npy", depth.astype(np.float32))
        Image.fromarray(colour(depth)).save(out / f"{stem}_depth.png")
        print(f"{stem}: {timings[-1] * 1000:.1f} ms, depth {depth.min():.2f}-{depth.max():.2f} m")
    if not timings:
        raise SystemExit("No frames were processed")
    median = float(np.median(timings))
    print(json.dumps({"frames": len(timings), "median_ms": round(median * 1000, 2), "fps": round(1 / median, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
