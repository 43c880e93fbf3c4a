"""The browser demo: a static site that runs the full-frame ONNX graph on a webcam or a photo, in the viewer's browser.

`build_demo` writes `index.html` and `demo.js` (package data, `web/`), `demo.json` (the graph's contract and the
package's colour ramp), the graph, ONNX Runtime Web's files and a Hugging Face Space card; `python -m
http.server` in the folder serves it, and `litedepth push FOLDER --space ORG/NAME` uploads it as a static Space.
ONNX Runtime Web comes from npm at build time, at the version `web/package-lock.json` pins, into a cache folder
(once); the page itself never fetches anything from the internet.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

import litedepth_runtime

WEB = Path(__file__).parent / "web"
ORT_FILES = ("ort.min.mjs", "ort-wasm-simd-threaded.jsep.mjs", "ort-wasm-simd-threaded.jsep.wasm")
"""The one ONNX Runtime Web bundle the page loads: WASM and WebGPU backends in one WebAssembly binary."""
SITE_FILES = ("index.html", "demo.js", "demo.json", "model_fullframe.onnx", "README.md") + tuple(
    f"ort/{name}" for name in ORT_FILES + ("LICENSE.txt",))
MIT_NOTICE = """ONNX Runtime Web {version} (npm package onnxruntime-web), https://github.com/microsoft/onnxruntime
MIT License. Copyright (c) Microsoft Corporation.

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files (the "Software"), to deal in the Software without restriction, including without limitation
the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and
to permit persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of
the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO
THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF
CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS
IN THE SOFTWARE.
"""
NOTE = ("Trained from scratch (no pretrained weights) on rendered rooms: depth on real photos is rough, and metres hold "
        "only for a camera like its canonical one unless the field of view is given.")
SPACE_CARD = """---
title: LiteDepth live depth
emoji: 📏
colorFrom: purple
colorTo: yellow
sdk: static
app_file: index.html
pinned: false
license: apache-2.0
short_description: Monocular depth from a webcam or a photo, in the browser
custom_headers:
  cross-origin-embedder-policy: require-corp
  cross-origin-opener-policy: same-origin
  cross-origin-resource-policy: cross-origin
---

# LiteDepth: live depth in the browser

{model_name} ({precision} full-frame ONNX graph, {width}x{height} frames) runs on the viewer's device with ONNX
Runtime Web {ort_version} (WASM, threaded where the page is cross-origin isolated, as the headers above make it;
WebGPU where the browser has it). Open a photo or start the webcam; the colour map is near-bright, far-dark with
a scale bar in metres, and "Download depth" saves a 16-bit PNG in millimetres.

