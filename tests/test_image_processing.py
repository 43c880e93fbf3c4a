"""The image processor takes any image a user has, and its output matches the spec's normalisation."""

import io
import logging
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from litedepth_hf import LiteDepthImageProcessor

pytestmark = pytest.mark.core


@pytest.fixture(scope="module")
def processor():
    return LiteDepthImageProcessor()


def _check(batch, n=1):
    pixels = batch["pixel_values"]
    assert isinstance(pixels, torch.Tensor) and pixels.shape == (n, 3, 128, 160)
    assert torch.isfinite(pixels).all() and pixels.min() >= -1 and pixels.max() <= 1
    return pixels


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "1", "CMYK", "I;16", "I", "F"])
def test_every_pil_mode(processor, real_frame, mode):
    image, _ = real_frame
    if mode in ("I;16", "I"):
        gray = (np.asarray(image.convert("L"), dtype=np.uint16) * 257)
        converted = Image.fromarray(gray if mode == "I;16" else gray.astype(np.int32), mode=None)
        assert converted.mode.startswith("I")
    elif mode == "F":
        converted = Image.fromarray(np.asarray(image.convert("L"), dtype=np.float32) / 255.0)
    else:
        converted = image.convert(mode)
    pixels = _check(processor(converted, return_tensors="pt"))
    if mode in ("L", "I;16", "I", "F"):  # grey inputs agree with each other whatever their bit depth
        reference = processor(image.convert("L"), return_tensors="pt")["pixel_values"]
        assert torch.allclose(pixels, reference, atol=2e-3)


def test_palette_with_transparency(processor, real_frame):
    image = real_frame[0].convert("P")
    image.info["transparency"] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _check(processor(image, return_tensors="pt"))


def test_exif_orientation_is_applied(processor, real_frame):
    image = real_frame[0]
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 270 to view
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes(), quality=95)
    tagged = Image.open(buffer)
    raw = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
    upright = Image.fromarray(np.ascontiguousarray(np.rot90(raw, k=-1)))  # 90 degrees clockwise, no EXIF
    a = processor(tagged, return_tensors="pt")["pixel_values"]
    b = processor(upright, return_tensors="pt")["pixel_values"]
    assert torch.allclose(a, b, atol=1e-6)


def test_normalisation_is_x_minus_127_5_over_127_5(processor):
    image = np.zeros((128, 160, 3), dtype=np.uint8)
    image[:, :80] = 255
    image[:, 80:] = 51
    pixels = processor(image, return_tensors="pt")["pixel_values"][0]
    assert torch.allclose(pixels[:, :, :70], torch.tensor(1.0))
    assert torch.allclose(pixels[:, :, 90:], torch.tensor((51 - 127.5) / 127.5))


def test_numpy_and_torch_layouts_agree(processor, real_frame):
    hwc = np.asarray(real_frame[0])
    reference = processor(hwc, return_tensors="pt")["pixel_values"]
    variants = [
        hwc.transpose(2, 0, 1),                       # CHW uint8
        hwc.astype(np.float32) / 255.0,               # HWC float in [0, 1]
        hwc.astype(np.float32),                       # HWC float in [0, 255]
        torch.from_numpy(hwc.transpose(2, 0, 1).copy()),
        np.concatenate([hwc, np.full(hwc.shape[:2] + (1,), 255, np.uint8)], axis=-1),  # RGBA
        hwc.astype(np.uint16) * 257,                  # 16-bit colour
    ]
    for variant in variants:
        assert torch.allclose(processor(variant, return_tensors="pt")["pixel_values"], reference, atol=1e-4)


def test_mixed_batch_of_types_and_sizes(processor, real_frame):
    image = real_frame[0]
    batch = [image, image.resize((333, 200)), np.asarray(image.convert("L")), torch.rand(3, 64, 64)]
    _check(processor(batch, return_tensors="pt"), n=4)
    stacked = torch.rand(2, 3, 50, 70)
    _check(processor(stacked, return_tensors="pt"), n=2)


@pytest.mark.parametrize(
    "image, message",
    [
        (np.full((10, 10, 3), np.nan, dtype=np.float32), "NaN"),
        (np.zeros((0, 10, 3), dtype=np.uint8), "Empty"),
        (np.zeros((10, 10, 2), dtype=np.uint8), "shape"),
        (np.full((4, 4, 3), -3.0, dtype=np.float32), r"\[0, 1\]"),
        ("definitely/not/here.png", "not found"),
    ],
)
def test_bad_images_name_the_problem(processor, image, message):
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        processor(image, return_tensors="pt")


