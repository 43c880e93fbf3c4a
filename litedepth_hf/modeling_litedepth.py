"""LiteDepth: a truncated MobileNetV3-Small-minimal encoder and a ~15 k-parameter decoder.

Only relative imports of `configuration_litedepth` are allowed here: this file is
copied next to saved weights for `trust_remote_code=True` loading.
"""

import os
from pathlib import Path
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoBackbone, PreTrainedModel
from transformers.modeling_outputs import DepthEstimatorOutput

from .configuration_litedepth import LiteDepthConfig

# MobileNetV3-Small "minimal" (ReLU, no squeeze-excite, no hard-swish), stages 0-4 of
# timm's `tf_mobilenetv3_small_minimal_100`; the final 1x1 conv to 576 is dropped.
# Each block: (kind, kernel, stride, expansion ratio, output channels).
MOBILENETV3_SMALL_MINIMAL = (
    (("ds", 3, 2, 1.0, 16),),
    (("ir", 3, 2, 4.5, 24), ("ir", 3, 1, 3.67, 24)),
    (("ir", 3, 2, 4.0, 40), ("ir", 3, 1, 6.0, 40), ("ir", 3, 1, 6.0, 40)),
    (("ir", 3, 1, 3.0, 48), ("ir", 3, 1, 3.0, 48)),
    (("ir", 3, 2, 6.0, 96), ("ir", 3, 1, 6.0, 96), ("ir", 3, 1, 6.0, 96)),
)
STEM_CHANNELS = 16


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to a multiple of `divisor`, never more than 10 % down (timm's rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class LiteDepthConvLayer(nn.Sequential):
    def __init__(self, in_channels, out_channels, kernel_size=1, stride=1, groups=1, relu=True):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out_channels, eps=1e-3),
            nn.ReLU(inplace=True) if relu else nn.Identity(),
        )


class LiteDepthDepthwiseSeparable(nn.Module):
    """Depthwise 3x3 + pointwise linear projection (timm's `DepthwiseSeparableConv`, no SE)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super().__init__()
        self.conv_dw = LiteDepthConvLayer(in_channels, in_channels, kernel_size, stride, groups=in_channels)
        self.conv_pw = LiteDepthConvLayer(in_channels, out_channels, relu=False)
        self.has_skip = stride == 1 and in_channels == out_channels

    def forward(self, x):
        y = self.conv_pw(self.conv_dw(x))
        return x + y if self.has_skip else y


class LiteDepthInvertedResidual(nn.Module):
    """Expand 1x1 -> depthwise -> project 1x1 (linear), residual when shapes allow."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, expansion):
        super().__init__()
        mid = make_divisible(in_channels * expansion)
        self.conv_pw = LiteDepthConvLayer(in_channels, mid)
        self.conv_dw = LiteDepthConvLayer(mid, mid, kernel_size, stride, groups=mid)
        self.conv_pwl = LiteDepthConvLayer(mid, out_channels, relu=False)
        self.has_skip = stride == 1 and in_channels == out_channels

    def forward(self, x):
        y = self.conv_pwl(self.conv_dw(self.conv_pw(x)))
        return x + y if self.has_skip else y


class LiteDepthMobileNetV3Encoder(nn.Module):
    """Native truncated MobileNetV3-Small-minimal; returns the stage outputs named by `out_indices`.

    Symmetric padding (not TF "same") keeps ONNX/TFLite graphs free of pad ops.
    """

    def __init__(self, width_multiplier: float = 1.0, out_indices=(0, 1, 3, 4)):
        super().__init__()
        channels = make_divisible(STEM_CHANNELS * width_multiplier)
        self.stem = LiteDepthConvLayer(3, channels, 3, stride=2)
        stages = []
        stage_channels = []
        for stage in MOBILENETV3_SMALL_MINIMAL:
            blocks = []
            for kind, kernel, stride, expansion, out_channels in stage:
                out_channels = make_divisible(out_channels * width_multiplier)
                if kind == "ds":
                    blocks.append(LiteDepthDepthwiseSeparable(channels, out_channels, kernel, stride))
                else:
                    blocks.append(LiteDepthInvertedResidual(channels, out_channels, kernel, stride, expansion))
                channels = out_channels
            stages.append(nn.Sequential(*blocks))
            stage_channels.append(channels)
        self.stages = nn.ModuleList(stages)
        if sorted(out_indices) != list(out_indices) or not set(out_indices) <= set(range(len(stages))):
            raise ValueError(f"out_indices must be increasing stage indices in 0..{len(stages) - 1}, got {out_indices}")
        self.out_indices = tuple(out_indices)
        self.channels = [stage_channels[i] for i in self.out_indices]

    def forward(self, pixel_values):
        x = self.stem(pixel_values)
        features = []
        for index, stage in enumerate(self.stages):
            x = stage(x)
            if index in self.out_indices:
                features.append(x)
        return features


