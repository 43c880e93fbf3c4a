"""R2 crop sizes, RGB/GT alignment, padding and intrinsics bookkeeping."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from litedepth_hf.augmentation import AugmentConfig, augment, rotate
from litedepth_hf.image_processing_litedepth import resize_float_image
from litedepth_hf.training import pad_collate

NO_NOISE = {"rotation_p": 0.0, "gamma": (1, 1), "brightness": (1, 1), "channel_gain": (1, 1)}
EXPECTED = {(64, 96): (240, 384), (96, 128): (360, 512), (128, 160): (480, 640)}


def test_r2_crop_sizes_on_a_real_frame(real_frame):
    rgb, depth = np.asarray(real_frame[0]), real_frame[1]
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(40):
        sample = augment(rgb, depth, rng, AugmentConfig(max_label_scale=0))  # the paper: GT at crop resolution
        pixels, labels = tuple(sample["pixel_values"].shape[-2:]), tuple(sample["labels"].shape)
        assert EXPECTED[pixels] == labels
        seen.add(pixels)
    assert seen == set(EXPECTED)  # all three sizes are drawn
    for _ in range(20):  # default: labels at most 2x the input, by an integer stride (here 2)
        sample = augment(rgb, depth, rng, AugmentConfig())
        pixels, labels = tuple(sample["pixel_values"].shape[-2:]), tuple(sample["labels"].shape)
        assert labels == (EXPECTED[pixels][0] // 2, EXPECTED[pixels][1] // 2)


def test_fixed_crop_is_the_whole_frame(real_frame):
    rgb, depth = np.asarray(real_frame[0]), real_frame[1]
    sample = augment(rgb, depth, np.random.default_rng(0), AugmentConfig(crop="fixed", flip_p=0.0, max_label_scale=0,
                                                                         **NO_NOISE))
    assert sample["pixel_values"].shape == (3, 128, 160)
    np.testing.assert_array_equal(sample["labels"].numpy(), depth)
    strided = augment(rgb, depth, np.random.default_rng(0), AugmentConfig(crop="fixed", flip_p=0.0, **NO_NOISE))
    np.testing.assert_array_equal(strided["labels"].numpy(), depth[::2, ::2])  # real GT values, no interpolation
    small = augment(rgb[::2, ::2], depth[::2, ::2], np.random.default_rng(0),
                    AugmentConfig(crop="fixed", flip_p=0.0, **NO_NOISE))
    assert small["labels"].shape == (240, 320)  # a 240x320 frame already fits: stride 1


@pytest.mark.parametrize("seed", range(6))
def test_rgb_and_gt_stay_aligned(seed):
    """A bright square with a near depth: after crop/flip, both land on the same place (factor 3.75 x 4)."""
    rgb = np.zeros((480, 640, 3), np.uint8)
    depth = np.full((480, 640), 3.0, np.float32)
    rgb[200:320, 260:420] = 255
    depth[200:320, 260:420] = 1.0
    sample = augment(rgb, depth, np.random.default_rng(seed), AugmentConfig(flip_p=0.5, max_label_scale=0, **NO_NOISE))
    bright = sample["pixel_values"][0].numpy() > 0
    near = sample["labels"].numpy() < 2
    if not near.any():
        pytest.skip("this crop missed the square")
    ys, xs = np.nonzero(bright)
    gys, gxs = np.nonzero(near)
    # bounding boxes agree once scaled back to label pixels (within a couple of input pixels)
    assert abs(ys.min() * 3.75 - gys.min()) <= 8 and abs((ys.max() + 1) * 3.75 - (gys.max() + 1)) <= 8
    assert abs(xs.min() * 4 - gxs.min()) <= 8 and abs((xs.max() + 1) * 4 - (gxs.max() + 1)) <= 8


def test_rotation_keeps_depth_values_and_marks_corners_invalid(real_frame):
    rgb, depth = np.asarray(real_frame[0]), real_frame[1]
    config = AugmentConfig(crop="fixed", rotation_p=1.0, flip_p=0.0, gamma=(1, 1), brightness=(1, 1), channel_gain=(1, 1))
    labels = augment(rgb, depth, np.random.default_rng(3), config)["labels"].numpy()
    assert labels[0, 0] == 0 or labels[0, -1] == 0 or labels[-1, 0] == 0 or labels[-1, -1] == 0
    assert set(np.unique(labels[labels > 0])) <= set(np.unique(depth))  # nearest: no invented depths


def test_rotating_the_resized_grid_matches_rotating_the_frame():
    """Rotation runs after the (non-uniform, 3.75 x 4) resize for speed: it must be the same scene rotation."""
    ys, xs = np.mgrid[0:480, 0:640].astype(np.float32)
    frame = np.sin(xs / 23.0) + np.cos(ys / 17.0) + (xs + ys) / 400.0  # smooth, no symmetry
    np.testing.assert_array_equal(rotate(frame, 7.0, Image.NEAREST),  # square pixels: exactly PIL's rotate
                                  np.asarray(Image.fromarray(frame, mode="F").rotate(7.0, resample=Image.NEAREST)))
    reference = resize_float_image(np.asarray(Image.fromarray(frame, mode="F").rotate(
        20.0, resample=Image.BILINEAR))[..., None], 128, 160)[..., 0]
    small = resize_float_image(frame[..., None], 128, 160)
    core = (slice(30, 98), slice(40, 120))  # away from the uncovered corners
    right = np.abs(rotate(small, 20.0, Image.BILINEAR, pixel_aspect=3.75 / 4)[..., 0] - reference)[core].mean()
    sheared = np.abs(rotate(small, 20.0, Image.BILINEAR)[..., 0] - reference)[core].mean()
    assert right < 0.02 and sheared > 3 * right


def test_pad_collate_pads_with_invalid_depth():
    small = {"pixel_values": torch.ones(3, 64, 96), "labels": torch.ones(240, 384), "intrinsics": torch.zeros(4)}
    large = {"pixel_values": torch.ones(3, 128, 160), "labels": torch.ones(480, 640), "intrinsics": torch.zeros(4)}
    batch = pad_collate([small, large])
    assert batch["pixel_values"].shape == (2, 3, 128, 160) and batch["labels"].shape == (2, 480, 640)
    assert batch["labels"][0, 240:].abs().sum() == 0 and batch["labels"][0, :, 384:].abs().sum() == 0
    assert batch["labels"][0, :240, :384].min() == 1


def test_intrinsics_follow_crop_and_flip():
    rgb = np.zeros((480, 640, 3), np.uint8)
    depth = np.ones((480, 640), np.float32)
    intrinsics = {"fx": 500.0, "fy": 500.0, "cx": 300.0, "cy": 250.0}
    for seed in range(10):
        rng = np.random.default_rng(seed)
        sample = augment(rgb, depth, rng, AugmentConfig(crop="fixed", max_label_scale=0, **NO_NOISE), intrinsics)
        fx, fy, cx, cy = sample["intrinsics"].tolist()
        assert (fx, fy, cy) == (500.0, 500.0, 250.0)
        assert cx in (300.0, 639 - 300.0)
        strided = augment(rgb, depth, np.random.default_rng(seed), AugmentConfig(crop="fixed", **NO_NOISE), intrinsics)
        fx, fy, cx, cy = strided["intrinsics"].tolist()  # the label grid keeps every 2nd pixel
        assert (fx, fy, cy) == (250.0, 250.0, 125.0) and cx in (150.0, (639 - 300.0) / 2)
    unknown = augment(rgb, depth, np.random.default_rng(0), AugmentConfig())["intrinsics"]
    assert all(math.isnan(v) for v in unknown.tolist())


def test_bad_crop_mode_is_rejected():
    with pytest.raises(ValueError, match="crop"):
        AugmentConfig(crop="random")


def test_colour_matching_takes_the_reference_statistics(real_frame):
    from litedepth_hf.augmentation import match_colours

    reference = np.asarray(real_frame[0])
    rng = np.random.default_rng(0)
    render = np.clip(rng.normal([200, 60, 90], [20, 40, 10], size=(60, 80, 3)), 0, 255).astype(np.uint8)
    matched = match_colours(render, reference)
    assert matched.shape == render.shape and matched.dtype == np.uint8
    for c in range(3):
        assert abs(matched[..., c].mean() - reference[..., c].mean()) < 4
        assert abs(matched[..., c].std() - reference[..., c].std()) < 6
    # order within a channel is kept: structure survives, only the colour statistics change
    flat, out = render[..., 0].ravel().astype(int), matched[..., 0].ravel().astype(int)
    order = np.argsort(flat, kind="stable")
    assert np.all(np.diff(out[order]) >= 0)
