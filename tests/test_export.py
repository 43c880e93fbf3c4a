"""Export once to every format, then hold torch, ONNX Runtime and TFLite to the parity bounds on real frames."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import litedepth_runtime
from litedepth_hf import DEFAULT_CHECKPOINT
from litedepth_hf.inference import load_model, predict_depth
from litedepth_hf.metrics import image_metrics

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ["onnx/model.onnx", "onnx/model_fullframe.onnx"] + [
    f"tflite/model{g}_{p}.tflite" for g in ("", "_fullframe") for p in ("fp32", "fp16", "int8")]


@pytest.fixture(scope="module")
def torch_model():
    return load_model(DEFAULT_CHECKPOINT)


@pytest.fixture(scope="module")
def dev_frames(dev_dir):
    names = sorted(p.stem for p in (dev_dir / "rgb").iterdir())
    frames = [np.asarray(Image.open(dev_dir / "rgb" / f"{n}.jpg").convert("RGB")) for n in names]
    depths = [np.asarray(Image.open(dev_dir / "depth" / f"{n}.png"), dtype=np.float32) / 5000.0 for n in names]
    return frames, depths


def test_every_file_and_its_contract(exported):
    out, manifest = exported
    assert sorted(manifest["files"]) == sorted(EXPECTED)
    on_disk = json.loads((out / "export.json").read_text())
    assert on_disk["files"]["onnx/model.onnx"]["input"]["shape"] == [1, 3, 128, 160]
    assert on_disk["files"]["tflite/model_int8.tflite"]["input"]["shape"] == [1, 128, 160, 3]  # TFLite runs NHWC
    assert on_disk["files"]["tflite/model_fullframe_fp32.tflite"]["input"]["dtype"] == "uint8"
    for name in EXPECTED:
        assert (out / name).stat().st_size == on_disk["files"][name]["bytes"] > 100_000


def test_refuses_to_overwrite_an_export(exported):
    from litedepth_hf.export import export_model

    with pytest.raises(FileExistsError, match="overwrite"):
        export_model(None, exported[0], ("onnx",))


@pytest.mark.parametrize("name", ["onnx/model.onnx", "tflite/model_fp32.tflite"])
def test_fp32_core_graphs_match_the_torch_pipeline(exported, torch_model, dev_frames, name):
    """Core graph + the Pi script's pre/post-processing vs `predict_depth` (what the pipeline does)."""
    runner = litedepth_runtime.DepthRunner(exported[0] / name, threads=2)
    frames = dev_frames[0][:4]
    reference = predict_depth(*torch_model, [Image.fromarray(f) for f in frames])
    for frame, expected in zip(frames, reference):
        depth = runner(frame)
        assert depth.shape == expected.shape == (480, 640)
        assert np.abs(depth - expected).max() <= 1e-4 * expected.max()


@pytest.mark.parametrize("name", ["onnx/model_fullframe.onnx", "tflite/model_fullframe_fp32.tflite"])
def test_fp32_full_frame_graphs_match_the_pipeline(exported, depth_pipeline, dev_frames, name):
    """The full-frame graph resamples the frame as the image processor does (Pillow's antialiased bilinear), so
    its depth is the pipeline's to float rounding, not only its own torch graph's."""
    runner = litedepth_runtime.DepthRunner(exported[0] / name, threads=2)
    assert runner.full_frame
    for frame in dev_frames[0][:3]:
        expected = depth_pipeline(Image.fromarray(frame))["predicted_depth"].numpy()
        depth = runner(frame)
        assert np.abs(depth - expected).max() <= 1e-4 * expected.max()
        assert (np.abs(depth - expected) / expected).max() < 1e-4


@pytest.fixture(scope="module")
def cabinet_frames(shared_data):
    """All 58 frames of the cabinet dev folder (a dev-folder evaluation: skipped without the project's data)."""
    folder = shared_data / "tum_fr3_cabinet"
    names = sorted(p.stem for p in (folder / "rgb").iterdir())
    frames = [np.asarray(Image.open(folder / "rgb" / f"{n}.jpg").convert("RGB")) for n in names]
    depths = [np.asarray(Image.open(folder / "depth" / f"{n}.png"), dtype=np.float32) / 5000.0 for n in names]
    return frames, depths


