"""The browser demo end to end: `litedepth demo` builds the site, Debian's Chromium (headless, driven by Selenium
through the matching chromedriver) opens it with a fake camera fed from a real frame, and the depth the page computed
is read back and compared with `pipeline("depth-estimation")` on the frame the page saw.

Why Selenium + Debian's chromedriver: the browser and its driver come from the same Debian source package, so their
versions always match, and nothing downloads a browser at test time (Playwright's Python package would, unless
pointed at the system one; the DevTools protocol by hand would be more code here). Skipped with the reason where
Chromium, chromedriver, Selenium or npm (which vendors ONNX Runtime Web once) is missing.
"""

import base64
import io
import json
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from litedepth_hf import DEFAULT_CHECKPOINT
from litedepth_hf.demo import headless_chromium, serve, still_video

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site as a user builds it: `litedepth demo --out DIR` on the embedded checkpoint (fp32)."""
    pytest.importorskip("selenium")
    out = tmp_path_factory.mktemp("demo") / "site"
    result = subprocess.run([sys.executable, "-m", "litedepth_hf.cli", "demo", "--out", str(out)],
                            capture_output=True, text=True, timeout=900)
    if result.returncode != 0 and "npm" in result.stderr:
        pytest.skip(f"ONNX Runtime Web could not be vendored: {result.stderr.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def camera_frame(dev_dir):
    return np.asarray(Image.open(dev_dir / "rgb" / "0000.jpg").convert("RGB"))


@pytest.fixture(scope="module")
def browser(site, camera_frame, tmp_path_factory):
    """Chromium on the served site, its fake camera playing `camera_frame`; yields (driver, base URL)."""
    scratch = tmp_path_factory.mktemp("chromium")
    still_video(scratch / "camera.y4m", camera_frame)
    server = serve(site)
    driver = headless_chromium(scratch / "camera.y4m", scratch / "profile", chromium=CHROMIUM,
                               chromedriver=CHROMEDRIVER)
    try:
        yield driver, f"http://127.0.0.1:{server.server_port}/index.html"
    finally:
        driver.quit()
        server.shutdown()


def wait_for(driver, condition: str, seconds: float = 90):
    """Poll a JavaScript expression on window.litedepth until it is truthy; fails with the page's status line."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = driver.execute_script(f"const s = window.litedepth; return s ? ({condition}) : null;")
        if value:
            return value
        time.sleep(0.25)
    status = driver.execute_script("return document.getElementById('status').textContent")
    pytest.fail(f"page never reached {condition!r}; status: {status!r}")


def read_back(driver):
    dump = driver.execute_script("return window.litedepth.dump()")
    height, width = dump["height"], dump["width"]
    frame = np.frombuffer(base64.b64decode(dump["rgb"]), np.uint8).reshape(height, width, 3)
    depth = np.frombuffer(base64.b64decode(dump["depth"]), np.float32).reshape(height, width)
    return frame, depth, dump["region"]


def test_camera_streams_and_its_depth_is_the_pipelines(browser, camera_frame, depth_pipeline):
    driver, url = browser
    driver.get(f"{url}?start=camera")
    wait_for(driver, "s.source === 'camera' && s.frames >= 5")
    frame, depth, region = read_back(driver)
    assert region == {"x": 0, "y": 0, "w": 640, "h": 480}
    assert np.abs(frame.astype(int) - camera_frame).mean() < 3  # the fake camera played the real frame
    expected = depth_pipeline(Image.fromarray(frame))["predicted_depth"].numpy()
    relative = np.abs(depth - expected) / expected
    assert relative.max() <= 1e-3, relative.max()
    status = driver.execute_script("return document.getElementById('stats').textContent")
    assert "frames/s" in status and driver.execute_script("return window.litedepth.fps") > 0


