"""A camera after the renderer: what a real sensor, lens and encoder do to a perfect pinhole image.

Why: renders are noise-free, perfectly sharp, evenly exposed and never compressed; photos are none of
these, and a network trained on the first learns cues the second lacks. Applied on the fly in training
(a rendered set gets fresh effects every epoch) and optionally baked in by `litedepth synth
--camera-model` for previews. Colour only: geometry, and so depth, is never touched.

Each effect and its strength range (pixel lengths are for a 320-pixel-wide frame and scale with width):

| effect | range | share of frames |
|---|---|---|
| white balance (per-channel gain, linear) | 0.8-1.2 | all |
| exposure (gain, linear) | 0.6-1.6 | all |
| vignetting (corner falloff) | 0-45 % | 60 % |
| defocus blur (Gaussian sigma) | 0.3-1.5 px | 35 % |
| motion blur (line length, any angle) | 2-7 px | 15 % |
| chromatic aberration (red/blue magnified against green) | 0.1-0.6 % | 40 % |
| shot + read noise (linear; var = a x + b) | a 1e-4-6e-3, b 1e-6-4e-4 | 80 % |
| tone curve (gamma on sRGB, then an S-curve) | gamma 0.8-1.25, contrast 0.8-1.3 | all |
| JPEG compression | quality 35-95 | 60 % |
"""

from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO

import numpy as np
from PIL import Image


@dataclass
class CameraModelConfig:
    white_balance: tuple = (0.8, 1.2)
    exposure: tuple = (0.6, 1.6)
    vignetting: tuple = (0.0, 0.45)
    vignetting_p: float = 0.6
    defocus_sigma: tuple = (0.3, 1.5)
    defocus_p: float = 0.35
    motion_length: tuple = (2.0, 7.0)
    motion_p: float = 0.15
    aberration: tuple = (0.001, 0.006)
    aberration_p: float = 0.4
    shot_noise: tuple = (1e-4, 6e-3)
    read_noise: tuple = (1e-6, 4e-4)
    noise_p: float = 0.8
    gamma: tuple = (0.8, 1.25)
    contrast: tuple = (0.8, 1.3)
    jpeg_quality: tuple = (35, 95)
    jpeg_p: float = 0.6


# sRGB <-> linear through tables: the input is uint8 and the output is rounded to uint8, so the transfer
# curves, gamma and contrast reduce to lookups (a 240x320 frame: ~12 ms of float powers -> under 2 ms in all).
_LINEAR_OF_SRGB8 = np.where(np.arange(256) / 255.0 <= 0.04045, np.arange(256) / 255.0 / 12.92,
                            ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4).astype(np.float32)
_TONE_LEVELS = 16384  # linear [0, 1] in steps whose sRGB slope stays below a fifth of an 8-bit level


def _to_linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _to_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def _tone_table(gamma: float, contrast: float) -> np.ndarray:
    """uint8 output for each quantised linear level: sRGB encoding, gamma, S-curve contrast, rounding."""
    srgb = _to_srgb(np.linspace(0.0, 1.0, _TONE_LEVELS)) ** gamma
    return np.round(np.clip(0.5 + (srgb - 0.5) * contrast, 0.0, 1.0) * 255.0).astype(np.uint8)


def _convolve_1d(image: np.ndarray, taps: np.ndarray, axis: int) -> np.ndarray:
    radius = len(taps) // 2
    pad = [(0, 0)] * image.ndim
    pad[axis] = (radius, radius)
    padded = np.pad(image, pad, mode="edge")
    size = image.shape[axis]
    out = taps[0] * padded.take(range(0, size), axis=axis)
    for k in range(1, len(taps)):
        out += taps[k] * padded.take(range(k, k + size), axis=axis)
    return out


