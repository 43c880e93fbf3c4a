"""`litedepth predict` end to end on real images, and its error messages."""

import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from litedepth_hf import DESK_CHECKPOINT
from litedepth_hf.cli import main

pytestmark = pytest.mark.core


def test_predict_one_image_writes_three_consistent_files(tmp_path, dev_dir, capsys):
    image = dev_dir / "rgb" / "0003.jpg"
    assert main(["predict", str(image), "--out", str(tmp_path), "--npy"]) == 0
    color = Image.open(tmp_path / "0003_depth.png")
    png16 = np.asarray(Image.open(tmp_path / "0003_depth_mm.png"))
    metres = np.load(tmp_path / "0003_depth.npy")
    assert color.mode == "RGB" and color.width == 640 and color.height > 480  # with its metre scale bar
    assert metres.shape == (480, 640) and metres.dtype == np.float32 and (metres > 0).all()
    assert png16.dtype == np.uint16
    assert np.abs(png16.astype(np.float64) - np.round(metres * 1000.0)).max() <= 1
    assert "0003" in capsys.readouterr().out


def test_predict_a_folder_and_refuse_to_overwrite(tmp_path, dev_dir):
    frames = tmp_path / "frames"
    frames.mkdir()
    for name in ("0000.jpg", "0001.jpg", "0002.jpg"):
        shutil.copy(dev_dir / "rgb" / name, frames / name)
    out = tmp_path / "out"
    assert main(["predict", str(frames), "--out", str(out)]) == 0
    assert len(list(out.glob("*_depth.png"))) == 3 and len(list(out.glob("*_depth_mm.png"))) == 3
    before = (out / "0000_depth_mm.png").read_bytes()
    (out / "0000_depth_mm.png").write_bytes(b"user data")
    assert main(["predict", str(frames / "0000.jpg"), "--out", str(out)]) == 2  # refused before any work
    assert (out / "0000_depth_mm.png").read_bytes() == b"user data"
    assert main(["predict", str(frames / "0000.jpg"), "--out", str(out), "--overwrite"]) == 0
    assert (out / "0000_depth_mm.png").read_bytes() == before


def test_corrupt_and_missing_inputs(tmp_path, dev_dir, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not a jpeg")
    good = dev_dir / "rgb" / "0004.jpg"
    assert main(["predict", str(broken), str(good), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "broken.jpg" in err and "Cannot read image" in err
    assert (tmp_path / "o" / "0004_depth.png").is_file()
    assert main(["predict", str(tmp_path / "nope.png")]) == 2
    assert "No such image file or folder" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "o"), "--model", str(tmp_path / "o")]) == 2
    assert "config.json is missing" in capsys.readouterr().err
    assert main(["predict", str(good), "--model", "litedepth-tum", "--out", str(tmp_path / "tum")]) == 0
    assert main(["predict", str(good), "--model", DESK_CHECKPOINT, "--out", str(tmp_path / "desk")]) == 0
    assert (tmp_path / "tum" / "0004_depth_mm.png").read_bytes() == \
        (tmp_path / "desk" / "0004_depth_mm.png").read_bytes()  # the embedded desk model by its README name
    missing = tmp_path / "no_such_model"  # an absolute path is no Hub id: say so, without asking the Hub
    assert main(["predict", str(good), "--model", str(missing), "--out", str(tmp_path / "p")]) == 2
    assert f"No model folder at '{missing}'" in capsys.readouterr().err


def test_an_image_the_processor_refuses_or_warns_about_is_named_and_the_rest_get_depth(tmp_path, dev_dir, capsys):
    """A NaN float TIFF once stopped the whole run unnamed; a blank picture's warning came once, naming nothing."""
    frames = tmp_path / "frames"
    frames.mkdir()
    grey = np.asarray(Image.open(dev_dir / "rgb" / "0004.jpg").convert("L"), dtype=np.float32) / 255
    Image.fromarray(np.where(grey > 0.5, np.nan, grey).astype(np.float32), mode="F").save(frames / "a_nan.tif")
    for name in ("b_blank.png", "c_blank.png"):
        Image.fromarray(np.zeros((64, 80, 3), np.uint8)).save(frames / name)
    shutil.copy(dev_dir / "rgb" / "0004.jpg", frames / "d_ok.jpg")
    assert main(["predict", str(frames), "--out", str(tmp_path / "out"), "--batch-size", "4"]) == 1
    err = capsys.readouterr().err
    assert "a_nan.tif: Image contains NaN" in err
    assert all(f"{name}: An image is one uniform colour" in err for name in ("b_blank.png", "c_blank.png"))
    assert "d_ok.jpg" not in err and not (tmp_path / "out" / "a_nan_depth.png").exists()
    assert all((tmp_path / "out" / f"{stem}_depth_mm.png").is_file() for stem in ("b_blank", "c_blank", "d_ok"))


