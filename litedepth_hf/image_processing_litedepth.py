"""LiteDepth image processor: PIL/numpy only (no torchvision), identical on transformers 4.57 and 5.x.

Only standard-library, numpy, PIL, torch and transformers imports: this file is
copied next to saved weights for `trust_remote_code=True` loading.
"""

import math
import os
import warnings
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from transformers.image_processing_utils import BaseImageProcessor, BatchFeature

SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
MIN_SIDE = 32
"""Images smaller than this on a side carry too little for a depth map: a warning says so."""


def shrink_large(image, height: int, width: int):
    """A PIL image or uint8 HxWx3 array more than 2x (`height`, `width`) on both sides, reduced by an integer
    factor (box average, in uint8) to at least 2x: an 8000x6000 photo costs ~15 MB of floats, not 600 MB, and
    the bilinear step that follows sees the same picture. Frames under 2x (480x640 for 128x160) pass as they are."""
    if isinstance(image, Image.Image):
        if image.getexif().get(0x0112, 1) != 1:  # exif_transpose copies even when nothing turns
            image = ImageOps.exif_transpose(image)
        factor = min(image.height // (2 * height), image.width // (2 * width))
        return image.reduce(factor) if factor >= 2 and image.mode in ("RGB", "RGBA", "L") else image
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[-1] == 3:
        factor = min(image.shape[0] // (2 * height), image.shape[1] // (2 * width))
        return np.asarray(Image.fromarray(image).reduce(factor)) if factor >= 2 else image
    return image


def image_to_float_rgb(image) -> np.ndarray:
    """Any PIL image, numpy array or torch tensor -> float32 (H, W, 3) in [0, 1].

    PIL: EXIF orientation applied, any mode (1, L, P, RGBA, CMYK, I;16, I, F) made RGB;
    alpha is dropped. Arrays: HW, HWC or CHW with 1, 3 or 4 channels; uint8 (0-255),
    uint16 (0-65535) or float (0-1, or 0-255 when the maximum exceeds 1).
    """
    if isinstance(image, Image.Image):
        image = ImageOps.exif_transpose(image)
        if image.mode in SIXTEEN_BIT_MODES:
            array = np.asarray(image, dtype=np.float32) / 65535.0
        elif image.mode == "F":
            array = np.asarray(image, dtype=np.float32)
        else:
            if image.mode in ("P", "PA"):  # palette transparency must go through RGBA
                image = image.convert("RGBA")
            array = np.asarray(image.convert("RGB"), dtype=np.uint8)
    elif isinstance(image, torch.Tensor):
        array = image.detach().cpu().numpy()
    elif isinstance(image, np.ndarray):
        array = image
    else:
        raise TypeError(f"Unsupported image type {type(image).__name__}: pass a PIL image, numpy array or torch tensor.")
    return array_to_float_rgb(array)


def array_to_float_rgb(array: np.ndarray) -> np.ndarray:
    if array.ndim == 3 and array.shape[-1] not in (1, 3, 4) and array.shape[0] in (1, 3, 4):
        array = np.moveaxis(array, 0, -1)  # CHW -> HWC
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
        raise ValueError(f"Expected an image of shape (H, W), (H, W, C) or (C, H, W) with C in 1/3/4, got {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"Empty image of shape {array.shape}")
    if array.dtype == np.bool_:
        array = array.astype(np.float32)
    elif array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        array = array.astype(np.float32) / 65535.0
    elif np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.float32) / (255.0 if array.max() <= 255 else 65535.0)
    else:
        array = array.astype(np.float32)
        if not np.isfinite(array).all():
            raise ValueError("Image contains NaN or infinite values")
        if array.min() < 0 or array.max() > 255:
            raise ValueError(f"Float image values must lie in [0, 1] (or [0, 255]), got [{array.min()}, {array.max()}]")
        if array.max() > 1.0:
            array = array / 255.0
    array = array[..., :3] if array.shape[-1] >= 3 else np.repeat(array, 3, axis=-1)
    return np.clip(array, 0.0, 1.0)


def resize_float_image(array: np.ndarray, height: int, width: int, resample=Image.BILINEAR) -> np.ndarray:
    """Resize float (H, W, C) channel by channel in PIL's 32-bit float mode (antialiased, no 8-bit rounding)."""
    if array.shape[:2] == (height, width):
        return array
    channels = [
        np.asarray(Image.fromarray(np.ascontiguousarray(array[..., c])).resize((width, height), resample))
        for c in range(array.shape[-1])
    ]
    return np.stack(channels, axis=-1)


class LiteDepthImageProcessor(BaseImageProcessor):
    r"""Prepares images for LiteDepth and turns its output into depth maps at the images' sizes.

    Resize (bilinear) to the image's own aspect ratio at about `size`'s pixel count, each side a multiple of 32
    (`input_size`: a 4:3 photo gives `size` itself, 128x160; a portrait one 160x128; 16:9 96x192), then
    `(x - 0.5) / 0.5` on [0, 1] values, i.e. the paper's `(x - 127.5) / 127.5`. LiteDepth is fully
    convolutional; squashing a portrait photo into a landscape input bends every shape in it.

    Args:
        do_resize (`bool`, defaults to True): resize (see `input_size`).
        size (`dict`, defaults to `{"height": 128, "width": 160}`): both multiples of 32.
        keep_aspect_ratio (`bool`, defaults to True): False resizes every image to `size` exactly.
        do_normalize (`bool`, defaults to True): apply `image_mean`/`image_std`.
        image_mean, image_std (`list[float]`, default 0.5): per-channel normalisation of [0, 1] values.
        depth_resample (`str`, defaults to `"bilinear"`): how predictions are resized to the
            requested sizes in `post_process_depth_estimation`.
    """

    model_input_names = ["pixel_values"]

    def __init__(
        self,
        do_resize: bool = True,
        size: Optional[dict] = None,
        do_normalize: bool = True,
        image_mean=(0.5, 0.5, 0.5),
        image_std=(0.5, 0.5, 0.5),
        depth_resample: str = "bilinear",
        fov: Optional[float] = None,
        keep_aspect_ratio: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.keep_aspect_ratio = bool(keep_aspect_ratio)
        self.fov = None if fov is None else float(fov)  # a default camera for every call (e.g. a pipeline's)
        self.do_resize = do_resize
        self.size = self._check_size(size if size is not None else {"height": 128, "width": 160})
        self.do_normalize = do_normalize
        self.image_mean = [float(v) for v in image_mean]
        self.image_std = [float(v) for v in image_std]
        if len(self.image_mean) != 3 or len(self.image_std) != 3 or min(self.image_std) <= 0:
            raise ValueError(f"image_mean/image_std need 3 values, std > 0; got {image_mean}, {image_std}")
        if depth_resample not in ("nearest", "bilinear", "bicubic"):
            raise ValueError(f"depth_resample must be nearest, bilinear or bicubic, got {depth_resample!r}")
        self.depth_resample = depth_resample

    @staticmethod
    def _check_size(size) -> dict:
        if not isinstance(size, dict) or set(size) != {"height", "width"}:
            raise ValueError(f"size must be a dict with 'height' and 'width', got {size!r}")
        if any(int(v) <= 0 or int(v) % 32 for v in size.values()):
            raise ValueError(f"size height and width must be positive multiples of 32, got {size}")
        return {"height": int(size["height"]), "width": int(size["width"])}

    def input_size(self, height: int, width: int, size: Optional[dict] = None) -> tuple:
        """(h, w) the network sees for an image of `height` x `width`: its aspect ratio at about `size`'s pixel
        count, both sides multiples of 32 (at least 32); `size` itself without `keep_aspect_ratio`."""
        size = self._check_size(size) if size is not None else self.size
        if not self.keep_aspect_ratio:
            return size["height"], size["width"]
        area, aspect = size["height"] * size["width"], width / max(height, 1)
        h = max(32, int(round(math.sqrt(area / aspect) / 32)) * 32)
        w = max(32, int(round(math.sqrt(area * aspect) / 32)) * 32)
        return h, w

    def to_dict(self) -> dict:
        """Serialise without `image_processor_type`/`auto_map`: AutoImageProcessor then resolves the
        class from the model config (registered, or its `auto_map` under `trust_remote_code`).

        With them, transformers 4.57 logs a "slow image processor" warning, and the 5.x
        depth pipeline looks for a *video* processor through that `auto_map` and prompts
        for remote code even when `litedepth_hf` is imported.
        """
        output = super().to_dict()
        output.pop("image_processor_type", None)
        output.pop("auto_map", None)
        return output

    def preprocess(
        self,
        images,
        do_resize: Optional[bool] = None,
        size: Optional[dict] = None,
        do_normalize: Optional[bool] = None,
        image_mean=None,
        image_std=None,
        return_tensors: Optional[str] = None,
        focal_length=None,
        fov=None,
        **kwargs,
    ) -> BatchFeature:
        """Images (one, or a list/batch of mixed types and sizes) -> `pixel_values` (B, 3, H, W) and
        `focal_length` (B,): each image's horizontal focal length in units of its width (f_x / W), the input
        a camera-aware model scales its metric depth by.

        The camera, per image, from the first that is given: `focal_length` (pixels of the image as given, after
        its EXIF rotation; a number or one per image), `fov` (horizontal field of view in degrees; a number or
        one per image), the processor's own `fov`, the photo's EXIF (`FocalLengthIn35mmFilm` over the 43.3 mm
        diagonal of 35 mm film, or `FocalLength` over the sensor width from `FocalPlaneXResolution`); else NaN,
        the canonical camera (a 60-degree view for the shipped models).
        Per-call `do_resize`, `size`, `do_normalize`, `image_mean` and `image_std` override the processor's
        settings for this call; any other argument is an error rather than silently ignored.
        """
        if kwargs:
            raise TypeError(f"LiteDepthImageProcessor got unexpected argument(s) {sorted(kwargs)}; it takes "
                            "do_resize, size, do_normalize, image_mean, image_std, focal_length, fov and "
                            "return_tensors")
        do_resize = self.do_resize if do_resize is None else do_resize
        size = self._check_size(size) if size is not None else self.size
        do_normalize = self.do_normalize if do_normalize is None else do_normalize
        image_mean = self.image_mean if image_mean is None else image_mean
        image_std = self.image_std if image_std is None else image_std
        if np.size(image_mean) != 3 or np.size(image_std) != 3 or np.min(image_std) <= 0:
            raise ValueError(f"image_mean/image_std need 3 values, std > 0; got {image_mean}, {image_std}")

        if isinstance(images, (Image.Image, str)) or (
            isinstance(images, (np.ndarray, torch.Tensor)) and images.ndim in (2, 3)
        ):
            images = [images]
        elif isinstance(images, (np.ndarray, torch.Tensor)) and images.ndim == 4:
            images = list(images)
        elif not isinstance(images, (list, tuple)) or len(images) == 0:
            raise ValueError("images must be an image or a non-empty list of images")

        mean = np.asarray(image_mean, dtype=np.float32)
        std = np.asarray(image_std, dtype=np.float32)
        focal_lengths = _per_image(focal_length, len(images), "focal_length")
        fovs = _per_image(fov if fov is not None else self.fov, len(images), "fov")
        arrays, ratios, shapes = [], [], []
        for image, focal, degrees in zip(images, focal_lengths, fovs):
            if isinstance(image, str):
                image = load_image_file(image)
            ratios.append(focal_ratio(image, focal, degrees))
            if do_resize:
                image = shrink_large(image, size["height"], size["width"])
            array = image_to_float_rgb(image)
            if array.size and float(array.max()) == float(array.min()):
                warnings.warn("An image is one uniform colour: its depth map carries no information. If it was a "
                              "16-bit picture given to pipeline() as a path, transformers' load_image turned it "
                              "white: pass litedepth_hf.load_rgb(path) instead", UserWarning, stacklevel=2)
            if min(array.shape[:2]) < MIN_SIDE:
                warnings.warn(f"An image of {array.shape[0]}x{array.shape[1]} pixels is under {MIN_SIDE} px on a "
                              "side: its depth map will be close to flat", UserWarning, stacklevel=2)
            arrays.append(array)
            shapes.append(self.input_size(array.shape[0], array.shape[1], size) if do_resize else array.shape[:2])
        if do_resize and return_tensors is not None and len(set(shapes)) > 1:
            # one tensor needs one shape: a batch of mixed aspect ratios is resized to `size` (predict_depth and
            # the pipeline give the model one shape at a time, so they keep every photo's aspect ratio)
            shapes = [(size["height"], size["width"])] * len(arrays)
        for k, (array, shape) in enumerate(zip(arrays, shapes)):
            if do_resize:
                array = resize_float_image(array, *shape)
            if do_normalize:
                array = (array - mean) / std
            arrays[k] = np.ascontiguousarray(array.transpose(2, 0, 1))

        focal = np.asarray(ratios, dtype=np.float32)
        if len({a.shape for a in arrays}) > 1:
            if return_tensors is not None:
                raise ValueError("Images of different sizes cannot be batched without do_resize=True")
            return BatchFeature(data={"pixel_values": arrays, "focal_length": focal})
        return BatchFeature(data={"pixel_values": np.stack(arrays), "focal_length": focal}, tensor_type=return_tensors)

    def post_process_depth_estimation(self, outputs, target_sizes=None) -> list:
        """Model outputs -> `[{"predicted_depth": (H, W) tensor in metres}]`, resized to `target_sizes`.

        `target_sizes` is a list of (height, width), one per image (what the transformers
        depth-estimation pipeline passes), or None to keep the model's resolution.
        """
        predicted = outputs["predicted_depth"] if not isinstance(outputs, torch.Tensor) else outputs
        if predicted.ndim == 4:
            predicted = predicted.squeeze(1)
        if target_sizes is not None and len(target_sizes) != len(predicted):
            raise ValueError(f"Got {len(target_sizes)} target sizes for a batch of {len(predicted)} depth maps")
        results = []
        for index, depth in enumerate(predicted):
            if target_sizes is not None:
                height, width = (int(v) for v in target_sizes[index])
                if (height, width) != tuple(depth.shape):
                    align = False if self.depth_resample != "nearest" else None
                    depth = F.interpolate(
                        depth[None, None].float(), size=(height, width), mode=self.depth_resample, align_corners=align
                    )[0, 0].clamp_min_(torch.finfo(torch.float32).tiny)  # in place: one full-size map, not two
            results.append({"predicted_depth": depth})
        return results


FILM_DIAGONAL_MM = 43.27  # 36 x 24 mm: what "35 mm equivalent" focal lengths refer to


def _per_image(value, count: int, name: str) -> list:
    """A number, or one per image (None entries allowed), as a list of `count`."""
    if value is None or np.isscalar(value):
        return [value] * count
    values = list(value)
    if len(values) != count:
        raise ValueError(f"{name} has {len(values)} values for {count} images")
    return values


def focal_ratio(image, focal_length=None, fov=None) -> float:
    """The horizontal focal length of `image` in units of its width (f_x / W), or NaN when unknown: from a
    focal length in pixels of the image (as shown, EXIF rotation applied), a horizontal field of view in
    degrees, or the photo's EXIF."""
    width, height = _shown_size(image)
    if focal_length is not None:
        if not float(focal_length) > 0:
            raise ValueError(f"focal_length must be > 0 pixels, got {focal_length}")
        return float(focal_length) / width
    if fov is not None:
        if not 0 < float(fov) < 180:
            raise ValueError(f"fov must be a horizontal field of view in (0, 180) degrees, got {fov}")
        return 0.5 / math.tan(math.radians(float(fov)) / 2)
    if isinstance(image, Image.Image):
        return exif_focal_ratio(image)
    return float("nan")


def _shown_size(image) -> tuple:
    """(width, height) as displayed: EXIF orientations 5-8 turn the stored picture by 90 degrees."""
    if isinstance(image, Image.Image):
        turned = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
        return (image.height, image.width) if turned else image.size
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] not in (1, 3, 4) and array.shape[0] in (1, 3, 4):
        return array.shape[2], array.shape[1]
    return array.shape[1], array.shape[0]


def exif_focal_ratio(image: Image.Image) -> float:
    """f_x / W from a photo's EXIF, or NaN: `FocalLengthIn35mmFilm` is defined on the 43.27 mm diagonal of
    35 mm film, so f_x / W = f35 * diagonal_px / (43.27 * W) for any aspect ratio; else `FocalLength` (mm)
    over the sensor width that `FocalPlaneXResolution` and its unit give for the stored picture."""
    try:
        exif = image.getexif().get_ifd(0x8769)  # the Exif sub-IFD holds the camera tags
    except Exception:  # a malformed EXIF block: no camera, not an error
        return float("nan")
    width, height = _shown_size(image)
    f35 = exif.get(0xA405)
    if f35:
        return float(f35) * math.hypot(width, height) / (FILM_DIAGONAL_MM * width)
    focal, x_resolution, unit = exif.get(0x920A), exif.get(0xA20E), exif.get(0xA210, 2)
    if focal and x_resolution:
        millimetres_per_unit = {2: 25.4, 3: 10.0, 4: 1.0}.get(int(unit))
        if millimetres_per_unit:
            stored_width = image.width  # FocalPlaneXResolution counts pixels along the sensor's stored x
            sensor_width = stored_width / float(x_resolution) * millimetres_per_unit
            turned = (width, height) != image.size
            sensor_shown_width = sensor_width * (image.height / image.width) if turned else sensor_width
            return float(focal) / sensor_shown_width
    return float("nan")


def load_rgb(image) -> Image.Image:
    """A path or any PIL image as 8-bit RGB, 16-bit and float pictures scaled as the processor scales them.

    Why: `pipeline("depth-estimation")` passes paths and PIL images through transformers' `load_image`,
    whose `convert("RGB")` clips a 16-bit picture (mode I;16, I) to white, so its depth comes out the same for
    every such picture. `pipeline(load_rgb(path))` hands it a picture that conversion leaves alone."""
    if isinstance(image, (str, os.PathLike)):
        image = load_image_file(image)
    return Image.fromarray(np.round(image_to_float_rgb(image) * 255.0).clip(0, 255).astype(np.uint8))


def load_image_file(path) -> Image.Image:
    """Open an image file fully (and close it), with a clear error for missing or corrupt files."""
    try:
        image = Image.open(path)
        image.load()  # reads the pixels and, for a single-frame file, closes it: no second copy needed
        return image if image.mode != "P" else image.convert("RGBA")
    except FileNotFoundError:
        raise FileNotFoundError(f"Image file not found: {path}") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:  # Pillow's text repeats the path
        reason = str(error).replace(repr(str(path)), "").replace(str(path), "").strip(" :") or type(error).__name__
        raise ValueError(f"Cannot read image {path}: {reason}") from None