class LiteDepthBackboneEncoder(nn.Module):
    """Any `AutoBackbone` (ResNet, ConvNeXt, ...) giving four maps at strides 4, 8, 16, 32."""

    def __init__(self, backbone_config):
        super().__init__()
        self.backbone = AutoBackbone.from_config(backbone_config)
        self.channels = list(self.backbone.channels)
        if len(self.channels) != 4:
            raise ValueError(
                f"backbone_config must expose 4 feature maps (strides 4, 8, 16, 32) through its out_features, "
                f"got {len(self.channels)}: {getattr(backbone_config, 'out_features', None)}"
            )

    def forward(self, pixel_values):
        return list(self.backbone(pixel_values).feature_maps)


class LiteDepthDecoder(nn.Module):
    """Three 1x1 fusion convs (1/32, 1/16, 1/8), a concat at 1/4, and a 3x3 + 1x1 head.

    Convs have biases and no batch-norm; `forward` also returns, coarse to fine, the three fused maps
    before their ReLU (1/32, 1/16, 1/8) and the concat the head sees (1/4), for structure-aware distillation.
    """

    def __init__(self, encoder_channels, decoder_channels, head_channels):
        super().__init__()
        c4, c8, c16, c32 = encoder_channels
        d32, d16, d8 = decoder_channels
        self.fuse32 = nn.Conv2d(c32, d32, 1)
        self.fuse16 = nn.Conv2d(d32 + c16, d16, 1)
        self.fuse8 = nn.Conv2d(d16 + c8, d8, 1)
        self.head_conv = nn.Conv2d(d8 + c4, head_channels, 3, padding=1)
        self.head_out = nn.Conv2d(head_channels, 1, 1)
        self.head_out.is_depth_head = True

    @staticmethod
    def _up_cat(x, skip):
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=True)
        return torch.cat([x, skip], dim=1)

    def forward(self, features):
        f4, f8, f16, f32 = features
        h32 = self.fuse32(f32)
        h16 = self.fuse16(self._up_cat(F.relu(h32), f16))
        h8 = self.fuse8(self._up_cat(F.relu(h16), f8))
        h4 = self._up_cat(F.relu(h8), f4)
        depth = F.relu(self.head_out(F.relu(self.head_conv(h4))))
        return depth, (h32, h16, h8, h4)


def silog_loss(predicted, target, variance_focus: float = 0.15, eps: float = 1e-6):
    """Scale-invariant log loss, sqrt(var(g) + 0.15 mean(g)^2) over valid pixels (GT > 0, finite).

    The `0.15` term is what makes it *not* fully scale invariant; an all-invalid
    batch gives 0 (with a graph) instead of NaN.
    """
    valid = (torch.isfinite(target) & (target > 0)).to(predicted.dtype)
    count = valid.sum()
    if count == 0:
        return predicted.sum() * 0.0
    safe_target = torch.where(valid > 0, target, torch.ones_like(target))
    g = (torch.log(predicted.clamp_min(eps)) - torch.log(safe_target)) * valid  # masked, no compaction
    mean = g.sum() / count
    variance = ((g - mean).pow(2) * valid).sum() / count
    squared = variance + variance_focus * mean.pow(2)
    # exact sqrt, with a finite (zero) gradient at a perfect fit instead of inf * 0 = NaN
    positive = squared > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, squared, torch.ones_like(squared))), squared * 0)