def test_inputs_are_never_outputs_and_camera_flags_are_checked_first(tmp_path, dev_dir, capsys):
    folder = tmp_path / "pics"
    folder.mkdir()
    shutil.copy(dev_dir / "rgb" / "0004.jpg", folder / "a.jpg")
    shutil.copy(dev_dir / "rgb" / "0005.jpg", folder / "a_depth.png")  # what a.jpg's colour map would be called
    before = (folder / "a_depth.png").read_bytes()
    assert main(["predict", str(folder), "--out", str(folder), "--overwrite"]) == 2
    assert "a_depth.png is an input image and would be an output" in capsys.readouterr().err
    assert (folder / "a_depth.png").read_bytes() == before
    with pytest.raises(SystemExit):  # said by the parser, before the model loads
        main(["predict", str(folder / "a.jpg"), "--fov", "0", "--out", str(tmp_path / "o")])
    assert "--fov must be in (0, 180) degrees" in capsys.readouterr().err


def test_a_batch_that_runs_out_of_memory_is_split_and_other_warnings_pass_through(dev_dir, capsys):
    """torch's out-of-memory error is a RuntimeError: the batch reruns one image at a time and all get depth;
    a library warning that is not the processor's per-image one is shown as a warning, not pinned on a file."""
    import argparse
    import warnings

    from litedepth_hf.cli import _predict_named
    from litedepth_hf.image_processing_litedepth import load_image_file
    from litedepth_hf.inference import load_model, predict_depth

    model, processor = load_model(None)
    batch = [(dev_dir / "rgb" / f"000{i}.jpg", f"000{i}", load_image_file(dev_dir / "rgb" / f"000{i}.jpg"))
             for i in (4, 5)]
    calls = []

    def tight_memory(model, processor, images, **kwargs):
        calls.append(len(images))
        if len(images) > 1:
            raise RuntimeError("CPU out of memory")  # as torch.OutOfMemoryError would
        warnings.warn("a library's own deprecation note", FutureWarning)
        return predict_depth(model, processor, images, **kwargs)

    args = argparse.Namespace(batch_size=2, focal_length=None, fov=None)
    with pytest.warns(FutureWarning, match="a library's own deprecation note"):
        depths = _predict_named(tight_memory, model, processor, batch, args)
    assert calls == [2, 1, 1] and all(d is not None and d.shape == (480, 640) for d in depths)
    assert "0004.jpg" not in capsys.readouterr().err  # not pinned on a file