@pytest.mark.parametrize("precision, bound", [("fp16", 0.01), ("int8", 0.01)])
def test_reduced_precision_keeps_dev_accuracy(exported, cabinet_frames, precision, bound):
    """si-RMSE over the whole cabinet dev folder moves by at most 0.01 from fp32 (int8: calibrated on train frames)."""
    pi = litedepth_runtime
    reference = pi.DepthRunner(exported[0] / "tflite/model_fp32.tflite")
    reduced = pi.DepthRunner(exported[0] / f"tflite/model_{precision}.tflite")
    frames, depths = cabinet_frames
    fp32 = np.mean([image_metrics(reference(f), d)["si_rmse"] for f, d in zip(frames, depths)])
    low = np.mean([image_metrics(reduced(f), d)["si_rmse"] for f, d in zip(frames, depths)])
    assert abs(low - fp32) <= bound, (precision, fp32, low)
    sample = reduced(frames[0])
    assert np.isfinite(sample).all() and sample.min() > 0


def test_decoder_equalisation_keeps_the_function_and_balances_the_concats(torch_model, dev_frames):
    from litedepth_hf.export import calibration_batches, equalise_decoder_ranges

    model, processor = torch_model
    frames = [Image.fromarray(f) for f in dev_frames[0][:8]]
    batches = calibration_batches(processor, frames)
    balanced = equalise_decoder_ranges(model, batches)
    pixels = torch.cat(batches)
    with torch.no_grad():
        before, after = model(pixels).predicted_depth, balanced(pixels).predicted_depth
        assert float(((before - after).abs() / before).max()) < 1e-5
        features = balanced.encoder(pixels)
        hidden = balanced.decoder(features)[1]
        for level in (0, 1, 2):  # relu(h32 | h16 | h8) joins the 1/16 | 1/8 | 1/4 encoder tap
            produced = float(hidden[level].clamp_min(0).max())
            skip = float(features[2 - level].abs().max())
            assert produced < 2.0 * skip, (level, produced, skip)  # trained weights: 4-12x at every level
    assert torch.equal(model.decoder.fuse32.weight, load_model(DEFAULT_CHECKPOINT)[0].decoder.fuse32.weight)


@pytest.mark.parametrize("factors, low", [((15, 16), (32, 40)), ((3, 5), (7, 9)), ((1, 2), (4, 4))])
def test_integer_upsampling_is_bilinear_interpolation(factors, low):
    """The convolutional upsampler of the full-frame graphs and the Pi script's numpy twin both equal
    torch's bilinear interpolate (half-pixel centres, clamped edges) to float rounding."""
    from litedepth_hf.export import IntegerBilinearUpsample, bilinear_taps

    pi = litedepth_runtime
    depth = torch.rand(2, 1, *low) * 9.5 + 0.5
    size = (low[0] * factors[0], low[1] * factors[1])
    expected = torch.nn.functional.interpolate(depth, size=size, mode="bilinear", align_corners=False)[:, 0]
    assert torch.allclose(IntegerBilinearUpsample(*factors)(depth), expected, atol=1e-4)  # 0.1 mm
    assert np.allclose(pi.upsample_integer(depth[0, 0].numpy(), *factors), expected[0].numpy(), atol=1e-4)
    assert np.allclose(pi.resize_map(depth[0, 0].numpy(), *size), expected[0].numpy(), atol=1e-4)
    for factor in factors:
        assert np.array_equal(pi.bilinear_taps(factor), bilinear_taps(factor).numpy())


@pytest.mark.parametrize("frame_size, integer", [((480, 640), True), ((256, 320), True), ((720, 1280), False),
                                                 ((1080, 1440), False), ((500, 700), False)])
