"""`pipeline("depth-estimation")` on real frames, with the package and with remote code only."""

import json
import logging
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import litedepth_hf
from litedepth_hf import DEFAULT_CHECKPOINT, LiteDepthForDepthEstimation

pytestmark = pytest.mark.core


def test_embedded_checkpoint_is_small_and_safetensors(tmp_path):
    files = {p.name: p.stat().st_size for p in __import__("pathlib").Path(DEFAULT_CHECKPOINT).iterdir()}
    assert {"config.json", "preprocessor_config.json", "model.safetensors"} <= set(files)
    assert sum(files.values()) < 2_000_000, files
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pth"))]


def test_pipeline_on_a_real_frame(depth_pipeline, real_frame):
    image, gt = real_frame
    out = depth_pipeline(image)
    depth = out["predicted_depth"]
    assert tuple(depth.shape) == (480, 640)
    assert out["depth"].size == (640, 480)
    assert torch.isfinite(depth).all() and depth.min() > 0
    # metres, in the room's range: the median prediction is within a factor 2 of the GT median
    valid = gt > 0
    ratio = float(np.median(depth.numpy()[valid]) / np.median(gt[valid]))
    assert 0.5 < ratio < 2.0, ratio


def test_pipeline_takes_a_path_and_a_batch(depth_pipeline, dev_dir):
    paths = [str(dev_dir / "rgb" / name) for name in ("0000.jpg", "0001.jpg")]
    outs = depth_pipeline(paths)
    assert len(outs) == 2 and all(tuple(o["predicted_depth"].shape) == (480, 640) for o in outs)


def test_pipeline_builds_without_warnings(caplog):
    from transformers import pipeline

    with caplog.at_level(logging.WARNING), warnings.catch_warnings():
        warnings.simplefilter("error")
        pipeline("depth-estimation", model=DEFAULT_CHECKPOINT)
    noisy = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "Device set" not in r.getMessage()]
    assert not noisy, noisy


REMOTE_SCRIPT = """
import json, sys
import numpy as np
from PIL import Image
from transformers import pipeline
pipe = pipeline("depth-estimation", model=sys.argv[1], trust_remote_code=True)
depth = pipe(Image.open(sys.argv[2]))["predicted_depth"].numpy()
assert "litedepth_hf" not in sys.modules, "the package was imported"
np.save(sys.argv[3], depth)
print(json.dumps({"model": type(pipe.model).__module__, "processor": type(pipe.image_processor).__module__}))
"""


def test_trust_remote_code_in_a_fresh_process_without_the_package(tmp_path, train_dir):
    model = LiteDepthForDepthEstimation.from_pretrained(DEFAULT_CHECKPOINT)
    saved = tmp_path / "saved"
    model.save_pretrained(saved)
    litedepth_hf.LiteDepthImageProcessor.from_pretrained(DEFAULT_CHECKPOINT).save_pretrained(saved)
    image_path = train_dir / "rgb" / "0041.jpg"
    # run from tmp_path so the repo's litedepth_hf folder is not importable
    result = subprocess.run(
        [sys.executable, "-c", REMOTE_SCRIPT, str(saved), str(image_path), str(tmp_path / "remote.npy")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "PYTHONPATH": "", "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    modules = json.loads(result.stdout.strip().splitlines()[-1])
    assert modules["model"].startswith("transformers_modules") and modules["processor"].startswith("transformers_modules")
    from transformers import pipeline

    local = pipeline("depth-estimation", model=str(saved))(Image.open(image_path))["predicted_depth"].numpy()
    np.testing.assert_allclose(np.load(tmp_path / "remote.npy"), local, rtol=0, atol=1e-6)


def test_render_pretrained_checkpoint_is_a_fine_tuning_start(real_frame):
    """litedepth-synth (the default) and the desk model litedepth-tum both ship: same architecture, different
    weights; the render-trained one loads as a pipeline and as a Trainer start."""
    from transformers import pipeline

    from litedepth_hf import DESK_CHECKPOINT, SYNTHETIC_CHECKPOINT

    model = LiteDepthForDepthEstimation.from_pretrained(SYNTHETIC_CHECKPOINT)
    assert sum(p.numel() for p in model.parameters()) == 387_953
    desk = LiteDepthForDepthEstimation.from_pretrained(DESK_CHECKPOINT)
    assert sum(p.numel() for p in desk.parameters()) == 387_953 and SYNTHETIC_CHECKPOINT == DEFAULT_CHECKPOINT
    assert not torch.equal(model.decoder.fuse32.weight, desk.decoder.fuse32.weight)
    depth = pipeline("depth-estimation", model=SYNTHETIC_CHECKPOINT)(real_frame[0])["predicted_depth"]
    assert depth.shape == (480, 640) and torch.isfinite(depth).all() and (depth > 0).all()


def test_importing_the_library_changes_no_logging_configuration():
    """Global side effects stay out of import: no filters or handlers on other libraries' loggers."""
    import subprocess
    import sys

    script = ("import logging, litedepth_hf\n"
              "names = ['torchao', 'torch.utils._pytree', 'transformers', '']\n"
              "print(sum(len(logging.getLogger(n).filters) for n in names), logging.root.manager.disable)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["0", "0"]


def test_sixteen_bit_pictures_through_the_pipeline(depth_pipeline, real_frame, tmp_path):
    """transformers' load_image turns an I;16 picture white before our processor sees it: the processor warns
    on a uniform image, and `load_rgb` gives the pipeline the depth the processor gives the picture itself."""
    image, _ = real_frame
    grey = np.asarray(image.convert("L")).clip(1, 255).astype(np.uint16) * 257  # no 0: clipping makes all white
    path = tmp_path / "sixteen.png"
    Image.fromarray(grey).save(path)
    assert Image.open(path).mode.startswith("I")
    with pytest.warns(UserWarning, match="uniform colour.*load_rgb"):
        depth_pipeline(str(path))
    via_load_rgb = depth_pipeline(litedepth_hf.load_rgb(path))["predicted_depth"]
    processor = litedepth_hf.LiteDepthImageProcessor.from_pretrained(DEFAULT_CHECKPOINT)
    model = LiteDepthForDepthEstimation.from_pretrained(DEFAULT_CHECKPOINT).eval()
    with torch.no_grad():
        direct = model(**processor(Image.open(path), return_tensors="pt")).predicted_depth
    direct = processor.post_process_depth_estimation(direct, target_sizes=[grey.shape])[0]["predicted_depth"]
    assert torch.allclose(via_load_rgb, direct, rtol=1e-4, atol=1e-4)
    assert float(via_load_rgb.std()) > 0.05  # a real map, not the flat one of a white picture