class LiteDepthPreTrainedModel(PreTrainedModel):
    config_class = LiteDepthConfig
    base_model_prefix = "encoder"
    main_input_name = "pixel_values"

    @torch.no_grad()
    def _init_weights(self, module):
        if getattr(module, "is_depth_head", False):
            # The head ends in a ReLU: start near a plausible depth, not at a dead zero.
            nn.init.normal_(module.weight, std=1e-3)
            nn.init.constant_(module.bias, self.config.head_init_depth)
        elif isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Save as usual; a code-carrying save also names the image processor in `config.json`.

        The image processor's own `preprocessor_config.json` deliberately carries no
        `auto_map` (see `LiteDepthImageProcessor.to_dict`), so remote-code loading finds
        it through the model config instead.
        """
        if self._auto_class is not None:
            auto_map = dict(getattr(self.config, "auto_map", None) or {})
            auto_map["AutoImageProcessor"] = "image_processing_litedepth.LiteDepthImageProcessor"
            self.config.auto_map = auto_map
        result = super().save_pretrained(save_directory, *args, **kwargs)
        # safetensors writes its files 0600 (a private temporary file, renamed); every other file of the folder
        # follows the umask, so a shared run folder or pushed repo had weights only their owner could read
        umask = os.umask(0)
        os.umask(umask)
        for weights in Path(save_directory).glob("*.safetensors"):
            os.chmod(weights, 0o666 & ~umask)
        return result


class LiteDepthForDepthEstimation(LiteDepthPreTrainedModel):
    """LiteDepth monocular depth model; `predicted_depth` is metric depth in metres.

    Example:
        >>> from transformers import pipeline
        >>> import litedepth_hf
        >>> depth = pipeline("depth-estimation", model=litedepth_hf.DEFAULT_CHECKPOINT)
    """

    def __init__(self, config: LiteDepthConfig):
        super().__init__(config)
        if config.backbone_config is not None:
            self.encoder = LiteDepthBackboneEncoder(config.backbone_config)
        else:
            self.encoder = LiteDepthMobileNetV3Encoder(config.width_multiplier, config.out_indices)
        self.decoder = LiteDepthDecoder(self.encoder.channels, config.decoder_channels, config.head_channels)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        labels: Optional[torch.Tensor] = None,
        output_hidden_states: Optional[bool] = None,
        return_dict: Optional[bool] = None,
        output_size: Optional[tuple] = None,
        focal_length: Optional[torch.Tensor] = None,
        **kwargs,
    ) -> Union[tuple, DepthEstimatorOutput]:
        r"""
        pixel_values (`torch.FloatTensor` of shape `(batch, 3, H, W)`): normalised images, H and W multiples of 32.
        labels (`torch.FloatTensor` of shape `(batch, h, w)`, *optional*): GT depth in metres, 0/NaN/inf
            invalid; gives a SILog `loss` with the prediction resized to the labels' size.
        output_size (`(h, w)`, *optional*): size of `predicted_depth`; defaults to the labels' size when
            labels are given, else the input size (1/4 of it with `upsample_mode="none"`). One resize
            from the 1/4-resolution map.
        output_hidden_states (`bool`, *optional*): `hidden_states` are the *decoder's* maps, coarse to fine
            (1/32, 1/16, 1/8: fused, before their ReLU; 1/4: the concat the head sees), not the backbone's as
            in most transformers models: they are what structure-aware distillation compares. The encoder's
            maps come from `model.encoder(pixel_values)`.
        focal_length (`torch.FloatTensor` of shape `(batch,)`, *optional*): each image's horizontal focal
            length in units of its width (f_x / W; the image processor computes it from `focal_length` in
            pixels, `fov` or EXIF); NaN for an unknown camera. A camera-aware model
            (`config.canonical_focal_length`) scales its depth by focal_length / canonical; NaN, or a model
            without a canonical camera, leaves the depth as predicted for the canonical camera.
        """
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        if pixel_values.ndim != 4 or pixel_values.shape[1] != 3:
            raise ValueError(f"pixel_values must be (batch, 3, H, W), got {tuple(pixel_values.shape)}")
        height, width = pixel_values.shape[-2:]
        if height % 32 or width % 32:
            raise ValueError(f"pixel_values height and width must be multiples of 32, got {height}x{width}")

        depth, hidden_states = self.decoder(self.encoder(pixel_values))
        mode = self.config.upsample_mode
        if output_size is None and labels is not None:
            output_size = labels.shape[-2:]
        elif output_size is None and mode != "none":
            output_size = (height, width)
        if output_size is not None:
            depth = resize_depth(depth, output_size, "bilinear" if mode == "none" else mode)
        depth = depth.clamp(self.config.min_depth, self.config.max_depth).squeeze(1)
        if focal_length is not None and self.config.canonical_focal_length:
            focal = torch.as_tensor(focal_length, dtype=depth.dtype, device=depth.device).reshape(-1)
            scale = torch.where(torch.isfinite(focal) & (focal > 0), focal / self.config.canonical_focal_length,
                                torch.ones_like(focal))
            depth = depth * scale.reshape(-1, 1, 1)

        loss = silog_loss(depth, labels) if labels is not None else None
        if not return_dict:
            output = (depth,) + ((hidden_states,) if output_hidden_states else ())
            return ((loss,) + output) if loss is not None else output
        return DepthEstimatorOutput(
            loss=loss,
            predicted_depth=depth,
            hidden_states=hidden_states if output_hidden_states else None,
        )


def resize_depth(depth: torch.Tensor, size, mode: str) -> torch.Tensor:
    """Resize a (B, 1, h, w) depth map; a no-op when it already has `size`."""
    size = tuple(int(s) for s in size)
    if tuple(depth.shape[-2:]) == size:
        return depth
    align = False if mode in ("bilinear", "bicubic") else None
    return F.interpolate(depth, size=size, mode=mode, align_corners=align)