def test_console_script_help_reads_well():
    result = subprocess.run([sys.executable, "-m", "litedepth_hf.cli", "predict", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for phrase in ("colour map", "millimetres", "--npy", "--model", "examples:"):
        assert phrase in result.stdout


def test_clashes_are_found_before_the_model_is_loaded(tmp_path, dev_dir, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "0001_depth.png").write_bytes(b"mine")
    code = main(["predict", str(dev_dir / "rgb" / "0001.jpg"), "--out", str(out), "--model", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err
    assert code == 2 and "already holds" in err and "--overwrite" in err and err.count("\n") == 1
    assert (out / "0001_depth.png").read_bytes() == b"mine"


@pytest.mark.parametrize("argv, message", [
    (["predict", "IMAGE", "--out", "FILE"], "is a file; name a folder"),
    (["predict", "IMAGE", "--out", "OUT", "--device", "cuda"], "--device cuda: this torch build cannot use cuda"),
    (["predict", "IMAGE", "--out", "OUT", "--device", "banana"], "is not a torch device"),
    (["predict", "IMAGE", "--out", "OUT", "--model", "no-such-org/no-such-model"], "the Hub could not serve it"),
    (["export", "--out", "OUT", "--frame-size", "480"], "--frame-size must be HEIGHTxWIDTH"),
    (["export", "--out", "OUT", "--calibration-data", "MISSING"], "Calibration folder not found"),
])
def test_bad_arguments_are_one_line_naming_the_fix(tmp_path, dev_dir, capsys, monkeypatch, argv, message):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    (tmp_path / "FILE").write_text("x")
    names = {"IMAGE": str(dev_dir / "rgb" / "0002.jpg"), "FILE": str(tmp_path / "FILE"),
             "OUT": str(tmp_path / "OUT"), "MISSING": str(tmp_path / "missing")}
    if "cuda" in argv:
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    assert main([names.get(a, a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "OUT").exists()  # nothing written


def test_the_console_command_starts_without_torch_or_transformers():
    """`litedepth --help`, `--version` and argument errors answer before torch and transformers are imported;
    a command that needs the model registers it then (the entry point is litedepth_cli.main)."""
    script = ("import sys, litedepth_cli\n"
              "for argv in (['--version'], ['--help'], ['synth', '--help'], ['export', '--out', 'x', '--frame-size', '4x4']):\n"
              "    try:\n"
              "        litedepth_cli.main(argv)\n"
              "    except SystemExit:\n"
              "        pass\n"
              "print('heavy imports:', sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "heavy imports: []" in result.stdout and result.stdout.startswith("litedepth ")
    assert "--frame-size must be at least 32x32" in result.stderr


def test_a_tiny_image_warns_and_a_huge_one_is_shrunk_first(tmp_path, dev_dir):
    from litedepth_hf import LiteDepthImageProcessor
    from litedepth_hf.image_processing_litedepth import shrink_large

    processor = LiteDepthImageProcessor()
    with pytest.warns(UserWarning, match="1x1 pixels is under 32 px"):
        processor(Image.new("RGB", (1, 1)))
    big = Image.open(dev_dir / "rgb" / "0002.jpg").convert("RGB").resize((2560, 1920))
    assert shrink_large(big, 128, 160).size == (366, 275)  # factor 7 (PIL rounds up): the largest keeping >= 2x
    assert shrink_large(Image.new("RGB", (640, 480)), 128, 160).size == (640, 480)  # frames pass unchanged
    a = processor(big, return_tensors="np")["pixel_values"]
    from litedepth_hf.image_processing_litedepth import image_to_float_rgb, resize_float_image

    b = (resize_float_image(image_to_float_rgb(big), 128, 160) - 0.5) / 0.5  # the all-float path it replaces
    b = b.transpose(2, 0, 1)[None]
    assert np.abs(a - b).mean() < 0.01 and np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.995  # the same picture


def test_scale_from_one_known_distance_and_the_camera_flags(tmp_path, dev_dir, capsys):
    image = dev_dir / "rgb" / "0000.jpg"
    assert main(["predict", str(image), "--out", str(tmp_path / "a"), "--npy", "--scale-from", "320,240=2.5"]) == 0
    depth = np.load(tmp_path / "a" / "0000_depth.npy")
    assert depth[240, 320] == pytest.approx(2.5, rel=1e-6)
    unscaled_dir = tmp_path / "b"
    assert main(["predict", str(image), "--out", str(unscaled_dir), "--npy"]) == 0
    unscaled = np.load(unscaled_dir / "0000_depth.npy")
    assert np.allclose(depth, unscaled * (2.5 / unscaled[240, 320]), rtol=1e-5)
    from litedepth_hf import DESK_CHECKPOINT  # trained before camera awareness: --fov cannot change its depth

    assert main(["predict", str(image), "--out", str(tmp_path / "e"), "--model", DESK_CHECKPOINT, "--fov", "62.2"]) == 0
    assert "trained without camera awareness" in capsys.readouterr().err
    for bad, message in (("320x240=2", "X,Y=METRES"), ("9999,1=2", "outside"), ("3,3=-1", "positive")):
        code = main(["predict", str(image), "--out", str(tmp_path / "c"), "--scale-from", bad, "--overwrite"])
        assert code != 0 and message in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: one camera flag at a time
        main(["predict", str(image), "--out", str(tmp_path / "d"), "--fov", "60", "--focal-length", "500"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_predict_recursive_batches_grey_output_and_one_path_per_error(tmp_path, dev_dir, capsys):
    photos = tmp_path / "photos"
    (photos / "kitchen").mkdir(parents=True)
    for name, target in (("0000.jpg", photos / "a.jpg"), ("0003.jpg", photos / "kitchen" / "a.jpg"),
                         ("0005.jpg", photos / "kitchen" / "b.jpg")):
        target.write_bytes((dev_dir / "rgb" / name).read_bytes())
    (photos / "kitchen" / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "out"
    assert main(["predict", str(photos / "kitchen"), "--out", str(out)]) == 1  # broken.jpg: exit 1, others written
    err = capsys.readouterr().err
    assert err.count("broken.jpg") == 1, err
    code = main(["predict", str(photos), "--recursive", "--out", str(out), "--grey", "--batch-size", "2",
                 "--overwrite"])
    printed = capsys.readouterr().out
    assert code == 1 and "depth " in printed and " m (camera: " in printed  # a line per image, with its range
    assert printed.count("60 deg horizontal, none known: the canonical camera") == 3  # and the camera that set it
    for stem in ("a", "kitchen/a", "kitchen/b"):
        assert (out / f"{stem}_depth.png").is_file() and (out / f"{stem}_depth_mm.png").is_file()
        grey = np.asarray(Image.open(out / f"{stem}_inverse_depth.png"))
        depth = np.asarray(Image.open(out / f"{stem}_depth_mm.png")).astype(np.float64)
        assert grey.dtype == np.uint8 and grey.max() >= 250
        near, far = depth > np.percentile(depth, 90), depth < np.percentile(depth, 10)
        assert grey[near].mean() < grey[far].mean()  # near = bright
    empty = tmp_path / "only_subfolders"
    (empty / "sub").mkdir(parents=True)
    assert main(["predict", str(empty), "--out", str(tmp_path / "x")]) == 2
    assert "add --recursive" in capsys.readouterr().err
