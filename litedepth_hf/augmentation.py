"""Training augmentation: R2 ("random resolution") crop, small rotations, flips, colour jitter, collate.

R2 crop (LiteDepth, ECCV-W 2022): each sample takes one of three crops of the frame,
(240, 384), (360, 512) or (480, 640) for a 480x640 frame, at a random position. The RGB
crop is resized by the same fixed factor (3.75 x 4) to (64, 96), (96, 128) or (128, 160);
the GT stays at crop resolution. Because the factor is shared, a batch of mixed sizes can
be zero-padded at the bottom/right and the prediction upsampled once to the padded GT:
padding is invalid depth (0) and is ignored by every loss.
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from .image_processing_litedepth import resize_float_image

# (crop as a fraction of the frame, RGB input size): the spec's sizes for a 480x640 frame.
R2_CROPS = (((0.5, 0.6), (64, 96)), ((0.75, 0.8), (96, 128)), ((1.0, 1.0), (128, 160)))


@dataclass
class AugmentConfig:
    crop: str = "r2"  # "r2" or "fixed" (whole frame -> 128x160: the ablation baseline)
    rotation_degrees: float = 2.5
    rotation_p: float = 0.5
    flip_p: float = 0.5
    gamma: tuple = (0.9, 1.1)
    brightness: tuple = (0.75, 1.25)
    channel_gain: tuple = (0.9, 1.1)
    contrast: tuple = (1.0, 1.0)  # around the image mean; the paper uses none
    grayscale_p: float = 0.0  # the paper uses none
    input_size: tuple = (128, 160)  # the full-frame input; R2 sizes scale with it
    # Labels are subsampled by the smallest integer stride that brings them to <= this multiple of the
    # input size (nearest pixels, no interpolation: every label value is a real GT value). The losses at
    # 480x640 cost more than the network on a CPU; 0 keeps GT at crop resolution as the paper does.
    max_label_scale: float = 2.0
    # the photographic camera model (synthetic/camera_model.py: noise, blur, vignetting, aberration, tone,
    # JPEG) on the whole frame before cropping: for rendered sources, which no real camera recorded
    camera_model: bool = False

    @classmethod
    def strong(cls, **kwargs) -> "AugmentConfig":
        """Beyond the paper: wider photometric jitter and grey frames, so colour is a weaker depth cue."""
        return cls(brightness=(0.5, 1.5), contrast=(0.6, 1.4), grayscale_p=0.3, channel_gain=(0.8, 1.2), **kwargs)

    def __post_init__(self):
        if self.crop not in ("r2", "fixed"):
            raise ValueError(f"crop must be 'r2' or 'fixed', got {self.crop!r}")


def rotate(array: np.ndarray, degrees: float, resample, pixel_aspect: float = 1.0) -> np.ndarray:
    """Turn a float (H, W) or (H, W, C) grid counter-clockwise by `degrees` of the scene about its centre.

    Why `pixel_aspect` (a pixel's height over its width, in frame pixels): rotating after the resize
    is ~10x cheaper than rotating the full frame, but the RGB resize is not uniform (a 480x640 crop
    becomes 128x160: 3.75 x 4), so a plain rotation of that grid would shear against the labels'.
    The map used is S^-1 R S, the scene rotation seen through the grid's scaling. Uncovered corners
    are 0 (invalid depth, black colour)."""
    angle = math.radians(degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    height, width = array.shape[:2]
    cx, cy = width / 2.0, height / 2.0
    a, b, d, e = cos, -sin * pixel_aspect, sin / pixel_aspect, cos  # output (x, y) -> input (a x + b y, d x + e y)
    matrix = (a, b, cx - a * cx - b * cy, d, e, cy - d * cx - e * cy)
    planes = array[..., None] if array.ndim == 2 else array
    out = [np.asarray(Image.fromarray(np.ascontiguousarray(planes[..., c], dtype=np.float32), mode="F").transform(
        (width, height), Image.AFFINE, matrix, resample=resample)) for c in range(planes.shape[-1])]
    return out[0] if array.ndim == 2 else np.stack(out, axis=-1)


def color_jitter(rgb: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    """Gamma, brightness, per-channel gain (and optional contrast and greying) on [0, 1] floats, clipped."""
    out = rgb ** rng.uniform(*config.gamma)
    out = out * rng.uniform(*config.brightness) * rng.uniform(*config.channel_gain, size=3).astype(np.float32)
    if config.contrast != (1.0, 1.0):
        mean = out.mean()
        out = (out - mean) * rng.uniform(*config.contrast) + mean
    if config.grayscale_p and rng.random() < config.grayscale_p:
        out = np.repeat(out @ np.array([[0.299], [0.587], [0.114]], np.float32), 3, axis=-1)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def match_colours(rgb: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-channel histogram matching of uint8 `rgb` to uint8 `reference` (any sizes).

    Why: renders and camera frames differ in colour statistics (saturation, contrast, white
    balance) in ways a network can use to tell the domains apart; matching each render to a
    random real frame removes that cue while keeping the render's structure.
    """
    out = np.empty_like(rgb)
    levels = np.arange(256, dtype=np.float64)
    for c in range(3):
        source_cdf = np.cumsum(np.bincount(rgb[..., c].ravel(), minlength=256)) / rgb[..., c].size
        reference_cdf = np.cumsum(np.bincount(reference[..., c].ravel(), minlength=256)) / reference[..., c].size
        lut = np.interp(source_cdf, reference_cdf, levels)
        out[..., c] = np.round(lut).astype(np.uint8)[rgb[..., c]]
    return out


def choose_crop(height: int, width: int, rng: np.random.Generator, config: AugmentConfig) -> tuple:
    """(top, left, crop_h, crop_w, input_h, input_w) for one sample."""
    full_h, full_w = config.input_size
    if config.crop == "fixed":
        return 0, 0, height, width, full_h, full_w
    (fh, fw), (in_h, in_w) = R2_CROPS[rng.integers(len(R2_CROPS))]
    scale_h, scale_w = full_h / 128, full_w / 160  # keep the factor shared when input_size differs
    crop_h, crop_w = round(height * fh), round(width * fw)
    top = int(rng.integers(0, height - crop_h + 1))
    left = int(rng.integers(0, width - crop_w + 1))
    return top, left, crop_h, crop_w, round(in_h * scale_h), round(in_w * scale_w)


def augment(rgb: np.ndarray, depth: np.ndarray, rng: np.random.Generator, config: AugmentConfig,
            intrinsics=None, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)) -> dict:
    """uint8 RGB (H, W, 3) + depth metres (H, W) -> normalised `pixel_values` (3, h, w), `labels` (the
    crop, full resolution) and `intrinsics` of the label grid (fx, fy, cx, cy; NaN when unknown)."""
    if rgb.shape[:2] != depth.shape:
        raise ValueError(f"RGB {rgb.shape[:2]} and depth {depth.shape} sizes differ")
    if config.camera_model:
        from .synthetic.camera_model import apply_camera_model

        rgb = apply_camera_model(np.ascontiguousarray(rgb, dtype=np.uint8), rng)
    degrees = 0.0
    if config.rotation_degrees and rng.random() < config.rotation_p:
        degrees = rng.uniform(-config.rotation_degrees, config.rotation_degrees)
    frame_width = depth.shape[1]
    flipped = rng.random() < config.flip_p
    if flipped:
        rgb, depth = rgb[:, ::-1], depth[:, ::-1]
    top, left, crop_h, crop_w, in_h, in_w = choose_crop(*depth.shape, rng, config)
    rgb = rgb[top : top + crop_h, left : left + crop_w].astype(np.float32) / 255.0
    depth = depth[top : top + crop_h, left : left + crop_w]
    rgb = resize_float_image(rgb, in_h, in_w)
    stride = label_stride(crop_h, in_h, config.max_label_scale)
    depth = depth[::stride, ::stride]
    if degrees:  # after the resize and the label stride: the same scene rotation on both small grids
        rgb = rotate(rgb, degrees, Image.BILINEAR, pixel_aspect=(crop_h / in_h) / (crop_w / in_w))
        depth = rotate(depth, degrees, Image.NEAREST)
    rgb = color_jitter(rgb, rng, config)
    sample = to_sample(rgb, depth, mean, std)
    sample["intrinsics"] = crop_intrinsics(intrinsics, top, left, flipped_width=frame_width if flipped else 0,
                                           stride=stride)
    sample["focal_length"] = focal_ratio(sample["intrinsics"], depth.shape[1])
    return sample


