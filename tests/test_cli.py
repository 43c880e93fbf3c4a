"""`litedepth predict` end to end on real images, and its error messages."""

import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from litedepth_hf.cli import main

pytestmark = pytest.mark.core


def test_predict_one_image_writes_three_consistent_files(tmp_path, dev_dir, capsys):
    image = dev_dir / "rgb" / "0003.jpg"
    assert main(["predict", str(image), "--out", str(tmp_path), "--npy"]) == 0
    color = Image.open(tmp_path / "0003_depth.png")
    png16 = np.asarray(Image.open(tmp_path / "0003_depth_mm.png"))
    metres = np.load(tmp_path / "0003_depth.npy")
    assert color.mode == "RGB" and color.size == (640, 480)
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
    assert main(["predict", str(frames / "0000.jpg"), "--out", str(out)]) == 1
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


def test_console_script_help_reads_well():
    result = subprocess.run([sys.executable, "-m", "litedepth_hf.cli", "predict", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for phrase in ("colour map", "millimetres", "--npy", "--model", "examples:"):
        assert phrase in result.stdout