def test_corrupt_file_names_the_problem(processor, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(ValueError, match="Cannot read image"):
        processor(str(broken), return_tensors="pt")


@pytest.mark.parametrize("size", [{"height": 100, "width": 160}, {"h": 128, "w": 160}, [128, 160]])
def test_bad_sizes_are_rejected(size):
    with pytest.raises(ValueError, match="size"):
        LiteDepthImageProcessor(size=size)


def test_post_process_resizes_per_image(processor):
    depth = torch.rand(2, 32, 40) + 1.0
    results = processor.post_process_depth_estimation({"predicted_depth": depth}, target_sizes=[(480, 640), (100, 50)])
    assert [tuple(r["predicted_depth"].shape) for r in results] == [(480, 640), (100, 50)]
    assert all(r["predicted_depth"].min() > 0 for r in results)
    kept = processor.post_process_depth_estimation({"predicted_depth": depth})
    assert torch.equal(kept[1]["predicted_depth"], depth[1])
    with pytest.raises(ValueError, match="target sizes"):
        processor.post_process_depth_estimation({"predicted_depth": depth}, target_sizes=[(10, 10)])


def test_saved_config_loads_through_auto_class_silently(processor, tmp_path, caplog):
    from transformers import AutoImageProcessor

    from litedepth_hf import LiteDepthConfig

    LiteDepthConfig().save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    with caplog.at_level(logging.WARNING), warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = AutoImageProcessor.from_pretrained(tmp_path)
    assert type(loaded) is LiteDepthImageProcessor and loaded.size == processor.size
    assert not [r for r in caplog.records if r.name.startswith("transformers")], caplog.text


def test_per_call_arguments_are_honoured_and_unknown_ones_rejected(processor, real_frame):
    """As transformers' own processors: standard arguments override the settings for one call."""
    frame = np.asarray(real_frame[0])
    assert processor(frame, do_resize=False, return_tensors="np")["pixel_values"].shape[-2:] == frame.shape[:2]
    plain = processor(frame, do_normalize=False, return_tensors="np")["pixel_values"]
    assert 0.0 <= plain.min() and plain.max() <= 1.0
    shifted = processor(frame, image_mean=[0.0, 0.0, 0.0], image_std=[1.0, 1.0, 1.0], return_tensors="np")
    np.testing.assert_allclose(shifted["pixel_values"], plain, atol=1e-6)
    assert processor(frame, size={"height": 64, "width": 96}, return_tensors="np")["pixel_values"].shape[-2:] == (64, 96)
    with pytest.raises(TypeError, match="unexpected argument.*resample_mode"):
        processor(frame, resample_mode="nearest")
    with pytest.raises(ValueError, match="image_mean/image_std"):
        processor(frame, image_std=[1.0, 0.0, 1.0])


def _exif_photo(path, size=(640, 480), f35=None, focal_mm=None, x_resolution=None, orientation=None):
    image = Image.new("RGB", size, (120, 130, 140))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    camera = exif.get_ifd(0x8769)
    if f35:
        camera[0xA405] = f35
    if focal_mm:
        camera[0x920A], camera[0xA20E], camera[0xA210] = focal_mm, x_resolution, 3  # pixels per centimetre
    image.save(path, exif=exif)
    return path


def test_focal_length_from_each_source_reaches_a_camera_aware_model(tmp_path):
    """argument (pixels), fov, EXIF (35 mm equivalent, or focal length over the sensor), none: each gives f_x / W,
    and a camera-aware model (random weights: only the scaling is under test) scales depth exactly by it."""
    import math

    from litedepth_hf import LiteDepthConfig, LiteDepthForDepthEstimation

    processor = LiteDepthImageProcessor()
    photo = Image.open(_exif_photo(tmp_path / "f35.jpg", f35=28))
    sensor = Image.open(_exif_photo(tmp_path / "sensor.jpg", focal_mm=4.0, x_resolution=1000.0))  # 6.4 mm wide
    portrait = Image.open(_exif_photo(tmp_path / "turned.jpg", f35=28, orientation=6))  # shown 480 x 640
    plain = Image.new("RGB", (640, 480))
    ratio = lambda image, **kw: float(processor(image, **kw)["focal_length"][0])  # noqa: E731
    assert ratio(plain, focal_length=525.0) == pytest.approx(525 / 640)
    assert ratio(plain, fov=60.0) == pytest.approx(0.5 / math.tan(math.radians(30)))
    assert ratio(photo) == pytest.approx(28 * 800 / (43.27 * 640))
    assert ratio(portrait) == pytest.approx(28 * 800 / (43.27 * 480))
    assert ratio(sensor) == pytest.approx(4.0 / 6.4)
    assert math.isnan(ratio(plain)) and math.isnan(ratio(np.zeros((48, 64, 3), np.uint8)))
    assert ratio(photo, fov=90.0) == pytest.approx(0.5)  # an explicit camera wins over EXIF
    batch = processor([plain, photo], focal_length=[320.0, None], return_tensors="pt")["focal_length"]
    assert batch[0] == pytest.approx(0.5) and batch[1] == pytest.approx(28 * 800 / (43.27 * 640))
    with pytest.raises(ValueError, match="fov"):
        processor(plain, fov=200)
    with pytest.raises(ValueError, match="2 values for 1 images"):
        processor(plain, focal_length=[1.0, 2.0])

    torch.manual_seed(0)
    model = LiteDepthForDepthEstimation(LiteDepthConfig(canonical_focal_length=0.866)).eval()
    with torch.no_grad():
        canonical = model(**processor(plain, return_tensors="pt")).predicted_depth
        for kwargs, expected in (({"focal_length": 525.0}, 525 / 640), ({"fov": 60.0}, 0.5 / math.tan(math.radians(30)))):
            scaled = model(**processor(plain, return_tensors="pt", **kwargs)).predicted_depth
            assert torch.allclose(scaled, canonical * expected / 0.866, rtol=1e-6)


def test_the_stock_pipeline_passes_the_camera(tmp_path):
    """pipeline("depth-estimation") hands the processor's `focal_length` output to the model: EXIF photos need
    nothing, and `pipe.image_processor.fov` sets a camera for every call."""
    from transformers import pipeline

    from litedepth_hf import LiteDepthConfig, LiteDepthForDepthEstimation

    torch.manual_seed(0)
    folder = tmp_path / "aware"
    LiteDepthForDepthEstimation(LiteDepthConfig(canonical_focal_length=0.866)).save_pretrained(folder)
    LiteDepthImageProcessor().save_pretrained(folder)
    pipe = pipeline("depth-estimation", model=str(folder))
    plain = Image.open(_exif_photo(tmp_path / "plain.jpg"))  # the same pixels, no camera in its EXIF
    base = pipe(plain)["predicted_depth"]
    photo = pipe(str(_exif_photo(tmp_path / "f35.jpg", f35=28)))["predicted_depth"]
    assert torch.allclose(photo, base * (28 * 800 / (43.27 * 640)) / 0.866, rtol=1e-5)
    pipe.image_processor.fov = 90.0
    assert torch.allclose(pipe(plain)["predicted_depth"], base * 0.5 / 0.866, rtol=1e-5)


def test_portrait_and_wide_photos_keep_their_aspect_ratio():
    """A portrait photo was squashed into the 128x160 landscape input and stretched back; now the input keeps the
    photo's shape at about the same pixel count, each side a multiple of 32 (4:3 landscape unchanged)."""
    processor = LiteDepthImageProcessor()
    assert processor.input_size(480, 640) == (128, 160)
    assert processor.input_size(640, 480) == (160, 128)
    assert processor.input_size(1080, 1920) == (96, 192)
    assert processor.input_size(4000, 1000) == (288, 64)
    portrait = Image.new("RGB", (360, 480), (10, 20, 30))
    assert tuple(processor(portrait, return_tensors="pt")["pixel_values"].shape) == (1, 3, 160, 128)
    squash = LiteDepthImageProcessor(keep_aspect_ratio=False)
    assert tuple(squash(portrait, return_tensors="pt")["pixel_values"].shape) == (1, 3, 128, 160)
    mixed = processor([portrait, Image.new("RGB", (640, 480))], return_tensors="pt")["pixel_values"]
    assert tuple(mixed.shape) == (2, 3, 128, 160)  # one tensor needs one shape: `size`, as before
    assert [tuple(a.shape) for a in processor([portrait, Image.new("RGB", (640, 480))])["pixel_values"]] == [
        (3, 160, 128), (3, 128, 160)]


def test_predict_groups_mixed_shapes_and_returns_each_size():
    from litedepth_hf import DEFAULT_CHECKPOINT
    from litedepth_hf.inference import load_model, predict_depth

    model, processor = load_model(DEFAULT_CHECKPOINT)
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)) for h, w in
              ((480, 360), (480, 640), (300, 400), (640, 480))]
    depths = predict_depth(model, processor, images, batch_size=4)
    assert [d.shape for d in depths] == [(480, 360), (480, 640), (300, 400), (640, 480)]
    alone = predict_depth(model, processor, images[:1])[0]
    assert np.allclose(alone, depths[0], rtol=1e-5, atol=1e-5)
