#!/usr/bin/env python
"""Frames/s of the browser demo on this machine, beside Python's ONNX Runtime (and TFLite) on the same graph.

Builds the site (`litedepth demo`, or takes --site), serves it on localhost and opens it in Debian's headless
Chromium with a fake 640x480 webcam playing a real frame, then measures:
- the page streaming the camera for --seconds (frames/s as the page shows them; Chromium's fake camera delivers
  30 frames/s, so this is capped there) and the camera frames it dropped;
- the page's own back-to-back timing of its last frame (`window.litedepth.benchmark`): the model call alone and the
  whole frame (model, camera scaling, colour map), WASM with 1 thread (a plain static server) and with 2 threads
  (the server sends the cross-origin isolation headers a Space card sets);
- the same ONNX file in Python's onnxruntime (1 and 2 threads), and the full-frame TFLite graphs of --exports.
Writes a screenshot of the page streaming (--screenshot, default docs/demo.png) and prints a Markdown table.

  python benchmarks/benchmark_demo.py [--exports exports] [--screenshot docs/demo.png]
"""

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def page_figures(driver, url: str, seconds: float, screenshot=None) -> dict:
    driver.get(f"{url}?start=camera")
    deadline = time.time() + 120
    while not driver.execute_script("return !!(window.litedepth && window.litedepth.frames >= 10)"):
        if time.time() > deadline:
            raise SystemExit(f"the page did not stream: {driver.execute_script('return window.litedepth.error')}")
        time.sleep(0.2)
    start = driver.execute_script("return [window.litedepth.frames, window.litedepth.seen, window.litedepth.dropped]")
    time.sleep(seconds)
    end = driver.execute_script("return [window.litedepth.frames, window.litedepth.seen, window.litedepth.dropped]")
    if screenshot:
        driver.save_screenshot(str(screenshot))
        height = driver.execute_script("return document.getElementById('drop').getBoundingClientRect().top")
    driver.execute_script("document.getElementById('stop').click()")
    timing = driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; window.litedepth.benchmark(100).then(done);")
    return {"stream_fps": (end[0] - start[0]) / seconds, "camera_fps": (end[1] - start[1]) / seconds,
            "dropped": end[2] - start[2], "crop": int(height) if screenshot else None, **timing}


def median_ms(call, runs: int = 200) -> float:
    """Median milliseconds of `call()` after 20 warm-up calls."""
    for _ in range(20):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def python_onnx(path: Path, frame: np.ndarray, threads: int) -> float:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: frame[None]}
    return median_ms(lambda: session.run(None, feed))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", default=None, help="a `litedepth demo` folder (default: build one, fp32)")
    parser.add_argument("--exports", default=None, help="a `litedepth export` folder: adds its full-frame TFLite rows")
    parser.add_argument("--frame", default=str(ROOT / "examples" / "tum_cabinet.jpg"), help="what the camera shows")
    parser.add_argument("--seconds", type=float, default=10.0, help="streaming time measured (default 10)")
    parser.add_argument("--screenshot", default=str(ROOT / "docs" / "demo.png"))
    args = parser.parse_args()

    import litedepth_runtime
    from litedepth_hf.demo import build_demo, headless_chromium, serve, still_video

    scratch = Path(tempfile.mkdtemp(prefix="litedepth-demo-bench-"))
    site = Path(args.site) if args.site else scratch / "site"
    if not args.site:
        build_demo(site)
    frame = np.asarray(Image.open(args.frame).convert("RGB").resize((640, 480)))
    still_video(scratch / "camera.y4m", frame, frames=90)
    rows, crop = [], None
    for isolated in (False, True):
        server = serve(site, isolated)
        driver = headless_chromium(scratch / "camera.y4m", scratch / f"profile{int(isolated)}", window=(1200, 1000))
        try:
            figures = page_figures(driver, f"http://127.0.0.1:{server.server_port}/index.html", args.seconds,
                                   None if isolated else args.screenshot)
            crop = figures["crop"] or crop
        finally:
            driver.quit()
            server.shutdown()
        rows.append((f"page, WASM {figures['threads']} thread(s), model call", figures["model_ms"],
                     f"{1000 / figures['model_ms']:.0f}"))
        rows.append((f"page, WASM {figures['threads']} thread(s), whole frame (+ scaling, colour map)",
                     figures["frame_ms"], f"{1000 / figures['frame_ms']:.0f}"))
        rows.append((f"page, WASM {figures['threads']} thread(s), streaming the 30 frames/s camera", None,
                     f"{figures['stream_fps']:.1f} ({figures['dropped']} of {figures['camera_fps'] * args.seconds:.0f}"
                     " camera frames dropped)"))
    graph = site / "model_fullframe.onnx"
    for threads in (1, 2):
        ms = python_onnx(graph, frame, threads)
        rows.append((f"Python onnxruntime, same file, {threads} thread(s)", ms, f"{1000 / ms:.0f}"))
    if args.exports:
        for precision in ("fp32", "int8"):
            runner = litedepth_runtime.DepthRunner(Path(args.exports) / "tflite" / f"model_fullframe_{precision}.tflite",
                                                   threads=1)
            prepared = runner.prepare(frame)
            ms = median_ms(lambda: runner.invoke(prepared))
            rows.append((f"Python TFLite full-frame {precision}, 1 thread", ms, f"{1000 / ms:.0f}"))
    if args.screenshot:
        picture = Image.open(args.screenshot)
        picture.crop((0, 0, picture.width, min(picture.height, crop or picture.height))).save(args.screenshot,
                                                                                             optimize=True)
    print(f"{platform.processor() or platform.machine()}, Chromium headless, 640x480 frames of {Path(args.frame).name}, "
          f"{site / 'model_fullframe.onnx'}\n")
    print("| where | ms per frame (median) | frames/s |\n|---|---|---|")
    for name, ms, fps in rows:
        print(f"| {name} | {'' if ms is None else f'{ms:.2f}'} | {fps} |")


if __name__ == "__main__":
    main()
