"""The one colour map: near bright, one scale for several maps, a metre scale bar, and the Pi script's copy
giving the same pixels."""

import numpy as np
import pytest
from PIL import Image

from litedepth_hf.visualization import (
    colorize_depth,
    depth_picture,
    depth_range,
    error_map,
    image_grid,
)


@pytest.fixture(scope="module")
def kinect_depth(dev_dir):
    """A real Kinect depth map in metres, with its holes (0) and a NaN and an inf written in."""
    depth = np.asarray(Image.open(sorted((dev_dir / "depth").iterdir())[0]), np.float32) / 5000.0
    depth[0, 0], depth[0, 1] = np.nan, np.inf
    return depth


def test_near_is_bright_far_is_dark_invalid_is_black(kinect_depth):
    rgb = colorize_depth(kinect_depth).astype(int).sum(-1)
    valid = np.isfinite(kinect_depth) & (kinect_depth > 0)
    near, far = depth_range(kinect_depth)
    assert 0.3 < near < far < 10
    assert rgb[valid & (kinect_depth <= near)].min() > rgb[valid & (kinect_depth >= far)].max()
    assert (rgb[~valid] == 0).all()


def test_one_scale_for_several_maps(kinect_depth):
    """Given near/far, a map twice as far is darker everywhere: GT and prediction comparable side by side."""
    near, far = depth_range(kinect_depth)
    a = colorize_depth(kinect_depth, near, far).astype(int).sum(-1)
    b = colorize_depth(kinect_depth * 2, near, far).astype(int).sum(-1)
    valid = np.isfinite(kinect_depth) & (kinect_depth > 0) & (kinect_depth * 2 < far)
    assert (b[valid] <= a[valid]).all() and (b[valid] < a[valid]).mean() > 0.9


def test_scale_bar_is_a_ramp_with_metre_labels(kinect_depth):
    plain, with_bar = np.asarray(depth_picture(kinect_depth, scale_bar=False)), np.asarray(depth_picture(kinect_depth))
    height = plain.shape[0]
    assert with_bar.shape[0] > height and np.array_equal(with_bar[:height], plain)
    ramp = with_bar[height + 2].astype(int).sum(-1)  # the bar's first row: dark (far) at left, bright at right
    assert ramp[:20].mean() < ramp[-20:].mean()
    labels = with_bar[height + (with_bar.shape[0] - height) // 2 + 2:]
    assert (labels.sum(-1) < 200).any()  # dark text on the white strip


def test_scale_bar_labels_never_overlap_on_narrow_maps():
    from PIL import Image, ImageDraw

    from litedepth_hf.visualization import scale_bar_labels

    textlength = ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength
    for width in (96, 160, 288, 320, 640):
        for near, far in ((0.5, 3.2), (0.8, 3.2), (0.3, 9.0), (1.0, 1.6), (2.0, 40.0)):
            labels = [(left, left + textlength(label)) for _, label, left in scale_bar_labels(width, near, far, textlength)
                      if label]
            labels.sort()
            assert labels, (width, near, far)
            assert all(a[1] + 4 <= b[0] for a, b in zip(labels, labels[1:])), (width, near, far, labels)
            assert all(0 <= left and right <= width for left, right in labels)
    # the case a user met: a 288-pixel-wide map, where "3 m" was drawn over "2.5 m"
    kept = [label for _, label, _ in scale_bar_labels(288, 0.8, 3.2, textlength) if label]
    assert "3 m" not in kept or "2.5 m" not in kept


def test_chunked_picture_equals_one_pass_colouring(kinect_depth):
    tall = np.concatenate([kinect_depth] * 2)
    near, far = depth_range(tall)
    assert np.array_equal(np.asarray(depth_picture(tall, scale_bar=False)), colorize_depth(tall, near, far))


def test_error_map_diverges_around_white():
    target = np.ones((4, 6), np.float32)
    predicted = target * np.array([0.5, 0.8, 1.0, 1.0, 1.25, 2.0], np.float32)
    rgb = error_map(predicted, target).astype(int)
    assert (rgb[:, 2] > 240).all()  # right: white
    assert rgb[0, 0, 2] > rgb[0, 0, 0] and rgb[0, 5, 0] > rgb[0, 5, 2]  # too near: blue; too far: red


def test_grid_has_a_header_row():
    tile = np.zeros((20, 30, 3), np.uint8)
    plain = image_grid([[tile, tile]], tile_height=20)
    headed = image_grid([[tile, tile]], tile_height=20, headers=["RGB", "depth"])
    assert headed.height == plain.height + 16 and headed.width == plain.width