def test_an_opened_photo_gives_the_pipelines_depth_and_its_16_bit_png(browser, dev_dir, depth_pipeline, tmp_path):
    driver, url = browser
    driver.get(url)
    wait_for(driver, "s.ready")
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "photo").send_keys(str(dev_dir / "rgb" / "0005.jpg"))
    wait_for(driver, "s.source === 'photo' && s.frames >= 1")
    frame, depth, region = read_back(driver)
    expected = depth_pipeline(Image.fromarray(frame))["predicted_depth"].numpy()
    assert (np.abs(depth - expected) / expected).max() <= 1e-3
    png = base64.b64decode(driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; window.litedepth.png().then(done);"))
    millimetres = np.asarray(Image.open(io.BytesIO(png)))
    assert Image.open(io.BytesIO(png)).mode.startswith("I;16") and millimetres.shape == (480, 640)
    assert np.abs(millimetres.astype(np.float64) - np.round(depth * 1000)).max() <= 1  # what predict writes

    driver.execute_script(  # a known lens: the photo on show is rescaled to metres for it
        "const fov = document.getElementById('fov'); fov.value = '90'; fov.dispatchEvent(new Event('change'));")
    wait_for(driver, "s.frames >= 2")
    _, wide, _ = read_back(driver)
    assert np.allclose(wide, expected * (0.5 / np.tan(np.radians(45))) / 0.866, rtol=1e-3)
    driver.execute_script("document.getElementById('fov').value = ''")  # back to the canonical camera

    portrait = tmp_path / "portrait.jpg"  # fitted inside the 640x480 frame at its own aspect ratio
    Image.open(dev_dir / "rgb" / "0001.jpg").transpose(Image.Transpose.ROTATE_90).save(portrait)
    driver.find_element(By.ID, "photo").send_keys(str(portrait))
    wait_for(driver, "s.frames >= 3 && s.last.region.w === 360")
    frame, depth, region = read_back(driver)
    assert region == {"x": 140, "y": 0, "w": 360, "h": 480}
    expected = depth_pipeline(Image.fromarray(frame))["predicted_depth"].numpy()
    assert (np.abs(depth - expected) / expected).max() <= 1e-3


def test_a_file_that_is_no_picture_is_one_clear_sentence(browser, tmp_path):
    driver, url = browser
    driver.get(url)
    wait_for(driver, "s.ready")
    from selenium.webdriver.common.by import By

    fake = tmp_path / "notes.jpg"
    fake.write_text("not a picture")
    driver.find_element(By.ID, "photo").send_keys(str(fake))
    message = wait_for(driver, "s.error")
    assert message == "notes.jpg is not a picture this browser can read."


def test_site_is_self_contained_and_a_valid_static_space(site):
    """Everything the page loads is in the folder (no URL outside it), and README.md is a static Space card."""
    from huggingface_hub import SpaceCard

    for name in ("index.html", "demo.js"):
        text = (site / name).read_text()
        assert "http://" not in text and "https://" not in text, name
    config = json.loads((site / "demo.json").read_text())
    assert (site / config["model"]).is_file() and len(config["ramp"]) == 256
    card = SpaceCard.load(site / "README.md")
    assert card.data.sdk == "static" and card.data.app_file == "index.html"
    assert (site / "ort" / "ort.min.mjs").is_file() and "MIT" in (site / "ort" / "LICENSE.txt").read_text()


def test_push_space_dry_run_writes_what_would_be_uploaded(site, tmp_path):
    result = subprocess.run([sys.executable, "-m", "litedepth_hf.cli", "push", str(site), "--space", "someone/live",
                             "--dry-run", str(tmp_path / "space")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "space").iterdir()) == sorted(p.name for p in site.iterdir())
    assert "nothing was uploaded to someone/live" in result.stdout
    from litedepth_hf.hub import HubError, push_space

    with pytest.raises(HubError, match="not a `litedepth demo` folder"):
        push_space(tmp_path, "someone/live", dry_run=tmp_path / "other")


def test_default_checkpoint_is_the_one_the_page_runs(site):
    config = json.loads((site / "demo.json").read_text())
    assert config["precision"] == "fp32" and DEFAULT_CHECKPOINT.endswith("litedepth-synth")
    assert config["canonical_focal_length"] == json.loads(
        open(f"{DEFAULT_CHECKPOINT}/config.json").read())["canonical_focal_length"]


def test_overwrite_replaces_a_demo_but_never_other_files(site, tmp_path):
    """--overwrite replaces the demo's own files; a folder holding anything else is refused before any work."""
    from litedepth_hf.demo import build_demo

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="no demo"):
        build_demo(folder, overwrite=True)
    with pytest.raises(FileExistsError, match="already holds a demo"):
        build_demo(site)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        build_demo(tmp_path / "new", model=str(tmp_path / "missing-checkpoint"))
    assert (folder / "notes.txt").read_text() == "keep me"