def focal_ratio(intrinsics: torch.Tensor, width: int) -> torch.Tensor:
    """The label grid's horizontal focal length in units of its width (f_x / W; NaN when unknown): the
    camera-aware model's `focal_length` input, the same for the crop's input pixels (one scale factor)."""
    return (intrinsics[0] / float(width)).to(torch.float32)


def label_stride(crop_height: int, input_height: int, max_scale: float) -> int:
    """Smallest integer stride with crop_height / stride <= max_scale x input_height (1 when max_scale is 0)."""
    if not max_scale:
        return 1
    return max(1, math.ceil(crop_height / (max_scale * input_height) - 1e-9))


def to_sample(rgb01: np.ndarray, depth: np.ndarray, mean, std) -> dict:
    """[0, 1] RGB (h, w, 3) and depth -> normalised `pixel_values` (3, h, w) and `labels` tensors."""
    pixels = (rgb01 - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return {
        "pixel_values": torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1))),
        "labels": torch.from_numpy(np.array(depth, dtype=np.float32)),  # a copy: frames may be cached/read-only
    }


def crop_intrinsics(intrinsics, top: int, left: int, flipped_width: int = 0, stride: int = 1) -> torch.Tensor:
    """Intrinsics (fx, fy, cx, cy) after cropping at (top, left) and keeping every `stride`-th pixel from
    the crop's first (pixel centres at integers, so u' = u / stride); NaN stays NaN."""
    if intrinsics is None:
        return torch.full((4,), math.nan)
    fx, fy, cx, cy = (intrinsics[k] for k in ("fx", "fy", "cx", "cy"))
    if flipped_width:
        cx = flipped_width - 1 - cx
    return torch.tensor([fx, fy, cx - left, cy - top], dtype=torch.float32) / stride
