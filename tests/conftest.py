"""Shared fixtures: real TUM RGB-D frames committed under tests/fixtures (16 training frames, 6 of a dev scene), so a
clone runs the suite alone; the project's full data (`../shared/data`, or LITEDEPTH_DATA) only for the tests that
evaluate on whole dev folders or render with its photos and meshes, which skip with the reason where it is absent."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LITEDEPTH_DATA", ROOT.parent / "shared" / "data"))
FIXTURES = ROOT / "tests" / "fixtures"  # tests/fixtures/build.py made them from DATA
TRAIN = FIXTURES / "tum_fr1_rpy"
DEV = FIXTURES / "tum_fr3_cabinet"
EXAMPLE = ROOT / "examples" / "tum_cabinet.jpg"
# decoded-frame caches of test runs (scripts/train.py --decoded_cache default) stay out of the user's home
os.environ.setdefault("LITEDEPTH_CACHE", str(Path(__import__("tempfile").mkdtemp(prefix="litedepth-test-cache-"))))


@pytest.fixture(scope="session")
def train_dir() -> Path:
    if not (TRAIN / "manifest.csv").is_file():
        pytest.fail(f"test frames missing: {TRAIN} (a partial checkout? tests/fixtures is in the repository)")
    return TRAIN


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` (rendering assets and dev folders); tests that need it skip with the reason when absent."""
    if not DATA.is_dir():
        pytest.skip(f"{DATA} not found (set LITEDEPTH_DATA to the shared/data folder)")
    return DATA


@pytest.fixture(scope="session")
def dev_dir() -> Path:
    if not (DEV / "manifest.csv").is_file():
        pytest.fail(f"test frames missing: {DEV} (a partial checkout? tests/fixtures is in the repository)")
    return DEV


@pytest.fixture(scope="session")
def real_frame(train_dir):
    """A real 640x480 RGB frame (PIL) and its GT depth in metres."""
    import numpy as np
    from PIL import Image

    image = Image.open(train_dir / "rgb" / "0000.jpg").convert("RGB")
    depth = np.asarray(Image.open(train_dir / "depth" / "0000.png"), dtype=np.float32) / 5000.0
    return image, depth


def manifest_folder(folder: Path, rgb, depth, meta: dict = None, frames: int = 3) -> Path:
    """`frames` copies of one RGB-D pair (uint8 (H, W, 3), uint16 depth at 5000 per metre) as a manifest folder."""
    import json

    from PIL import Image

    (folder / "rgb").mkdir(parents=True)
    lines = ["id,rgb,depth"]
    for k in range(frames):
        Image.fromarray(rgb).save(folder / "rgb" / f"{k}.png")
        Image.fromarray(depth).save(folder / "rgb" / f"{k}_depth.png")
        lines.append(f"{k},rgb/{k}.png,rgb/{k}_depth.png")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    (folder / "meta.json").write_text(json.dumps({"depth_scale": 5000, **(meta or {})}))
    return folder


def run_script(name: str, *args, check: bool = True):
    """Run scripts/NAME.py as a user does (a new process, from the repository root); scripts are programs, not
    modules, so nothing imports them. Returns the CompletedProcess; `check` asserts a zero exit."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "scripts" / f"{name}.py"), *map(str, args)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="session")
def depth_pipeline():
    """`pipeline("depth-estimation")` on the embedded checkpoint, as a user builds it."""
    from transformers import pipeline

    from litedepth_hf import DEFAULT_CHECKPOINT

    return pipeline("depth-estimation", model=DEFAULT_CHECKPOINT)


@pytest.fixture(scope="session")
def exported(tmp_path_factory, train_dir):
    """The embedded checkpoint exported once to every format, int8 calibrated on training frames: the whole
    training folder where the project's data is there (64 frames, as a user calibrates), else the 16 fixtures."""
    from litedepth_hf.export import export_model

    out = tmp_path_factory.mktemp("exports")
    full = DATA / "tum_fr1_rpy"
    calibration = full if (full / "manifest.csv").is_file() else train_dir
    manifest = export_model(None, out, ("onnx", "tflite"), calibration_data=str(calibration))
    return out, manifest
