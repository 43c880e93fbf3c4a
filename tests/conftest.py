"""Shared fixtures: the real TUM RGB-D frames beside the checkout (`../shared/data`)."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LITEDEPTH_DATA", ROOT.parent / "shared" / "data"))
TRAIN = DATA / "tum_fr1_rpy"
DEV = DATA / "tum_fr3_cabinet"
EXAMPLE = ROOT / "examples" / "tum_cabinet.jpg"


@pytest.fixture(scope="session")
def train_dir() -> Path:
    if not (TRAIN / "manifest.csv").is_file():
        pytest.fail(f"real data missing: {TRAIN} (set LITEDEPTH_DATA to the shared/data folder)")
    return TRAIN


@pytest.fixture(scope="session")
def dev_dir() -> Path:
    if not (DEV / "manifest.csv").is_file():
        pytest.fail(f"real data missing: {DEV} (set LITEDEPTH_DATA to the shared/data folder)")
    return DEV


@pytest.fixture(scope="session")
def real_frame(train_dir):
    """A real 640x480 RGB frame (PIL) and its GT depth in metres."""
    import numpy as np
    from PIL import Image

    image = Image.open(train_dir / "rgb" / "0000.png").convert("RGB")
    depth = np.asarray(Image.open(train_dir / "depth" / "0000.png"), dtype=np.float32) / 5000.0
    return image, depth