def _gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian on float (H, W, 3), edges replicated (the 2D kernel's cost, per axis)."""
    radius = max(1, int(np.ceil(2.5 * sigma)))
    x = np.arange(-radius, radius + 1)
    taps = np.exp(-0.5 * (x / sigma) ** 2)
    taps = (taps / taps.sum()).astype(np.float32)
    return _convolve_1d(_convolve_1d(image, taps, 0), taps, 1)


def _blur(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve each channel of float (H, W, 3) with a small odd kernel, edges replicated."""
    ky, kx = kernel.shape
    padded = np.pad(image, ((ky // 2, ky // 2), (kx // 2, kx // 2), (0, 0)), mode="edge")
    height, width = image.shape[:2]
    out = np.zeros_like(image)
    for dy in range(ky):
        for dx in range(kx):
            if kernel[dy, dx]:
                out += np.float32(kernel[dy, dx]) * padded[dy: dy + height, dx: dx + width]
    return out


@lru_cache(maxsize=8)
def _radius_cubed(height: int, width: int) -> np.ndarray:
    """Normalised squared distance from the centre to the power 1.5 (the vignetting profile), per frame size."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r2 = ((x - (width - 1) / 2) ** 2 + (y - (height - 1) / 2) ** 2) / (((width - 1) / 2) ** 2 + ((height - 1) / 2) ** 2)
    return (r2 ** 1.5).astype(np.float32)


def _line_kernel(length: float, angle: float) -> np.ndarray:
    radius = max(1, int(np.ceil(length / 2)))
    kernel = np.zeros((2 * radius + 1, 2 * radius + 1))
    for t in np.linspace(-length / 2, length / 2, max(2, int(length * 3))):
        kernel[int(round(radius + t * np.sin(angle))), int(round(radius + t * np.cos(angle)))] += 1
    return kernel / kernel.sum()


def _magnify(channel: np.ndarray, factor: float) -> np.ndarray:
    """Scale one channel about the frame centre (lateral chromatic aberration)."""
    height, width = channel.shape
    cx, cy = (width - 1) / 2, (height - 1) / 2
    inverse = 1.0 / factor
    matrix = (inverse, 0, cx - inverse * cx, 0, inverse, cy - inverse * cy)
    return np.asarray(Image.fromarray(channel.astype(np.float32), mode="F").transform(
        (width, height), Image.AFFINE, matrix, resample=Image.BILINEAR, fillcolor=None))


def apply_camera_model(rgb: np.ndarray, rng: np.random.Generator, config: CameraModelConfig = CameraModelConfig()
                       ) -> np.ndarray:
    """uint8 RGB (H, W, 3) -> uint8 RGB of the same size, as a real camera would have recorded the scene.
    Deterministic for a given `rng` state; never changes the image's geometry."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected uint8 (H, W, 3), got {rgb.dtype} {rgb.shape}")
    height, width = rgb.shape[:2]
    pixel = width / 320.0
    image = _LINEAR_OF_SRGB8[rgb]
    image *= rng.uniform(*config.white_balance, size=3).astype(np.float32) * np.float32(rng.uniform(*config.exposure))
    if rng.random() < config.vignetting_p:
        image *= (1.0 - np.float32(rng.uniform(*config.vignetting)) * _radius_cubed(height, width))[..., None]
    if rng.random() < config.defocus_p:
        image = _gaussian_blur(image, rng.uniform(*config.defocus_sigma) * pixel)
    if rng.random() < config.motion_p:
        image = _blur(image, _line_kernel(rng.uniform(*config.motion_length) * pixel, rng.uniform(0, np.pi)))
    if rng.random() < config.aberration_p:
        shift = rng.uniform(*config.aberration)
        image = np.stack([_magnify(image[..., 0], 1 + shift), image[..., 1], _magnify(image[..., 2], 1 - shift)], -1)
    if rng.random() < config.noise_p:
        variance = np.float32(rng.uniform(*config.shot_noise)) * np.maximum(image, 0) + np.float32(
            rng.uniform(*config.read_noise))
        image = image + rng.standard_normal(image.shape, dtype=np.float32) * np.sqrt(variance)
    table = _tone_table(rng.uniform(*config.gamma), rng.uniform(*config.contrast))
    levels = np.clip(image, 0.0, 1.0) * np.float32(_TONE_LEVELS - 1) + np.float32(0.5)
    out = table[levels.astype(np.intp)]
    if rng.random() < config.jpeg_p:
        buffer = BytesIO()
        Image.fromarray(out).save(buffer, format="JPEG", quality=int(rng.integers(*config.jpeg_quality)))
        out = np.asarray(Image.open(buffer).convert("RGB"))
    return out
