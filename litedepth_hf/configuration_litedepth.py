"""LiteDepth model configuration.

Kept free of imports from the rest of the package: this file is copied next to
saved weights so that `trust_remote_code=True` works without `litedepth_hf`.
"""

from typing import Optional

from transformers import AutoConfig, PretrainedConfig

NATIVE_ENCODERS = ("mobilenetv3_small_minimal",)
UPSAMPLE_MODES = ("nearest", "bilinear", "bicubic", "none")


class LiteDepthConfig(PretrainedConfig):
    r"""Configuration of a [`LiteDepthForDepthEstimation`].

    The defaults are the paper's model: a truncated MobileNetV3-Small-minimal encoder
    (~373 k parameters) and the tiny decoder of the LiteDepth reference (~15.5 k), at a
    128×160 input. A bigger *teacher* for distillation is the same class with
    `width_multiplier > 1`, or any transformers backbone through `backbone_config`.

    Args:
        encoder (`str`, defaults to `"mobilenetv3_small_minimal"`):
            The native encoder. Ignored when `backbone_config` is given.
        width_multiplier (`float`, defaults to 1.0):
            Channel multiplier of the native encoder (channels rounded to multiples of 8).
        out_indices (`list[int]`, defaults to `[0, 1, 3, 4]`):
            Encoder stages tapped by the decoder, at strides 4, 8, 16 and 32.
        backbone_config (`dict` or `PretrainedConfig`, *optional*):
            A transformers backbone (ResNet, ConvNeXt, ...) used instead of the native
            encoder; it must expose four feature maps at strides 4, 8, 16, 32 (its
            `out_features`/`out_indices` decide which).
        decoder_channels (`list[int]`, defaults to `[72, 24, 8]`):
            Output widths of the decoder's 1×1 convs at strides 32, 16 and 8.
        head_channels (`int`, defaults to 24):
            Width of the 3×3 conv of the depth head.
        image_size (`list[int]`, defaults to `[128, 160]`):
            (height, width) the image processor resizes to; both multiples of 32.
        min_depth, max_depth (`float`, defaults to 1e-3 and 10.0):
            The output is clamped to this range, in metres (10 m: indoor RGB-D, a Kinect's range, what this
            package trains on; the paper used 40 m for MAI 2022's outdoor data).
        upsample_mode (`str`, defaults to `"none"`):
            `"none"`: `predicted_depth` is the network's 1/4-resolution map (32x40 for 128x160),
            and the image processor's post-processing resizes it once, bilinearly, to each image's
            size - what the exported graphs and the Raspberry Pi script do too. `"bilinear"`,
            `"nearest"` (the reference) or `"bicubic"`: resized to the input size in `forward`.
            An explicit `output_size` (training: the GT size) is always honoured, bilinearly for "none".
        head_init_depth (`float`, defaults to 1.0):
            Initial bias of the last conv, in metres: keeps the final ReLU alive at the
            start of training from scratch.
        canonical_focal_length (`float`, *optional*):
            Camera-aware models only: the horizontal focal length, in units of the image width (f_x / W;
            0.866 is a 60-degree view), of the canonical camera the network predicts depth for. Given a
            `focal_length` input (same units), `forward` scales depth by focal_length / canonical: a narrow
            lens sees the same picture from farther away (Metric3D's canonical camera). None: the model was
            trained without it and ignores `focal_length`.
    """

    model_type = "litedepth"

    def __init__(
        self,
        encoder: str = "mobilenetv3_small_minimal",
        width_multiplier: float = 1.0,
        out_indices=(0, 1, 3, 4),
        backbone_config=None,
        decoder_channels=(72, 24, 8),
        head_channels: int = 24,
        image_size=(128, 160),
        min_depth: float = 1e-3,
        max_depth: float = 10.0,
        upsample_mode: str = "none",
        head_init_depth: float = 1.0,
        canonical_focal_length: Optional[float] = None,
        **kwargs,
    ):
        if isinstance(backbone_config, dict):
            backbone_config = dict(backbone_config)
            model_type = backbone_config.pop("model_type", None)
            if model_type is None:
                raise ValueError("backbone_config needs a 'model_type' (e.g. 'resnet', 'convnext').")
            backbone_config = AutoConfig.for_model(model_type, **backbone_config)
        if backbone_config is not None and not isinstance(backbone_config, PretrainedConfig):
            raise ValueError(f"backbone_config must be a dict or a PretrainedConfig, got {type(backbone_config)}.")
        if backbone_config is None and encoder not in NATIVE_ENCODERS:
            raise ValueError(f"Unknown encoder {encoder!r}; native encoders: {NATIVE_ENCODERS}.")
        if width_multiplier <= 0:
            raise ValueError(f"width_multiplier must be > 0, got {width_multiplier}.")
        if len(out_indices) != 4:
            raise ValueError(f"out_indices must name 4 stages (strides 4, 8, 16, 32), got {list(out_indices)}.")
        if len(decoder_channels) != 3 or min(decoder_channels) <= 0:
            raise ValueError(f"decoder_channels must be 3 positive widths, got {list(decoder_channels)}.")
        if len(image_size) != 2 or any(int(s) <= 0 or int(s) % 32 for s in image_size):
            raise ValueError(f"image_size must be (height, width), both multiples of 32, got {list(image_size)}.")
        if not 0 < min_depth < max_depth:
            raise ValueError(f"Need 0 < min_depth < max_depth, got {min_depth} and {max_depth}.")
        if canonical_focal_length is not None and not canonical_focal_length > 0:
            raise ValueError(f"canonical_focal_length must be > 0 (f_x / W) or None, got {canonical_focal_length}.")
        if upsample_mode not in UPSAMPLE_MODES:
            raise ValueError(f"upsample_mode must be one of {UPSAMPLE_MODES}, got {upsample_mode!r}.")

        self.encoder = encoder
        self.width_multiplier = float(width_multiplier)
        self.out_indices = [int(i) for i in out_indices]
        self.backbone_config = backbone_config
        self.decoder_channels = [int(c) for c in decoder_channels]
        self.head_channels = int(head_channels)
        self.image_size = [int(s) for s in image_size]
        self.min_depth = float(min_depth)
        self.max_depth = float(max_depth)
        self.upsample_mode = upsample_mode
        self.head_init_depth = float(head_init_depth)
        self.canonical_focal_length = None if canonical_focal_length is None else float(canonical_focal_length)
        super().__init__(**kwargs)

    def to_dict(self):
        # Not `sub_configs = {"backbone_config": AutoConfig}`: transformers 4.57's save_pretrained then diffs
        # the sub-config even when it is None (the native encoder) and fails; the nesting is done here.
        output = super().to_dict()
        if isinstance(self.backbone_config, PretrainedConfig):
            output["backbone_config"] = self.backbone_config.to_dict()
        return output