def test_full_frame_graph_is_the_pipeline_at_any_frame_size(torch_model, depth_pipeline, frame_size, integer):
    """Any frame size: the processor's integer reduce (frames over 2x the input), its antialiased resize to the
    frame's own aspect ratio (16:9 -> 96x192), the convolutional upsampler at integer multiples of the 1/4 map and
    the model's resize elsewhere, all give the pipeline's depth to float rounding (1080 -> 270 -> 128 rows has no
    repeating period and takes the matrix product)."""
    from litedepth_hf.export import FullFrameGraph

    model, processor = torch_model
    graph = FullFrameGraph(model, processor, frame_size).eval()
    assert (graph.upsample is not None) == integer
    frame = np.asarray(Image.open(ROOT / "examples" / "tum_cabinet.jpg").convert("RGB").resize(frame_size[::-1]))
    pixels = processor(Image.fromarray(frame), return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        assert torch.allclose(graph.preprocess(torch.from_numpy(frame.copy())[None]), pixels, atol=1e-5)
        depth = graph(torch.from_numpy(frame.copy())[None])
    expected = depth_pipeline(Image.fromarray(frame))["predicted_depth"]
    assert depth.shape == (1, *frame_size)
    assert torch.allclose(depth[0], expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="frame must be"):
        graph(torch.zeros(1, 100, 100, 3, dtype=torch.uint8))


@pytest.mark.parametrize("flags, message", [(["--focal-length", "0"], "--focal-length must be a positive"),
                                           (["--focal-length", "-100"], "--focal-length must be a positive"),
                                           (["--threads", "0"], "--threads must be at least 1")])
def test_pi_script_refuses_a_camera_or_thread_count_that_cannot_be(flags, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        litedepth_runtime.main(["--model", str(tmp_path / "none"), "x.jpg", "--out", str(tmp_path / "o"), *flags])
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_pi_script_names_a_missing_model_path(tmp_path):
    with pytest.raises(SystemExit, match="no such file or folder"):
        litedepth_runtime.resolve_model(str(tmp_path / "none"), None, "int8", "core")


def test_fast_frame_resize_is_the_plain_bilinear_one(torch_model, depth_pipeline):
    """`--frame-resize fast` keeps the one-op bilinear resize: cheaper, and measurably not the pipeline's depth."""
    from litedepth_hf.export import FullFrameGraph

    model, processor = torch_model
    graph = FullFrameGraph(model, processor, (480, 640), resize="fast").eval()
    assert graph.preprocess.rows is None and graph.preprocess.cols is None
    frame = np.asarray(Image.open(ROOT / "examples" / "tum_cabinet.jpg").convert("RGB").resize((640, 480)))
    with torch.no_grad():
        depth = graph(torch.from_numpy(frame.copy())[None])[0].numpy()
    expected = depth_pipeline(Image.fromarray(frame))["predicted_depth"].numpy()
    relative = np.abs(depth - expected) / expected
    # measurably different, yet a map of the same scene: 10.6 % here for the v6 default (not remeasured since), mostly scale (over the
    # 58 cabinet frames 7.5 % and si-RMSE +0.0008); a constant depth is ~30 % off on this folder
    assert 1e-3 < relative.mean() < 0.2, relative.mean()
    with pytest.raises(ValueError, match="frame resize"):
        FullFrameGraph(model, processor, (480, 640), resize="nearest")


def test_graphs_keep_work_off_the_full_frame(exported):
    """Issue 15: no layout transpose of a frame-sized tensor (the input stays NHWC; the small ones left interleave
    the antialiasing convolutions' phases and the upsampler's), no resize kernel at frame size (convolutions
    instead), int8 graphs int8 from their one QUANTIZE to their one DEQUANTIZE (residual adds included), float
    depth out of the int8 graph (more levels than int8 has)."""
    from ai_edge_litert import schema_py_generated as schema

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    for name in ("model_fp32", "model_int8", "model_fullframe_fp32", "model_fullframe_int8"):
        data = (exported[0] / "tflite" / f"{name}.tflite").read_bytes()
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
        graph = model.subgraphs[0]
        ops = [(names[max(model.operatorCodes[op.opcodeIndex].builtinCode,
                          model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode)],
                tuple(graph.tensors[op.inputs[0]].shape), tuple(graph.tensors[op.outputs[0]].shape))
               for op in graph.operators]
        big = [op for op in ops if op[0] == "TRANSPOSE" and np.prod(op[1]) >= 480 * 640]
        assert not big, (name, big)
        assert not [op for op in ops if op[0] == "RESIZE_BILINEAR" and op[2][1] * op[2][2] > 128 * 160], name
        if "int8" in name:
            assert [op[0] for op in ops].count("DEQUANTIZE") == 1, name
    runner = litedepth_runtime.DepthRunner(exported[0] / "tflite/model_fullframe_int8.tflite", threads=1)
    frame = np.asarray(Image.open(ROOT / "examples" / "tum_cabinet.jpg").convert("RGB").resize((640, 480)))
    assert len(np.unique(runner(frame))) > 5000


def test_int8_fits_half_a_megabyte(exported):
    """Issue target: int8 TFLite <= 0.5 MB, reached by storing the per-channel zero points once."""
    from ai_edge_litert import schema_py_generated as schema

    files = exported[1]["files"]
    assert files["tflite/model_int8.tflite"]["bytes"] <= 500_000
    data = (exported[0] / "tflite/model_int8.tflite").read_bytes()
    graph = schema.Model.GetRootAsModel(data, 0).Subgraphs(0)
    quantizations = [graph.Tensors(i).Quantization() for i in range(graph.TensorsLength())]
    zero_points = [q.ZeroPointAsNumpy() for q in quantizations if q is not None and q.ZeroPointLength() > 1]
    addresses = {z.__array_interface__["data"][0] for z in zero_points}
    assert len(zero_points) > 50 and len(addresses) < 20, (len(zero_points), len(addresses))
    assert not any(z.any() for z in zero_points)  # symmetric int8: every zero point is 0


def test_pi_script_checks_clashes_before_work_and_reads_the_normalisation(exported, dev_dir, tmp_path, capsys):
    pi = litedepth_runtime
    out = tmp_path / "out"
    out.mkdir()
    (out / "0000_depth_mm.png").write_bytes(b"user data")
    with pytest.raises(SystemExit, match="already holds .*0000_depth_mm.png.*--overwrite"):
        pi.main(["--model", str(tmp_path / "no-such-model.tflite"), str(dev_dir / "rgb" / "0000.jpg"),
                 "--out", str(out)])  # the clash is found before the (missing) model is even looked for
    assert (out / "0000_depth_mm.png").read_bytes() == b"user data"
    manifest = json.loads((exported[0] / "export.json").read_text())
    assert manifest["normalisation"]["image_mean"] == [0.5, 0.5, 0.5]
    runner = pi.DepthRunner(exported[0] / "tflite" / "model_fp32.tflite")
    assert runner.mean.tolist() == manifest["normalisation"]["image_mean"]


def test_pi_script_writes_outputs_without_torch_or_transformers(exported, dev_dir, tmp_path):
    script = ("import runpy, sys; sys.argv = sys.argv[1:]; "
              "sys.modules['torch'] = None; sys.modules['transformers'] = None; "  # any import of them fails
              "runpy.run_path(sys.argv[0], run_name='__main__')")
    frames = tmp_path / "frames"
    frames.mkdir()
    for name in ("0000.jpg", "0005.jpg"):
        (frames / name).write_bytes((dev_dir / "rgb" / name).read_bytes())
    result = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "litedepth_runtime.py"), "--model", str(exported[0]),
         "--precision", "int8", str(frames), "--out", str(tmp_path / "out"), "--npy"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1])["frames"] == 2
    depth = np.load(tmp_path / "out" / "0005_depth.npy")
    assert depth.shape == (480, 640) and depth.dtype == np.float32
    picture = Image.open(tmp_path / "out" / "0005_depth.png")
    assert picture.width == 640 and picture.height > 480  # the map and its metre scale bar below
    millimetres = np.asarray(Image.open(tmp_path / "out" / "0005_depth_mm.png"))
    assert np.abs(millimetres.astype(np.float64) - np.round(depth * 1000.0)).max() <= 1


