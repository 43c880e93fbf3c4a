"""Convert timm's ImageNet MobileNetV3-small weights into a LiteDepth model (as transformers keeps its
`convert_*.py` scripts beside the modeling file, not in it: the Hub's remote code needs none of this).

  python -m litedepth_hf.convert_timm_to_litedepth TIMM_WEIGHTS.safetensors OUT_DIR

No pretrained weights can be downloaded where this package is developed, so nothing shipped was made with it;
it is for users who have timm's `(tf_)mobilenetv3_small_minimal_100` weights and want an ImageNet start.
"""

import argparse
import sys
from pathlib import Path

import torch

from .configuration_litedepth import LiteDepthConfig
from .modeling_litedepth import LiteDepthForDepthEstimation, LiteDepthMobileNetV3Encoder

# timm block layer -> our (LiteDepthConvLayer, index) path: depthwise-separable (stage 0) and inverted residual blocks.
TIMM_DS_LAYERS = {"conv_dw": "conv_dw.0", "bn1": "conv_dw.1", "conv_pw": "conv_pw.0", "bn2": "conv_pw.1"}
TIMM_IR_LAYERS = {"conv_pw": "conv_pw.0", "bn1": "conv_pw.1", "conv_dw": "conv_dw.0", "bn2": "conv_dw.1",
                  "conv_pwl": "conv_pwl.0", "bn3": "conv_pwl.1"}


def timm_to_native_name(key: str) -> str:
    """`conv_stem.weight` -> `stem.0.weight`, `blocks.1.0.bn2.bias` -> `stages.1.0.conv_dw.1.bias`; else unchanged."""
    head, _, rest = key.partition(".")
    if head in ("conv_stem", "bn1"):
        return f"stem.{0 if head == 'conv_stem' else 1}.{rest}"
    parts = key.split(".")
    if head == "blocks" and len(parts) > 4:
        stage, block, layer = parts[1], parts[2], parts[3]
        mapping = TIMM_DS_LAYERS if stage == "0" else TIMM_IR_LAYERS
        if layer in mapping:
            return f"stages.{stage}.{block}.{mapping[layer]}.{'.'.join(parts[4:])}"
    return key


def load_timm_encoder_weights(model: LiteDepthForDepthEstimation, state_dict: dict) -> list:
    """Load ImageNet weights of timm's `(tf_)mobilenetv3_small_minimal_100` into the native encoder of `model`.

    timm names are mapped onto ours (`conv_stem`/`bn1` -> `stem`, `blocks.i.j.conv_x`/`bnk` ->
    `stages.i.j.conv_x`); `blocks.5`, `conv_head` and `classifier` are dropped. Returns the
    encoder keys left uninitialised (empty when everything matched). `tf_` weights assume
    TF "same" padding, so expect a small shift before fine-tuning.
    """
    if not isinstance(model.encoder, LiteDepthMobileNetV3Encoder):
        raise ValueError("load_timm_encoder_weights only applies to the native MobileNetV3 encoder.")
    ours = model.encoder.state_dict()
    converted = {}
    for key, value in state_dict.items():
        name = timm_to_native_name(key)
        if name in ours and ours[name].shape == value.shape:
            converted[name] = value
    return list(model.encoder.load_state_dict(converted, strict=False).missing_keys)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", help="timm state dict: .safetensors, or .pth/.bin (torch.load, weights only)")
    parser.add_argument("out", help="folder for the LiteDepth model (must not exist)")
    args = parser.parse_args(argv)
    source, out = Path(args.weights), Path(args.out)
    if not source.is_file():
        raise SystemExit(f"No such file: {source}")
    if out.exists():
        raise SystemExit(f"{out} exists; choose a new folder")
    if source.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(source))
    else:
        state = torch.load(source, map_location="cpu", weights_only=True)
        state = state.get("state_dict", state)
    model = LiteDepthForDepthEstimation(LiteDepthConfig())
    missing = load_timm_encoder_weights(model, state)
    if len(missing) == len(model.encoder.state_dict()):
        raise SystemExit(f"{source}: no tensor matched MobileNetV3-small-minimal's names; is it that model?")
    model.save_pretrained(out)
    print(f"{out}: encoder from {source} ({len(missing)} encoder tensors left at their initial values)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
