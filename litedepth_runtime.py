#!/usr/bin/env python3
"""LiteDepth's runtime: exported graphs on frames with numpy, Pillow and a small runtime only (no torch).

One file. The package installs it (the `litedepth-pi` command, `import litedepth_runtime`), the library
draws its depth pictures with it, and a Raspberry Pi needs nothing else; `litedepth push` puts it in the
model repo beside the graphs:

  pip install numpy pillow huggingface_hub ai-edge-litert    # or tflite-runtime, or onnxruntime
  python litedepth_runtime.py --repo-id ORG/litedepth photo.jpg --out depth/
  python litedepth_runtime.py --model exports/tflite/model_int8.tflite frames/ --out depth/
  python litedepth_runtime.py --repo-id ORG/litedepth camera:0 --out depth/ --smooth 0.5   # OpenCV camera
  python litedepth_runtime.py --repo-id ORG/litedepth walk.mp4 --out depth/                  # a video file

Writes what `litedepth predict` writes: DIR/<stem>_depth.png (colour map, near = bright, with a scale
bar in metres), DIR/<stem>_depth_mm.png (16-bit millimetres) and, with --npy, DIR/<stem>_depth.npy
(float32 metres), all at the input's resolution; existing outputs are never replaced without
--overwrite. Prints per-frame latency and FPS. Core graphs get the same pre-processing as
`LiteDepthImageProcessor` (normalisation read from the export's export.json; a parity test holds
them together); full-frame graphs take the uint8 frame as it is.
"""