def _video(path, frames, fps):
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame[..., ::-1].copy())  # OpenCV writes BGR
    writer.release()
    return path


@pytest.fixture(scope="module")
def two_frames(dev_dir):
    return [np.asarray(Image.open(dev_dir / "rgb" / name).convert("RGB").resize((160, 120))) for name in ("0000.jpg", "0005.jpg")]


def test_pi_script_streams_a_video_with_log_depth_smoothing(exported, two_frames, tmp_path, capsys):
    """A video file goes through the camera path: every frame is read at the file's rate, the saved map is
    the moving average of log depth, frame by frame, with the weight given."""
    import cv2

    pi = litedepth_runtime
    video = _video(tmp_path / "walk.avi", [two_frames[i % 2] for i in range(8)], fps=10)
    graph = exported[0] / "tflite" / "model_int8.tflite"
    assert pi.main(["--model", str(graph), str(video), "--out", str(tmp_path / "out"), "--npy", "--smooth", "0.5"]) == 0
    counts = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"source"')][0]
    assert counts["frames_read"] == 8 and counts["frames_processed"] == 8 and counts["frames_dropped"] == 0
    runner, capture, expected = pi.DepthRunner(graph), cv2.VideoCapture(str(video)), None
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        current = np.log(np.maximum(runner(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)), 1e-3))
        expected = current if expected is None else 0.5 * expected + 0.5 * current
    np.testing.assert_allclose(np.load(tmp_path / "out" / "walk_depth.npy"), np.exp(expected), rtol=1e-5)
    assert Image.open(tmp_path / "out" / "walk_depth.png").width == 160


def test_pi_script_drops_frames_when_inference_is_slower_than_the_video(exported, two_frames, tmp_path, capsys):
    pi = litedepth_runtime
    video = _video(tmp_path / "fast.avi", [two_frames[i % 2] for i in range(30)], fps=60)
    runner = pi.DepthRunner(exported[0] / "tflite" / "model_int8.tflite")

    def slow(rgb):  # a device four times too slow for 60 fps
        time.sleep(0.066)
        return runner(rgb)

    paths = pi.output_paths(tmp_path, "fast", npy=False)
    timings = pi.run_stream(slow, str(video), paths, smooth=0.0, max_frames=0, scale_bar=True)
    counts = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert counts["frames_read"] == 30 and counts["frames_dropped"] > 10
    assert len(timings) == counts["frames_processed"] < 20 and paths["png16"].is_file()