Built with `litedepth demo` of the `litedepth-hf` package. {note}
"""


def ort_version() -> str:
    return json.loads((WEB / "package.json").read_text())["dependencies"]["onnxruntime-web"]


def onnxruntime_web(folder: Optional[str] = None, progress=print) -> Path:
    """The `dist` folder of onnxruntime-web: `folder` (a `dist` or a package folder) if given, else npm installs the
    locked version once into ~/.cache/litedepth/web/<lock hash> (LITEDEPTH_CACHE moves it)."""
    if folder:
        path = Path(folder)
        path = path / "dist" if (path / "dist").is_dir() else path
        missing = [name for name in ORT_FILES if not (path / name).is_file()]
        if missing:
            raise FileNotFoundError(f"{path} lacks {', '.join(missing)} (onnxruntime-web {ort_version()}'s dist/)")
        return path
    lock = (WEB / "package-lock.json").read_bytes()
    cache = Path(os.environ.get("LITEDEPTH_CACHE", "~/.cache/litedepth")).expanduser() / "web"
    target = cache / hashlib.sha256(lock).hexdigest()[:16]
    dist = target / "node_modules" / "onnxruntime-web" / "dist"
    if all((dist / name).is_file() for name in ORT_FILES):
        return dist
    if shutil.which("npm") is None:
        raise RuntimeError("the demo vendors ONNX Runtime Web from npm once: install Node.js (npm), or pass "
                           "--onnxruntime-web DIR (an onnxruntime-web package or its dist/ folder)")
    progress(f"fetching onnxruntime-web {ort_version()} with npm (once, into {target})")
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(WEB / name, target / name)
    result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=target,
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"npm ci failed in {target}: {result.stderr.strip()[-500:]}")
    return dist


def quantize_int8(source: Path, target: Path, calibration_data: str) -> None:
    """Static int8 (QDQ, per-channel) of the network's convolutions with ONNX Runtime's quantiser, calibrated on real
    frames; the frame resampling and the depth upsampling stay float, as in the int8 TFLite graphs."""
    import numpy as np
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    from .export import _fit, calibration_images

    graph = onnx.load(str(source))
    frame_size = [d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim][1:3]
    name = graph.graph.input[0].name
    float_nodes = [n.name for n in graph.graph.node if n.name.startswith(("/preprocess/", "/upsample/"))]
    frames = [np.asarray(_fit(image, frame_size), dtype=np.uint8)[None]  # as export_tflite calibrates frames
              for image in calibration_images(calibration_data, limit=32)]

    class Frames(CalibrationDataReader):
        def __init__(self):
            self.items = iter(frames)

        def get_next(self):
            frame = next(self.items, None)
            return None if frame is None else {name: frame}

    quantize_static(str(source), str(target), Frames(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"],
                    nodes_to_exclude=float_nodes)


def build_demo(out, model: Optional[str] = None, precision: str = "fp32", calibration_data: Optional[str] = None,
               onnxruntime_web_dir: Optional[str] = None, overwrite: bool = False, progress=print) -> list:
    """Write the static site into `out`; returns its files. `model`: a checkpoint (folder or Hub id; default the
    embedded one) or a `litedepth export` folder holding `onnx/model_fullframe.onnx`. int8 needs
    `calibration_data` (real frames like those the page will see)."""
    from .export import export_model

    out = Path(out)
    if precision not in ("fp32", "int8"):
        raise ValueError(f"precision must be fp32 or int8, got {precision!r}")
    if precision == "int8" and not calibration_data:
        raise ValueError("--precision int8 needs --calibration-data: a folder of real frames like those in use")
    if calibration_data and not Path(calibration_data).is_dir():
        raise FileNotFoundError(f"Calibration folder not found: {calibration_data}")
    if model and not Path(model).exists() and (model.startswith(("/", ".", "~")) or model.count("/") != 1):
        raise FileNotFoundError(f"{model}: no such folder (a checkpoint folder, a Hub id ORG/NAME, or a `litedepth "
                                "export` folder)")
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} is a file; name a folder")
    if out.exists() and any(out.iterdir()):
        if not (out / "demo.json").is_file():  # never delete what the demo did not write
            raise FileExistsError(f"{out} holds files and no demo (no demo.json): choose a new or empty folder")
        if not overwrite:
            raise FileExistsError(f"{out} already holds a demo (pass --overwrite to replace it)")
    ort_dist = onnxruntime_web(onnxruntime_web_dir, progress)
    version = ort_version()
    exports = Path(model) if model and (Path(model) / "onnx" / "model_fullframe.onnx").is_file() else None
    with tempfile.TemporaryDirectory() as scratch:
        if exports is None:
            progress("exporting the full-frame ONNX graph")
            export_model(model, Path(scratch) / "exports", ("onnx",))
            exports = Path(scratch) / "exports"
        manifest = json.loads((exports / "export.json").read_text())
        contract = manifest["files"]["onnx/model_fullframe.onnx"]
        staging = Path(scratch) / "site"
        (staging / "ort").mkdir(parents=True)
        graph = staging / "model_fullframe.onnx"
        if precision == "int8":
            progress(f"quantising to int8, calibrated on {calibration_data}")
            quantize_int8(exports / "onnx" / "model_fullframe.onnx", graph, calibration_data)
        else:
            shutil.copy(exports / "onnx" / "model_fullframe.onnx", graph)
        for name in ("index.html", "demo.js"):
            shutil.copy(WEB / name, staging / name)
        for name in ORT_FILES:
            shutil.copy(ort_dist / name, staging / "ort" / name)
        (staging / "ort" / "LICENSE.txt").write_text(MIT_NOTICE.format(version=version))
        model_name = _model_name(model, manifest)
        note = NOTE if model is None else f"Weights: {model}."
        height, width = contract["input"]["shape"][1:3]
        (staging / "demo.json").write_text(json.dumps({
            "model": graph.name, "input_name": contract["input"]["name"], "output_name": contract["output"]["name"],
            "frame_size": [height, width], "precision": precision, "model_name": model_name,
            "canonical_focal_length": manifest.get("canonical_focal_length"), "onnxruntime_web": version,
            "ramp": litedepth_runtime.RAMP.tolist(), "note": note}) + "\n")
        (staging / "README.md").write_text(SPACE_CARD.format(
            model_name=model_name, precision=precision, width=width, height=height, ort_version=version,
            note=note))
        for name in SITE_FILES:  # the previous demo's own files only (the folder was checked above)
            (out / name).unlink(missing_ok=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, out, dirs_exist_ok=True)
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def _model_name(model, manifest: dict) -> str:
    return "LiteDepth (the package's default checkpoint)" if model is None or manifest.get("model") in (
        None, "embedded default") else f"LiteDepth ({Path(str(model)).name})"


def still_video(path, rgb, frames: int = 60) -> None:
    """A still RGB frame (even sides) as a YUV4MPEG2 file (4:2:0, BT.601 studio range): what Chromium's fake camera
    plays in a loop (`--use-file-for-fake-video-capture`), to run the page on a known frame without a camera."""
    import numpy as np

    rgb = np.asarray(rgb)
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u, v = (b - y) * 0.564, (r - y) * 0.713
    height, width = y.shape

    def half(plane):
        return plane.reshape(height // 2, 2, width // 2, 2).mean((1, 3))

    planes = [16 + y * 219 / 255, 128 + half(u) * 224 / 255, 128 + half(v) * 224 / 255]
    data = b"".join(np.clip(np.round(p), 0, 255).astype(np.uint8).tobytes() for p in planes)
    with open(path, "wb") as handle:
        handle.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            handle.write(b"FRAME\n" + data)


def serve(site, isolated: bool = False):
    """A local HTTP server for a demo folder in a background thread (`.server_port`; `.shutdown()` stops it).
    `isolated` sends the cross-origin isolation headers a Space card sets, so the page's WASM gets threads."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Handler(SimpleHTTPRequestHandler):
        def end_headers(self):
            if isolated:
                self.send_header("Cross-Origin-Opener-Policy", "same-origin")
                self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            super().end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def headless_chromium(camera_file, profile, window=(1400, 900), chromium="/usr/bin/chromium",
                      chromedriver="/usr/bin/chromedriver"):
    """Debian's Chromium, headless, driven by Selenium through its matching chromedriver, with a fake camera playing
    `camera_file` (`still_video`) and camera permission granted; the network-quiet flags this sandbox needs."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-video-capture={camera_file}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(chromedriver), options=options)