import argparse
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


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
    """Runs an exported LiteDepth graph (.tflite or .onnx, core or full-frame) on RGB uint8 frames.

    `fov` (horizontal degrees) or `focal_length` (pixels of the frames): a camera-aware export's depth is
    scaled from its canonical camera to this one, as `LiteDepthForDepthEstimation` does."""

    def __init__(self, path, threads: int = 2, fov=None, focal_length=None, keep_aspect_ratio: bool = True):
        self.path = Path(path)
        self.keep_aspect_ratio = keep_aspect_ratio
        self.mean, self.std = read_normalisation(self.path)
        self.canonical = read_manifest(self.path).get("canonical_focal_length")
        self.fov, self.focal_length = fov, focal_length
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
        # core: (1, 3, h, w) normalised (ONNX) or (1, h, w, 3) (TFLite); full-frame: (1, H, W, 3) uint8
        self.channels_last = shape[-1] == 3
        self.size = (int(shape[1]), int(shape[2])) if self.channels_last else (int(shape[2]), int(shape[3]))

    def prepare(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 (H, W, 3) -> the graph's input: the frame itself (full-frame) or normalised pixels (core)."""
        if not self.full_frame:
            return preprocess(rgb, self.size, self.mean, self.std, self.channels_last)
        if rgb.shape[:2] != self.size:
            rgb = np.asarray(Image.fromarray(rgb).resize(self.size[::-1], Image.BILINEAR))
        return np.ascontiguousarray(rgb[None])

    def invoke(self, array: np.ndarray) -> np.ndarray:
        """The graph alone: prepared input in, its output tensor out."""
        if hasattr(self, "session"):
            return self.session.run(None, {self.input_name: array})[0]
        self.interpreter.set_tensor(self.input_index, array)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output_index)

    def _letterboxed(self, rgb: np.ndarray) -> np.ndarray:
        """A frame of another shape than the graph's fixed input (a portrait photo in a landscape graph) is fitted
        inside it at its own aspect ratio, the rest filled by repeating its edge pixels, and only its part of
        the depth map is kept: shapes are not squashed, as the image processor does not squash them either."""
        height, width = rgb.shape[:2]
        scale = min(self.size[0] / height, self.size[1] / width)
        inner = (max(1, round(height * scale)), max(1, round(width * scale)))
        top, left = (self.size[0] - inner[0]) // 2, (self.size[1] - inner[1]) // 2
        small = np.asarray(Image.fromarray(rgb).resize(inner[::-1], Image.BILINEAR))
        padded = np.pad(small, ((top, self.size[0] - inner[0] - top), (left, self.size[1] - inner[1] - left), (0, 0)),
                        mode="edge")
        depth = self.invoke(self.prepare(padded))[0].astype(np.float32)
        fy, fx = depth.shape[0] / self.size[0], depth.shape[1] / self.size[1]
        box = (left * fx, top * fy, (left + inner[1]) * fx, (top + inner[0]) * fy)
        return np.asarray(Image.fromarray(depth).resize((width, height), Image.BILINEAR, box=box))

    def camera_scale(self, width: int) -> float:
        """(f_x / W of the given camera) / the export's canonical one; 1 without a camera or a canonical one."""
        if not self.canonical or (self.fov is None and self.focal_length is None):
            return 1.0
        ratio = self.focal_length / width if self.focal_length is not None else 0.5 / np.tan(np.radians(self.fov) / 2)
        return float(ratio / self.canonical)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 (H, W, 3) -> float32 depth (H, W) in metres."""
        height, width = rgb.shape[:2]
        graph_aspect = self.size[1] / self.size[0]
        if not self.full_frame and self.keep_aspect_ratio and abs(np.log(width / height / graph_aspect)) > 0.1:
            depth = self._letterboxed(rgb)
        else:
            depth = resize_map(self.invoke(self.prepare(rgb))[0], height, width)
        scale = self.camera_scale(rgb.shape[1])
        return depth if scale == 1.0 else (depth * np.float32(scale)).astype(np.float32)


def read_manifest(path: Path) -> dict:
    """The export.json beside (or above) a graph; empty for a lone file."""
    for folder in (path.parent, path.parent.parent):
        manifest = folder / "export.json"
        if manifest.is_file():
            return json.loads(manifest.read_text())
    return {}


def read_normalisation(path: Path) -> tuple:
    """(mean, std) per RGB channel from the export.json beside (or above) the graph; (0.5, 0.5) for a lone file."""
    normalisation = read_manifest(path).get("normalisation")
    if normalisation:
        return np.asarray(normalisation["image_mean"], np.float32), np.asarray(normalisation["image_std"], np.float32)
    return np.full(3, 0.5, np.float32), np.full(3, 0.5, np.float32)


def preprocess(rgb: np.ndarray, size, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), channels_last=False) -> np.ndarray:
    """As LiteDepthImageProcessor: frames over 2x the input size on both sides first reduced by an integer
    factor in uint8, then a per-channel bilinear resize in float, x / 255, (x - mean) / std; (1, 3, h, w),
    or (1, h, w, 3) with `channels_last`. The resize is linear, so it runs on 0-255 floats in PIL and the
    scaling on the small result: no frame-sized float array is made (3.7 MB per 640x480 frame, whose page
    faults cost more than the arithmetic)."""
    image = Image.fromarray(rgb)
    factor = min(image.height // (2 * size[0]), image.width // (2 * size[1]))
    if factor >= 2:
        image = image.reduce(factor)
    channels = [np.asarray(band.convert("F").resize(size[::-1], Image.BILINEAR)) for band in image.split()]
    axis, shape = (-1, (1, 1, 3)) if channels_last else (0, (3, 1, 1))
    mean, std = np.asarray(mean, np.float32).reshape(shape), np.asarray(std, np.float32).reshape(shape)
    return ((np.stack(channels, axis) / np.float32(255.0) - mean) / std)[None].astype(np.float32)


def resize_map(depth: np.ndarray, height: int, width: int) -> np.ndarray:
    """A depth map resized bilinearly (half-pixel centres, as torch's interpolate) to (height, width)."""
    depth = depth.astype(np.float32)
    if depth.shape == (height, width):
        return depth
    if height % depth.shape[0] == 0 and width % depth.shape[1] == 0:
        return upsample_integer(depth, height // depth.shape[0], width // depth.shape[1])
    return np.asarray(Image.fromarray(depth).resize((width, height), Image.BILINEAR))


def bilinear_taps(factor: int) -> np.ndarray:
    """(factor, 3) weights on the source pixels (i-1, i, i+1) of each of the `factor` outputs that pixel i
    becomes under bilinear upsampling with half-pixel centres (`align_corners=False`); export.py builds its
    upsampling convolutions from the same taps."""
    taps = np.zeros((factor, 3), np.float32)
    for phase in range(factor):
        offset = (phase + 0.5) / factor - 0.5
        if offset < 0:
            taps[phase, 0], taps[phase, 1] = -offset, 1 + offset  # offset: source position, in (-0.5, 0.5)
        else:
            taps[phase, 1], taps[phase, 2] = 1 - offset, offset
    return taps


def upsample_integer(depth: np.ndarray, factor_y: int, factor_x: int) -> np.ndarray:
    """Bilinear upsampling by integer factors as two 3-tap passes: faster than PIL's float resize for
    32x40 -> 480x640 (0.31 vs 0.49 ms, docs/benchmark/PROFILE.md), the same values to float rounding."""
    padded = np.pad(depth, 1, mode="edge")
    rows = np.stack([padded[:-2], padded[1:-1], padded[2:]], -1)  # (h, w+2, 3)
    rows = np.einsum("ijk,ak->iaj", rows, bilinear_taps(factor_y)).reshape(-1, padded.shape[1])
    windows = np.stack([rows[:, :-2], rows[:, 1:-1], rows[:, 2:]], -1)  # (H, w, 3)
    return (windows @ bilinear_taps(factor_x).T).reshape(rows.shape[0], -1)


# ---- depth as pictures and files (the library draws with these too)

# Anchors of a dark-purple -> orange -> pale-yellow ramp (perceptually ordered, readable in grey),
# interpolated once into a 256-entry table so that colouring a 48-megapixel map stays light on memory.
_ANCHORS = np.array(
    [
        [0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
        [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191],
    ],
    dtype=np.float64,
)
_POSITIONS = np.linspace(0.0, 1.0, len(_ANCHORS))
RAMP = np.stack([np.interp(np.linspace(0.0, 1.0, 256), _POSITIONS, _ANCHORS[:, c]) for c in range(3)], 1).round().astype(np.uint8)
"""256 x 3 uint8: index 0 = far (dark), 255 = near (bright)."""

def depth_range(depth: np.ndarray) -> tuple:
    """(near, far) in metres that the colour map spans: the 2nd and 98th percentiles of valid inverse depth
    (over at most ~1 M pixels, an even subsample of larger maps). (0, 0) when nothing is valid."""
    depth = np.asarray(depth, dtype=np.float32)
    step = max(1, int(np.sqrt(depth.size / 1e6)))
    sample = depth[::step, ::step]
    sample = sample[np.isfinite(sample) & (sample > 0)]
    if not sample.size:
        return 0.0, 0.0
    low, high = np.percentile(1.0 / sample, (2, 98))
    return float(1.0 / high), float(1.0 / low)


def colorize_depth(depth: np.ndarray, near: float = None, far: float = None) -> np.ndarray:
    """Depth (H, W) in metres -> uint8 RGB (H, W, 3); near is bright, far is dark, invalid is black.

    Colours follow inverse depth between `near` and `far` (default: `depth_range`, so a room and a street
    both use the whole ramp). Give the same near/far to compare maps on one scale.
    """
    depth = np.asarray(depth, dtype=np.float32)
    if near is None or far is None:
        auto_near, auto_far = depth_range(depth)
        near, far = near or auto_near, far or auto_far
    if not near or not far:
        return np.zeros(depth.shape + (3,), dtype=np.uint8)
    low, high = 1.0 / far, 1.0 / near
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.reciprocal(depth)  # one float32 map, reused in place
    index -= low
    index *= 255.0 / max(high - low, 1e-12)
    np.nan_to_num(index, copy=False, nan=-1.0, posinf=-1.0, neginf=-1.0)
    invalid = ~(depth > 0) | ~np.isfinite(depth)
    np.clip(index, 0.0, 255.0, out=index)
    rgb = RAMP[index.astype(np.uint8)]
    rgb[invalid] = 0
    return rgb


def _ticks(near: float, far: float) -> list:
    """A few round metre values between near and far (1-2-5 steps), for the scale bar."""
    for step in (0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0):
        values = np.arange(np.ceil(near / step) * step, far + 1e-9, step)
        if len(values) <= 6:
            return [float(v) for v in values]
    return [near, far]


CHUNK_ROWS = 256
"""Maps are coloured and converted this many rows at a time: a 48-megapixel depth map then needs only its
own float32 array and the picture, not several full-size temporaries."""


def draw_scale_bar(canvas: Image.Image, top: int, near: float, far: float) -> None:
    """Draw, in the white strip of `canvas` from row `top` down, the colour ramp from far (left) to near
    (right) with round metre values."""
    width, strip = canvas.width, canvas.height - top
    if not near or not far or far <= near or strip <= 0:
        return
    bar = strip // 2
    positions = np.linspace(1.0 / far, 1.0 / near, width)  # inverse depth, left to right
    index = np.clip((positions - 1.0 / far) / (1.0 / near - 1.0 / far) * 255.0, 0, 255).astype(np.uint8)
    canvas.paste(Image.fromarray(np.repeat(RAMP[index][None], bar, axis=0)), (0, top))
    draw = ImageDraw.Draw(canvas)
    for x, label, left in scale_bar_labels(width, near, far, draw.textlength):
        draw.line([(x, top), (x, top + bar)], fill=(255, 255, 255))
        if label:
            draw.text((left, top + bar), label, fill=(0, 0, 0))


def scale_bar_labels(width: int, near: float, far: float, textlength) -> list:
    """(tick x, label or "" where it would touch its neighbour, label's left x) for a bar `width` pixels wide.
    Inverse depth crowds the far ticks together on the left: a label that would overlap the one drawn before
    it (4 px apart at least) is left out, its tick line kept; the nearest tick's label always shows."""
    ticks = []
    for value in _ticks(near, far):
        x = int(round((1.0 / value - 1.0 / far) / (1.0 / near - 1.0 / far) * (width - 1)))
        label = f"{value:g} m"
        text_width = textlength(label)
        ticks.append([x, label, min(max(0, x - text_width / 2), width - text_width), text_width])
    boundary = np.inf  # left edge of the last label kept, to the right of the ones still to place
    for k, tick in enumerate(sorted(ticks, key=lambda t: -t[0])):  # right (near) to left: the nearest first
        if k and tick[2] + tick[3] + 4 > boundary:
            tick[1] = ""
        else:
            boundary = tick[2]
    return [(x, label, left) for x, label, left, _ in ticks]


def depth_picture(depth: np.ndarray, scale_bar: bool = True) -> Image.Image:
    """What `predict` and the Pi script save as <name>_depth.png: the colour map over its own depth range
    (`depth_range`), with a strip below holding the metre scale bar."""
    depth = np.asarray(depth)
    near, far = depth_range(depth)
    height, width = depth.shape
    canvas = Image.new("RGB", (width, height + (max(18, height // 12) if scale_bar else 0)), (255, 255, 255))
    for top in range(0, height, CHUNK_ROWS):
        canvas.paste(Image.fromarray(colorize_depth(depth[top: top + CHUNK_ROWS], near, far)), (0, top))
    if scale_bar:
        draw_scale_bar(canvas, height, near, far)
    return canvas


def depth_to_png16(depth: np.ndarray) -> Image.Image:
    """Depth in metres -> 16-bit PNG image in millimetres (0 = invalid, saturating at 65.535 m)."""
    depth = np.asarray(depth)
    millimetres = np.empty(depth.shape, np.uint16)
    for top in range(0, depth.shape[0], CHUNK_ROWS):
        rows = np.nan_to_num(depth[top: top + CHUNK_ROWS].astype(np.float32) * 1000.0, nan=0.0, posinf=0.0, neginf=0.0)
        millimetres[top: top + CHUNK_ROWS] = np.clip(np.round(rows), 0, 65535)
    return Image.fromarray(millimetres)




def output_paths(out_dir: Path, stem: str, npy: bool = False, grey: bool = False) -> dict:
    """The files `predict` (and the Pi script) write for one image (`stem` may hold subfolders)."""
    out_dir = Path(out_dir)
    paths = {"color": out_dir / f"{stem}_depth.png", "png16": out_dir / f"{stem}_depth_mm.png"}
    if npy:
        paths["npy"] = out_dir / f"{stem}_depth.npy"
    if grey:
        paths["grey"] = out_dir / f"{stem}_inverse_depth.png"
    return paths


def save_outputs(depth: np.ndarray, paths: dict, scale_bar: bool) -> None:
    depth_picture(depth, scale_bar).save(paths["color"])
    depth_to_png16(depth).save(paths["png16"])
    if "npy" in paths:
        np.save(paths["npy"], depth.astype(np.float32))


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
    if not path.exists():
        raise SystemExit(f"{path}: no such file or folder (a .tflite/.onnx file or a `litedepth export` folder)")
    found = sorted(path.rglob(wanted))
    if not found:
        other = "--precision onnx" if precision != "onnx" and any(path.rglob("*.onnx")) else (
            "--precision fp32/fp16/int8" if precision == "onnx" and any(path.rglob("*.tflite")) else "")
        raise SystemExit(f"No {wanted} under {path}" + (f": it holds other graphs, try {other}" if other else
                                                         ": export one with `litedepth export` first"))
    return found[0]


def is_stream(item: str) -> bool:
    return item.startswith("camera:") or Path(item).suffix.lower() in VIDEO_SUFFIXES


def image_files(inputs) -> list:
    """Image files from files and folders (streams excluded), checked before any work."""
    files = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise SystemExit(f"No such image, folder or video: {path}")
    return files


SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def read_rgb(file) -> np.ndarray:
    """An image file as uint8 RGB (H, W, 3), EXIF orientation applied. 16-bit and float pictures are scaled to
    8 bits as the image processor scales them (Pillow's convert("RGB") would clip them white); palette
    transparency goes through RGBA. A missing or unreadable file raises one clear error naming it."""
    try:
        with Image.open(file) as image:
            image = ImageOps.exif_transpose(image)
            if image.mode in SIXTEEN_BIT_MODES or image.mode == "F":
                values = np.asarray(image, dtype=np.float32)
                if not np.isfinite(values).all():
                    raise ValueError("it holds NaN or infinite values")
                values = values / 65535.0 if image.mode != "F" else values / (255.0 if values.max() > 1 else 1.0)
                grey = np.round(np.clip(values, 0, 1) * 255).astype(np.uint8)
                return np.repeat(grey[..., None], 3, axis=-1)
            if image.mode in ("P", "PA"):
                image = image.convert("RGBA")
            return np.asarray(image.convert("RGB"))
    except FileNotFoundError:
        raise FileNotFoundError(f"Image file not found: {file}") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:  # Pillow's text repeats the path
        reason = str(error).replace(repr(str(file)), "").replace(str(file), "").strip(" :") or type(error).__name__
        raise ValueError(f"Cannot read image {file}: {reason}") from None


class LatestFrame:
    """Reads a camera (camera:N) or a video file in a thread and keeps only the newest frame: slow inference
    drops frames, never queues. A video file is read at its own frame rate, as a camera would deliver it."""

    def __init__(self, source: str):
        try:
            import cv2
        except ImportError:
            raise SystemExit("Cameras and videos need OpenCV: pip install opencv-python-headless") from None
        self.cv2 = cv2
        self.capture = cv2.VideoCapture(int(source.split(":", 1)[1]) if source.startswith("camera:") else source)
        if not self.capture.isOpened():
            raise SystemExit(f"Cannot open {source}")
        self.is_file = not source.startswith("camera:")
        fps = self.capture.get(cv2.CAP_PROP_FPS) if self.is_file else 0.0
        self.interval = 1.0 / fps if fps and fps > 0 else 0.0
        self.frame, self.read, self.dropped, self.ended = None, 0, 0, False
        self.lock, self.running = threading.Lock(), True
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        next_time = time.perf_counter()
        while self.running:
            ok, frame = self.capture.read()
            if not ok:
                if self.is_file:  # a file ends; a camera may hiccup
                    self.ended = True
                    return
                continue
            with self.lock:
                self.read += 1
                self.dropped += self.frame is not None
                self.frame = self.cv2.cvtColor(frame, self.cv2.COLOR_BGR2RGB)
            if self.interval:
                next_time += self.interval
                time.sleep(max(0.0, next_time - time.perf_counter()))

    def take(self):
        """The newest frame, waiting for one; None once a video file has ended."""
        while self.running:
            with self.lock:
                frame, self.frame = self.frame, None
            if frame is not None:
                return frame
            if self.ended:
                return None
            time.sleep(0.001)
        return None


def run_stream(runner, source: str, paths: dict, smooth: float, max_frames: int, scale_bar: bool) -> list:
    """Depth for a camera or video as fast as the graph allows; `smooth` averages log depth over frames.
    The newest map is rewritten in place (paths) after every frame. Returns per-frame seconds."""
    stream, log_depth, timings = LatestFrame(source), None, []
    try:
        while not max_frames or len(timings) < max_frames:
            rgb = stream.take()
            if rgb is None:
                break
            start = time.perf_counter()
            current = np.log(np.maximum(runner(rgb), 1e-3))
            log_depth = current if log_depth is None or not smooth else smooth * log_depth + (1 - smooth) * current
            timings.append(time.perf_counter() - start)
            save_outputs(np.exp(log_depth), paths, scale_bar)
            print(f"frame {len(timings)}: {timings[-1] * 1000:.1f} ms, dropped {stream.dropped}", flush=True)
    finally:
        stream.running = False
    print(json.dumps({"source": source, "frames_read": stream.read, "frames_processed": len(timings),
                      "frames_dropped": stream.dropped}))
    return timings


def check_camera_arguments(parser, args) -> None:
    """The camera flags' ranges, said by the parser before any model loads (here and in `litedepth predict`)."""
    if args.fov is not None and not 0 < args.fov < 180:
        parser.error("--fov must be in (0, 180) degrees")
    if args.focal_length is not None and not 0 < args.focal_length < float("inf"):
        parser.error("--focal-length must be a positive number of pixels")


def add_camera_and_output_arguments(parser) -> None:
    """The flags `litedepth predict` and this script share: the camera (for metric depth) and what is written."""
    camera = parser.add_mutually_exclusive_group()
    camera.add_argument("--fov", type=float, default=None, metavar="DEGREES",
                        help="the camera's horizontal field of view (Raspberry Pi camera module v2: 62.2, module 3: 66): "
                        "metric depth for that lens from a camera-aware model")
    camera.add_argument("--focal-length", type=float, default=None, metavar="PX",
                        help="or its horizontal focal length in pixels of the images as given (default: the photo's "
                        "EXIF where the library reads it, else the model's canonical 60-degree camera)")
    parser.add_argument("--npy", action="store_true", help="also write float32 depth in metres as .npy")
    parser.add_argument("--no-scale-bar", action="store_true", help="colour maps without the metre scale bar")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs instead of stopping")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a .tflite/.onnx file or a folder of `litedepth export` outputs")
    source.add_argument("--repo-id", help="Hub repo to fetch the exported graphs from (cached; HF_HUB_OFFLINE=1 works)")
    parser.add_argument("inputs", nargs="+", help="image files, folders, video files, or camera:N")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "int8", "onnx"])
    parser.add_argument("--graph", default="core", choices=["core", "fullframe"])
    parser.add_argument("--revision", default=None, help="Hub revision (with --repo-id)")
    parser.add_argument("--threads", type=int, default=2)
    add_camera_and_output_arguments(parser)
    parser.add_argument("--smooth", type=float, default=0.0,
                        help="camera/video: weight of the previous frame in a log-depth moving average (0 = off)")
    parser.add_argument("--max-frames", type=int, default=0, help="camera/video: stop after N frames (0 = no limit)")
    args = parser.parse_args(argv)
    if not 0.0 <= args.smooth < 1.0:
        parser.error("--smooth must be in [0, 1)")
    check_camera_arguments(parser, args)
    if args.threads < 1:
        parser.error("--threads must be at least 1")

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise SystemExit(f"--out {out} is a file; name a folder")
    streams = [i for i in args.inputs if is_stream(i)]
    files = image_files([i for i in args.inputs if not is_stream(i)])
    stems = [f.stem for f in files] + [s.replace(":", "") if s.startswith("camera:") else Path(s).stem for s in streams]
    if len(set(stems)) < len(stems):
        raise SystemExit(f"Several inputs share a name; their outputs would collide: {sorted(stems)}")
    planned = {stem: output_paths(out, stem, args.npy) for stem in stems}
    clashes = [str(p) for paths in planned.values() for p in paths.values() if p.exists()]
    if clashes and not args.overwrite:  # found before any frame runs, as `litedepth predict` does
        raise SystemExit(f"{out}/ already holds {', '.join(clashes[:3])}{' ...' if len(clashes) > 3 else ''}: "
                         "pass --overwrite to replace them, or choose another --out")
    runner = DepthRunner(resolve_model(args.model, args.repo_id, args.precision, args.graph, args.revision),
                         args.threads, fov=args.fov, focal_length=args.focal_length)
    if (args.fov or args.focal_length) and not runner.canonical:
        print("note: this export is not camera-aware: --fov/--focal-length do not change its depth", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    print(f"model {runner.path} ({'full-frame' if runner.full_frame else 'core'} graph, input {runner.size})")
    timings, unreadable = [], []
    for stream, stem in zip(streams, stems[len(files):]):
        timings += run_stream(runner, stream, planned[stem], args.smooth, args.max_frames, not args.no_scale_bar)
    for file in files:
        try:
            rgb = read_rgb(file)
        except (OSError, ValueError) as error:
            print(error, file=sys.stderr)
            unreadable.append(str(file))
            continue
        start = time.perf_counter()
        depth = runner(rgb)
        timings.append(time.perf_counter() - start)
        save_outputs(depth, planned[file.stem], not args.no_scale_bar)
        print(f"{file.stem}: {timings[-1] * 1000:.1f} ms, depth {depth.min():.2f}-{depth.max():.2f} m")
    if not timings:
        raise SystemExit("No frames were processed")
    median = float(np.median(timings))
    print(json.dumps({"frames": len(timings), "median_ms": round(median * 1000, 2), "fps": round(1 / median, 1)}))
    if unreadable:  # the others were written; the exit status still says not every input was (as predict does)
        print(f"{len(unreadable)} input(s) could not be read: {', '.join(unreadable)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