def test_pi_script_reads_16_bit_pictures_and_fails_on_an_unreadable_input(exported, dev_dir, tmp_path, capsys):
    """A 16-bit grey PNG gives the depth of the same picture in 8 bits (convert("RGB") once made it white);
    an unreadable input still lets the others be written, and the exit status is 1, as for `litedepth predict`."""
    pi = litedepth_runtime
    grey = np.asarray(Image.open(dev_dir / "rgb" / "0000.jpg").convert("L"))
    frames = tmp_path / "frames"
    frames.mkdir()
    Image.fromarray(grey.astype(np.uint16) * 257).save(frames / "sixteen.png")  # 257 x v: v / 255 = 16-bit / 65535
    Image.fromarray(grey).convert("RGB").save(frames / "eight.png")
    (frames / "broken.png").write_bytes(b"not a png")
    model = str(exported[0] / "tflite" / "model_fp32.tflite")
    assert pi.read_rgb(frames / "sixteen.png").std() > 10
    nan = np.where(grey > 128, np.nan, grey / 255.0).astype(np.float32)
    Image.fromarray(nan, mode="F").save(tmp_path / "nan.tif")  # `litedepth predict` refuses it; so does the Pi
    with pytest.raises(ValueError, match="nan.tif: it holds NaN or infinite values"):
        pi.read_rgb(tmp_path / "nan.tif")
    code = pi.main(["--model", model, str(frames), "--out", str(tmp_path / "out"), "--npy"])
    assert code == 1 and "broken.png" in capsys.readouterr().err
    sixteen, eight = (np.load(tmp_path / "out" / f"{n}_depth.npy") for n in ("sixteen", "eight"))
    assert np.allclose(sixteen, eight, rtol=1e-5)


def test_export_reports_each_stage_while_the_converters_are_silenced(tmp_path, train_dir, capfd, monkeypatch):
    """`litedepth export` ran ~75 s with no output: a line per stage now reaches the terminal even though the
    converters' own output is silenced (the conversions themselves are replaced by fast fakes here: what is
    tested is the reporting; the real conversions are tested above)."""
    from litedepth_hf import export as export_module
    from litedepth_hf.cli import main as cli_main

    def fake(model, processor, folder, *args):
        folder.mkdir(parents=True, exist_ok=True)
        os.write(2, b"converter noise that must stay hidden\n")  # as the converters' C++ code writes
        (folder / "graph.bin").write_bytes(b"x")
        return {"graph.bin": {"graph": "core"}}

    monkeypatch.setattr(export_module, "export_onnx", fake)
    monkeypatch.setattr(export_module, "export_tflite", fake)
    assert cli_main(["export", "--out", str(tmp_path / "exports"), "--calibration-data", str(train_dir)]) == 0
    captured = capfd.readouterr()
    stages = [line for line in captured.err.splitlines() if line.startswith("[")]
    assert len(stages) == 3 and "ONNX" in stages[0] and "TFLite" in stages[1] and "export.json" in stages[2]
    assert "converter noise" not in captured.out + captured.err


def test_pi_script_keeps_a_portrait_frame_unsquashed(exported, dev_dir):
    """The exported core graphs have a fixed 128x160 input: a portrait frame is fitted inside it at its own aspect
    ratio (edges repeated around it) and only its part of the map is kept, instead of being squashed."""
    pi = litedepth_runtime
    rgb = np.asarray(Image.open(dev_dir / "rgb" / "0000.jpg").convert("RGB"))
    portrait = np.ascontiguousarray(rgb[:, 80:440])  # 480 x 360
    graph = exported[0] / "tflite" / "model_fp32.tflite"
    kept, squashed = pi.DepthRunner(graph)(portrait), pi.DepthRunner(graph, keep_aspect_ratio=False)(portrait)
    assert kept.shape == squashed.shape == (480, 360) and np.isfinite(kept).all() and kept.min() > 0
    assert np.abs(np.log(kept / squashed)).mean() > 0.01  # a different picture reached the network
    landscape = pi.DepthRunner(graph)(rgb)  # a 4:3 frame takes the plain path, as before
    assert np.array_equal(landscape, pi.DepthRunner(graph, keep_aspect_ratio=False)(rgb))
