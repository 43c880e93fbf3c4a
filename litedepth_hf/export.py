"""Export LiteDepth to ONNX (through 🤗 optimum) and TFLite (through litert-torch), fp32/fp16/int8.

Two graphs per format:
- *core*: normalised `pixel_values` (1, 3, 128, 160) in ONNX, (1, 128, 160, 3) in TFLite -> depth in
  metres at 1/4 resolution (1, 32, 40); the host does what `LiteDepthImageProcessor` does (resize,
  normalise) and upsamples.
- *full-frame* (as the paper deployed it): an RGB frame (1, H, W, 3) uint8, NHWC as cameras give it
  -> resize to 128x160 and normalisation inside the graph -> depth (1, H, W) in metres. The
  in-graph resize is plain bilinear (no antialiasing), so it differs slightly from the
  processor's PIL resize; the upsampling of the depth is exact bilinear at a fraction of a resize
  kernel's cost (`IntegerBilinearUpsample`); `export.json` records each graph's contract.

optimum exports the core ONNX graph with a registered `OnnxConfig` (`optimum-cli export onnx`
works once `register_onnx_config()` ran: see `litedepth export`). optimum exports model
`forward`s only, so the full-frame wrapper goes through `torch.onnx.export` directly. optimum
has no TFLite exporter for PyTorch models; litert-torch converts without TensorFlow.
"""

import contextlib
import copy
import json
import math
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from litedepth_runtime import bilinear_taps as runtime_taps

ONNX_OPSET = 17  # onnx2tf-compatible, and what optimum's legacy exporter path handles well


class CoreGraph(nn.Module):
    """pixel_values (B, 3, h, w), or (B, h, w, 3) with `channels_last` -> depth (B, h/4, w/4), metres.

    TFLite graphs take channels-last input: their kernels run NHWC, so an NCHW input costs a transpose
    on every call; ONNX keeps the `pixel_values` layout of transformers.
    """

    def __init__(self, model, channels_last: bool = False):
        super().__init__()
        self.model = model
        self.channels_last = channels_last

    def forward(self, pixel_values):
        if self.channels_last:
            pixel_values = pixel_values.permute(0, 3, 1, 2)
        height, width = pixel_values.shape[-2:]
        return self.model(pixel_values, output_size=(height // 4, width // 4)).predicted_depth


def bilinear_taps(factor: int) -> torch.Tensor:
    """`litedepth_runtime.bilinear_taps` as a tensor: the graph's upsampling and the Pi's share one definition."""
    return torch.from_numpy(runtime_taps(factor))


class IntegerBilinearUpsample(nn.Module):
    """(B, 1, h, w) -> (B, h*fy, w*fx): `F.interpolate(mode="bilinear", align_corners=False)` for integer
    factors, as two 3-tap convolutions whose output channels are the sub-pixel phases.

    Runtimes' generic resize kernels gather four pixels per output (0.95 ms fp32 / 1.1 ms int8 for
    32x40 -> 480x640 in TFLite, most of the full-frame graph: docs/benchmark/PROFILE.md); here each pass
    is a small depthwise convolution, and the phase channels land in row-major order by a reshape (one
    transpose of the 1/4-resolution rows), 0.09-0.12 ms. Edge rows and columns are repeated, as
    interpolate clamps its source index.
    """

    def __init__(self, factor_y: int, factor_x: int):
        super().__init__()
        self.factor_y, self.factor_x = factor_y, factor_x
        self.register_buffer("taps_y", bilinear_taps(factor_y).view(factor_y, 1, 3, 1), persistent=False)
        self.register_buffer("taps_x", bilinear_taps(factor_x).view(factor_x, 1, 1, 3), persistent=False)

    def forward(self, depth):
        batch, _, height, width = depth.shape
        rows = torch.cat([depth[:, :, :1], depth, depth[:, :, -1:]], dim=2)
        rows = F.conv2d(rows, self.taps_y)  # (B, fy, h, w): phase a of row i is output row i*fy + a
        rows = rows.permute(0, 2, 1, 3).reshape(batch, 1, height * self.factor_y, width)
        cols = torch.cat([rows[..., :1], rows, rows[..., -1:]], dim=3)
        cols = F.conv2d(cols, self.taps_x)  # (B, fx, H, w)
        return cols.permute(0, 2, 3, 1).reshape(batch, height * self.factor_y, width * self.factor_x)


def pil_resize_weights(in_size: int, out_size: int) -> np.ndarray:
    """(out_size, in_size): Pillow's BILINEAR resampling of one axis as a matrix. Reducing, the triangle filter
    widens with the scale (antialiasing); each row is normalised over the input pixels it reaches, as Pillow
    computes its coefficients (`precompute_coeffs` in Resample.c)."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    weights = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = (i + 0.5) * scale
        low, high = max(int(center - filterscale + 0.5), 0), min(int(center + filterscale + 0.5), in_size)
        taps = np.clip(1.0 - np.abs((np.arange(low, high) - center + 0.5) / filterscale), 0.0, None)
        weights[i, low:high] = taps / taps.sum()
    return weights


class AxisResample(nn.Module):
    """One axis of `pil_resize_weights` as a strided depthwise convolution on (N, C, H, W).

    Why not a resize op: runtimes' bilinear resizes do not antialias, so a 480x640 frame sampled down to 128x160
    that way differs from what the image processor (Pillow) gives the model by ~4 % in depth. Why not a matrix
    product: 30 M multiply-adds for 480 -> 128. In/out = p/q in lowest terms repeats every p inputs and q outputs,
    so a convolution of stride p with q outputs per channel (one per phase; 640 -> 160 has one, 480 -> 128 four)
    and a reshape that interleaves them give every output from its few taps; rows near the edges, where Pillow
    renormalises over fewer pixels, get a constant factor. Depthwise on NCHW, so a TFLite conversion keeps the
    frame in its NHWC layout (no transpose at frame size). Construction checks the result against the dense
    matrix, and sizes with no interior period to copy (270 -> 128 repeats only every 135 rows) keep the matrix."""

    def __init__(self, in_size: int, out_size: int, axis: int, channels: int = 3):
        super().__init__()
        dense = pil_resize_weights(in_size, out_size)
        self.axis, self.channels = axis, channels
        try:
            self._phases(dense, in_size, out_size)
            self.dense = None
        except ValueError:
            self.register_buffer("dense", torch.tensor(dense, dtype=torch.float32), persistent=False)

    def _phases(self, dense, in_size: int, out_size: int):
        divisor = math.gcd(in_size, out_size)
        period, phases = in_size // divisor, out_size // divisor
        self.phases, self.groups = phases, out_size // phases
        if self.groups < 3:
            raise ValueError(f"no interior period for {in_size} -> {out_size}")
        reference = (self.groups // 2) * phases  # an interior group: no clipped window
        spans = [np.nonzero(dense[reference + j])[0] - (reference // phases) * period for j in range(phases)]
        low, high = min(int(t.min()) for t in spans), max(int(t.max()) for t in spans)
        pad = max(-low, (self.groups - 1) * period + high - (in_size - 1), 0)  # the conv pads both sides alike
        kernel = np.zeros((phases, high - low + 1 + pad + low))  # taps from -pad: zeros before `low`
        for j, taps in enumerate(spans):
            kernel[j, taps + pad] = dense[reference + j, taps + (reference // phases) * period]
        # each output's in-bounds weight (the same convolution on ones); Pillow divides it out at the edges
        positions = np.arange(self.groups)[:, None] * period - pad + np.arange(kernel.shape[1])[None]
        inside = ((positions >= 0) & (positions < in_size)).astype(np.float64)  # (groups, taps)
        factor = 1.0 / (inside[:, None, :] * kernel[None]).sum(-1).reshape(-1)  # output i = group * phases + j
        rebuilt = np.zeros_like(dense)
        for i in range(out_size):
            group, j = divmod(i, phases)
            kept = inside[group].astype(bool)
            rebuilt[i, positions[group][kept]] = kernel[j][kept] * factor[i]
        if not np.allclose(rebuilt, dense, atol=1e-9):
            raise ValueError(f"no phase decomposition for {in_size} -> {out_size}")
        taps = kernel.shape[1]
        weight = np.tile(kernel, (self.channels, 1))  # output channel c * phases + j
        shape = (self.channels * phases, 1, taps, 1) if self.axis == 2 else (self.channels * phases, 1, 1, taps)
        self.padding, self.stride = ((pad, 0), (period, 1)) if self.axis == 2 else ((0, pad), (1, period))
        self.register_buffer("kernel", torch.tensor(weight, dtype=torch.float32).view(shape), persistent=False)
        view = (1, 1, out_size, 1) if self.axis == 2 else (1, 1, 1, out_size)
        self.register_buffer("factor", torch.tensor(factor, dtype=torch.float32).view(view), persistent=False)

    def forward(self, x):
        if self.dense is not None:
            return self.dense @ x if self.axis == 2 else x @ self.dense.T
        batch, channels, height, width = x.shape
        y = F.conv2d(x, self.kernel, stride=self.stride, padding=self.padding, groups=channels)
        if self.axis == 2:
            y = y[:, :, : self.groups]
            if self.phases > 1:  # (N, C * phases, groups, W) -> rows in order: group-major, phase-minor
                y = y.view(batch, channels, self.phases, self.groups, width).permute(0, 1, 3, 2, 4)
            y = y.reshape(batch, channels, self.groups * self.phases, width)
        else:
            y = y[..., : self.groups]
            if self.phases > 1:
                y = y.view(batch, channels, self.phases, height, self.groups).permute(0, 1, 3, 4, 2)
            y = y.reshape(batch, channels, height, self.groups * self.phases)
        return y * self.factor


FRAME_RESIZES = {
    "exact": "what LiteDepthImageProcessor does: integer box reduce over 2x the input, then Pillow's antialiased "
             "bilinear resize (the pipeline's depth to float rounding)",
    "fast": "one plain bilinear resize, no antialiasing (~1.3 ms less per 640x480 frame on one desktop core; "
            "depth ~4 % from the pipeline's, mostly at edges)",
}


class FramePreprocessing(nn.Module):
    """uint8 (1, H, W, 3) frame -> normalised (1, 3, h, w) pixel values, float in every precision: what
    `LiteDepthImageProcessor` does to that frame (an integer box reduce for frames over twice the input, then
    Pillow's antialiased bilinear resize, then normalisation), to float rounding.

    Resamples before normalising, so the normalisation runs on h x w pixels, not the frame; kept float in the
    int8 graph too, where a quantised per-channel multiply-add costs more than the float one."""

    def __init__(self, frame_size, input_size, mean, std, reduce: int = 1, resize: str = "exact"):
        super().__init__()
        if resize not in FRAME_RESIZES:
            raise ValueError(f"frame resize must be one of {list(FRAME_RESIZES)}, got {resize!r}")
        self.input_size, self.resize = tuple(input_size), resize
        self.reduce = int(reduce) if resize == "exact" else 1
        height, width = (-(-side // self.reduce) for side in frame_size)  # Pillow keeps a partial last box
        exact = resize == "exact"
        self.rows = AxisResample(height, self.input_size[0], 2) if exact and height != self.input_size[0] else None
        self.cols = AxisResample(width, self.input_size[1], 3) if exact and width != self.input_size[1] else None
        self.register_buffer("scale", torch.tensor([1.0 / (255.0 * s) for s in std]).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("offset", -torch.tensor(mean).view(1, 3, 1, 1) / torch.tensor(std).view(1, 3, 1, 1),
                             persistent=False)

    def forward(self, frame):
        x = frame.permute(0, 3, 1, 2).to(torch.float32)
        if self.resize == "fast":
            x = F.interpolate(x, size=self.input_size, mode="bilinear", align_corners=False)
            return x * self.scale + self.offset
        if self.reduce > 1:  # Image.reduce: box means rounded to uint8, partial boxes at the right and bottom
            x = torch.floor(F.avg_pool2d(x, self.reduce, ceil_mode=True, count_include_pad=False) + 0.5)
        if self.cols is not None:  # Pillow resamples columns first, then rows
            x = self.cols(x)
        if self.rows is not None:
            x = self.rows(x)
        return x * self.scale + self.offset


class FullFrameGraph(nn.Module):
    """uint8 RGB frame (1, H, W, 3) -> depth (1, H, W) in metres.

    When the frame is an integer multiple of the 1/4-resolution map (480x640 from 32x40) and the
    model upsamples bilinearly, the depth is clamped at 1/4 resolution and upsampled by
    `IntegerBilinearUpsample` (the model's values wherever no pixel reaches min/max_depth: bilinear
    weights are convex); other sizes use the model's own resize.
    """

    def __init__(self, model, processor, frame_size=(480, 640), resize: str = "exact"):
        super().__init__()
        self.model = model
        input_size = tuple(processor.input_size(*frame_size))  # the frame's own aspect ratio, as the processor
        size = processor.size
        reduce = min(frame_size[0] // (2 * size["height"]), frame_size[1] // (2 * size["width"]))  # shrink_large
        self.preprocess = FramePreprocessing(frame_size, input_size, processor.image_mean, processor.image_std,
                                             reduce if reduce >= 2 else 1, resize)
        self.quarter = (input_size[0] // 4, input_size[1] // 4)
        self.frame_size = tuple(frame_size)
        factors = [f // q for f, q in zip(self.frame_size, self.quarter)]
        integer = all(f * q == size for f, q, size in zip(factors, self.quarter, self.frame_size))
        bilinear = model.config.upsample_mode in ("bilinear", "none")
        self.upsample = IntegerBilinearUpsample(*factors) if integer and bilinear else None

    def forward(self, frame):
        if tuple(frame.shape[1:3]) != self.frame_size:
            raise ValueError(f"frame must be (1, {self.frame_size[0]}, {self.frame_size[1]}, 3), got {tuple(frame.shape)}")
        x = self.preprocess(frame)
        if self.upsample is not None:
            return self.upsample(self.model(x, output_size=self.quarter).predicted_depth[:, None])
        return self.model(x, output_size=self.frame_size).predicted_depth


def register_onnx_config():
    """Register `litedepth` for optimum's ONNX exporter (task `depth-estimation`); returns the config class."""
    from optimum.exporters.onnx.config import VisionOnnxConfig
    from optimum.exporters.tasks import TasksManager
    from optimum.utils.normalized_config import NormalizedVisionConfig

    class LiteDepthOnnxConfig(VisionOnnxConfig):
        NORMALIZED_CONFIG_CLASS = NormalizedVisionConfig
        DEFAULT_ONNX_OPSET = ONNX_OPSET

        # H and W stay static (the config's image_size), as in the TFLite graphs: runtimes then know
        # the input size, and the in-graph resizes fold to constants.
        @property
        def inputs(self):
            return {"pixel_values": {0: "batch_size"}}

        @property
        def outputs(self):
            return {"predicted_depth": {0: "batch_size"}}

    register = TasksManager.create_register("onnx", overwrite_existing=True)
    return register("litedepth", "depth-estimation")(LiteDepthOnnxConfig)


def _core_copy(model):
    """The model with `upsample_mode="none"`: its plain forward then returns the 1/4-resolution map."""
    core = copy.deepcopy(model).eval()
    core.config.upsample_mode = "none"
    return core


def export_onnx(model, processor, out_dir: Path, frame_size=(480, 640), frame_resize: str = "exact") -> dict:
    """`onnx/model.onnx` (core, via optimum's `main_export`) and `onnx/model_fullframe.onnx`."""
    from optimum.exporters.onnx import main_export

    register_onnx_config()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as staging:
        core_dir = Path(staging) / "model"
        _core_copy(model).save_pretrained(core_dir)
        processor.save_pretrained(core_dir)
        main_export(str(core_dir), str(Path(staging) / "onnx"), task="depth-estimation", opset=ONNX_OPSET,
                    library_name="transformers", device="cpu", do_validation=False, trust_remote_code=True)
        shutil.copy(Path(staging) / "onnx" / "model.onnx", out_dir / "model.onnx")
    full = FullFrameGraph(model.eval(), processor, frame_size, frame_resize).eval()
    frame = torch.zeros(1, *frame_size, 3, dtype=torch.uint8)
    torch.onnx.export(full, (frame,), str(out_dir / "model_fullframe.onnx"), input_names=["frame"],
                      output_names=["depth"], opset_version=ONNX_OPSET, dynamo=False)
    return {"model.onnx": _core_contract(model), "model_fullframe.onnx": _full_contract(frame_size, frame_resize)}


def calibration_batches(processor, images: Iterable, limit: int = 64) -> list:
    """Core-graph inputs from real frames, for static int8 calibration."""
    batches = []
    for image in images:
        batches.append(processor(image, return_tensors="pt")["pixel_values"])
        if len(batches) >= limit:
            break
    if not batches:
        raise ValueError("int8 export needs calibration images: none were found")
    return batches


def equalise_decoder_ranges(model, calibration: list, quantile: float = 0.999):
    """A copy of `model` whose decoder concats see inputs of matching range; same fp32 function.

    int8 gives a concat one scale for all its channels. The upsampled decoder features reach
    ~100 while the encoder skips they are concatenated with stay under ~10, so the skips would
    keep only ~10 levels. ReLU and bilinear upsampling commute with a positive scale, so each
    fusion conv's output is divided by k (its weights and bias) and the next conv's weights on
    those channels multiplied by k - cross-layer equalisation, with k = ratio of the two inputs'
    `quantile` magnitudes on the calibration batches. Each rescaling leaves every later feature
    unchanged, so all three ratios come from one pass of the trained model.
    """
    model = copy.deepcopy(model).eval()
    decoder = model.decoder
    with torch.no_grad():
        passes = [(features, decoder(features)[1]) for features in map(model.encoder, calibration)]
        # level 1..3: relu(h32|h16|h8) is upsampled and concatenated with the 1/16|1/8|1/4 encoder tap
        for level, (producer, consumer) in enumerate(
                [(decoder.fuse32, decoder.fuse16), (decoder.fuse16, decoder.fuse8), (decoder.fuse8, decoder.head_conv)]):
            produced = _magnitude([F.relu(hidden[level]) for _, hidden in passes], quantile)
            skip = _magnitude([features[2 - level] for features, _ in passes], quantile)
            scale = produced / max(skip, 1e-6)
            if scale <= 1.0:
                continue
            producer.weight /= scale
            producer.bias /= scale
            consumer.weight[:, : producer.out_channels] *= scale
    return model


def _magnitude(tensors: list, quantile: float) -> float:
    """`quantile` of |x| over all tensors (every n-th value past 1 M: torch.quantile caps its input)."""
    values = torch.cat([t.flatten() for t in tensors]).abs()
    return float(torch.quantile(values[:: max(1, values.numel() // 1_000_000)], quantile))


FLOAT_MODULES = (FramePreprocessing, IntegerBilinearUpsample)
"""Kept float in int8 graphs: int8 would round the output to 256 depth levels, and both cost less in float."""


def _quantizer():
    """litert-torch's PT2E quantizer (static, symmetric, per-channel int8), plus the residual adds.

    Its add annotator finds adds by their `source_fn_stack`, which recent `torch.export` graphs no
    longer carry, so no add is annotated: an add between two quantised convs still lowers to int8
    (its neighbours' quantize/dequantize pairs enclose it), but a chain of residual blocks
    (add -> add) stays float between DEQUANTIZE/QUANTIZE pairs. Every add outside `FLOAT_MODULES`
    is annotated here instead.
    """
    from litert_torch.quantize import pt2e_quantizer
    from litert_torch.quantize.pt2e_quantizer_utils import get_input_act_qspec, get_output_act_qspec
    from torchao.quantization.pt2e.quantizer import QuantizationAnnotation

    float_types = {f"{m.__module__}.{m.__qualname__}" for m in FLOAT_MODULES}  # how torch.export names types

    class LiteDepthQuantizer(pt2e_quantizer.PT2EQuantizer):
        def annotate(self, model):
            model = super().annotate(model)
            config = self.global_config
            for node in model.graph.nodes:
                if (node.op != "call_function" or node.target is not torch.ops.aten.add.Tensor
                        or "quantization_annotation" in node.meta
                        or float_types & {t for _, t in node.meta.get("nn_module_stack", {}).values()}):
                    continue
                inputs = [arg for arg in node.args if isinstance(arg, torch.fx.Node)]
                if len(inputs) != 2:  # adds of a constant (normalisation) are not residuals
                    continue
                node.meta["quantization_annotation"] = QuantizationAnnotation(
                    input_qspec_map={arg: get_input_act_qspec(config) for arg in inputs},
                    output_qspec=get_output_act_qspec(config), _annotated=True)
            return model

    quantizer = LiteDepthQuantizer().set_global(pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True))
    for module_type in float_types:
        quantizer.set_module_type(module_type, None)
    return quantizer


def _int8_config(graph, sample, calibration: list):
    """PT2E static, per-channel int8: export, insert observers, calibrate on real frames, convert."""
    from litert_torch.quantize import quant_config
    from torchao.quantization.pt2e import quantize_pt2e

    quantizer = _quantizer()
    exported = torch.export.export(graph, (sample,)).module()
    prepared = quantize_pt2e.prepare_pt2e(exported, quantizer)
    with torch.no_grad():
        for batch in calibration:
            prepared(batch)
    converted = quantize_pt2e.convert_pt2e(prepared, fold_quantize=False)
    return converted, quant_config.QuantConfig(pt2e_quantizer=quantizer)


def export_tflite(model, processor, out_dir: Path, calibration_images: list, frame_size=(480, 640),
                  frame_resize: str = "exact") -> dict:
    """`tflite/model_{fp32,fp16,int8}.tflite` (channels-last input) and their `_fullframe` twins."""
    import litert_torch
    from litert_torch.generative.quantize import quant_recipes

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    pixels = torch.zeros(1, *model.config.image_size, 3)
    frame = torch.zeros(1, *frame_size, 3, dtype=torch.uint8)
    core_calibration = calibration_batches(processor, calibration_images)
    core_calibration_nhwc = [batch.permute(0, 2, 3, 1).contiguous() for batch in core_calibration]
    frame_calibration = [torch.from_numpy(np.array(_fit(image, frame_size)))[None] for image in calibration_images]
    balanced = equalise_decoder_ranges(model, core_calibration)  # for int8 only; fp32/fp16 keep the weights as trained
    written = {}
    for name, graph_class, sample, contract, calibration in (
        ("model", lambda m: CoreGraph(m, channels_last=True), pixels, _core_contract(model, True),
         core_calibration_nhwc),
        ("model_fullframe", lambda m: FullFrameGraph(m, processor, frame_size, frame_resize), frame,
         _full_contract(frame_size, frame_resize), frame_calibration[: len(core_calibration)]),
    ):
        graph = graph_class(model).eval()
        quantized, int8_config = _int8_config(graph_class(balanced).eval(), sample, calibration)
        for precision, module, config in (("fp32", graph, None), ("fp16", graph, quant_recipes.full_fp16_recipe()),
                                          ("int8", quantized, int8_config)):
            path = out_dir / f"{name}_{precision}.tflite"
            litert_torch.convert(module, (sample,), quant_config=config).export(str(path))
            finalise_tflite(path, contract["input"]["name"], contract["output"]["name"])
            written[path.name] = {**contract, "precision": precision}
    return written


def _shared_vector_builder():
    """A flatbuffers Builder that writes identical int64 vectors once and points every table at it.

    The only int64 vectors of a .tflite are quantisation zero points: per-channel int8 keeps one
    zero (symmetric) per output channel of every weight and bias, 8 bytes each - 90 KB of zeros
    for LiteDepth, 16 % of the int8 file. Flatbuffer offsets may share a target, so the runtime
    reads the same values; the verifier rejects the alternative, a 1-element zero point.
    """
    import flatbuffers

    class SharedVectorBuilder(flatbuffers.Builder):
        def __init__(self, size):
            super().__init__(size)
            self.written = {}

        def CreateNumpyVector(self, x):  # noqa: N802 (flatbuffers' name)
            if x.dtype != np.int64 or x.size < 2:
                return super().CreateNumpyVector(x)
            key = x.tobytes()
            if key not in self.written:
                self.written[key] = super().CreateNumpyVector(x)
            return self.written[key]

    return SharedVectorBuilder


def finalise_tflite(path: Path, input_name: str, output_name: str) -> None:
    """Rewrite a .tflite in place: float input/output around int8 internals, and short tensor names.

    litert-torch folds the int8 model's first quantize and last dequantize into int8 I/O, so
    a user would have to know the scales and the output would saturate at its int8 range;
    a QUANTIZE/DEQUANTIZE pair at the boundaries restores the float contract of the other
    precisions. Tensor names (each tensor's full module path, ~65 KB) are replaced by indices,
    and the per-channel zero points are stored once (`_shared_vector_builder`).
    """
    from ai_edge_litert import schema_py_generated as schema

    data = Path(path).read_bytes()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
    for buffer in model.buffers:  # large models keep weights after the flatbuffer: inline them again
        if buffer.offset > 1:
            buffer.data = np.frombuffer(data[buffer.offset : buffer.offset + buffer.size], dtype=np.uint8)
            buffer.offset = buffer.size = 0
    subgraph = model.subgraphs[0]
    subgraph.inputs, subgraph.outputs = list(subgraph.inputs), list(subgraph.outputs)  # numpy views when unpacked
    for index, tensor in enumerate(subgraph.tensors):
        tensor.name = f"t{index}".encode()

    def opcode(builtin: int) -> int:
        for index, code in enumerate(model.operatorCodes):
            if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
                return index
        code = schema.OperatorCodeT()
        code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, min(builtin, 127), 1
        model.operatorCodes.append(code)
        return len(model.operatorCodes) - 1

    def float_twin(index: int, name: str) -> int:
        source, twin = subgraph.tensors[index], schema.TensorT()
        twin.shape, twin.shapeSignature, twin.type, twin.name = source.shape, source.shapeSignature, schema.TensorType.FLOAT32, name.encode()
        empty = schema.BufferT()
        model.buffers.append(empty)
        twin.buffer = len(model.buffers) - 1
        subgraph.tensors.append(twin)
        return len(subgraph.tensors) - 1

    remap = {}
    for position, index in enumerate(subgraph.inputs):
        if subgraph.tensors[index].type == schema.TensorType.INT8:
            twin = float_twin(index, input_name)
            op = schema.OperatorT()
            op.opcodeIndex, op.inputs, op.outputs = opcode(schema.BuiltinOperator.QUANTIZE), [twin], [index]
            subgraph.operators.insert(0, op)
            subgraph.inputs[position] = remap[index] = twin
        else:
            subgraph.tensors[index].name = input_name.encode()
    for position, index in enumerate(subgraph.outputs):
        if subgraph.tensors[index].type == schema.TensorType.INT8:
            twin = float_twin(index, output_name)
            op = schema.OperatorT()
            op.opcodeIndex, op.inputs, op.outputs = opcode(schema.BuiltinOperator.DEQUANTIZE), [index], [twin]
            subgraph.operators.append(op)
            subgraph.outputs[position] = remap[index] = twin
        else:
            subgraph.tensors[index].name = output_name.encode()
    for signature in model.signatureDefs or []:
        for entry in (signature.inputs or []) + (signature.outputs or []):
            entry.tensorIndex = remap.get(entry.tensorIndex, entry.tensorIndex)
    builder = _shared_vector_builder()(len(data))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    Path(path).write_bytes(bytes(builder.Output()))


def _fit(image, frame_size):
    """An RGB PIL image resized to the full-frame graph's (H, W)."""
    from PIL import Image

    image = image.convert("RGB")
    if image.size != (frame_size[1], frame_size[0]):
        image = image.resize((frame_size[1], frame_size[0]), Image.BILINEAR)
    return image


def _core_contract(model, channels_last: bool = False) -> dict:
    h, w = model.config.image_size
    shape, layout = ([1, h, w, 3], "NHWC") if channels_last else ([1, 3, h, w], "NCHW")
    return {"graph": "core", "input": {"name": "pixel_values", "shape": shape, "dtype": "float32", "layout": layout,
                                       "preprocessing": "resize to HxW (bilinear), (x/255 - mean) / std"},
            "output": {"name": "predicted_depth", "shape": [1, h // 4, w // 4], "dtype": "float32",
                       "units": "metres", "note": "upsample to the frame size on the host"}}


def _full_contract(frame_size, frame_resize: str = "exact") -> dict:
    h, w = frame_size
    return {"graph": "full-frame", "input": {"name": "frame", "shape": [1, h, w, 3], "dtype": "uint8",
                                             "layout": "NHWC", "preprocessing": "none (inside the graph)",
                                             "resize": f"{frame_resize}: {FRAME_RESIZES[frame_resize]}"},
            "output": {"name": "depth", "shape": [1, h, w], "dtype": "float32", "units": "metres"}}


def export_model(model_name_or_path: Optional[str], out_dir, formats=("onnx", "tflite"),
                 calibration_data: Optional[str] = None, frame_size=(480, 640), overwrite: bool = False,
                 verbose: bool = False, progress: bool = False, frame_resize: str = "exact") -> dict:
    """Export a checkpoint to every requested format; writes `out_dir/export.json` describing each file.

    `progress`: a line per stage on stderr with the seconds elapsed (the conversions take about a minute and
    print nothing of their own unless `verbose`).

    Every input is checked before any work; the files are written into a temporary folder beside
    `out_dir` and moved in at the end, so a failed export leaves nothing behind. The converters' logs
    (hundreds of lines) are shown only with `verbose`.
    """
    from .inference import load_model

    out_dir = Path(out_dir)
    unknown = set(formats) - {"onnx", "tflite"}
    if unknown or not formats:
        raise ValueError(f"Unknown export formats {sorted(unknown) or 'none'}; use onnx and/or tflite")
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"--out {out_dir} is a file; name a folder")
    if len(frame_size) != 2 or min(frame_size) < 32:
        raise ValueError(f"frame size must be HEIGHT x WIDTH, each >= 32 pixels, got {frame_size}")
    if frame_resize not in FRAME_RESIZES:
        raise ValueError(f"frame resize must be one of {list(FRAME_RESIZES)}, got {frame_resize!r}")
    targets = [out_dir / f for f in formats] + [out_dir / "export.json"]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"Refusing to overwrite {', '.join(existing)} (pass --overwrite)")
    images = calibration_images(calibration_data) if "tflite" in formats else None
    model, processor = load_model(model_name_or_path)
    if type(model).__name__ != "LiteDepthForDepthEstimation":
        raise ValueError(f"Only LiteDepth checkpoints export here, got {type(model).__name__}")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    started = time.perf_counter()
    console = os.fdopen(os.dup(2), "w", buffering=1) if progress else None  # stays open while stderr is silenced

    def stage(text: str):
        if console:
            console.write(f"[{time.perf_counter() - started:4.0f} s] {text}\n")

    try:
        with _quiet(not verbose):
            files = {}
            if "onnx" in formats:
                stage("ONNX (optimum): core and full-frame graphs, each checked against the model")
                files.update({f"onnx/{k}": v for k, v in export_onnx(model, processor, staging / "onnx", frame_size,
                                                                            frame_resize).items()})
            if "tflite" in formats:
                stage(f"TFLite (litert-torch): core and full-frame graphs in fp32, fp16, and int8 calibrated on "
                      f"{len(images)} frames")
                files.update({f"tflite/{k}": v for k, v in
                              export_tflite(model, processor, staging / "tflite", images, frame_size,
                                            frame_resize).items()})
        stage(f"writing {out_dir}/export.json")
        for name, info in files.items():
            info["bytes"] = (staging / name).stat().st_size
        manifest = {"model": str(model_name_or_path or "embedded default"), "frame_size": list(frame_size),
                    "image_size": list(model.config.image_size),
                    "normalisation": {"image_mean": list(processor.image_mean), "image_std": list(processor.image_std),
                                      "rescale": "pixel / 255, then (x - mean) / std, per RGB channel"},
                    # the graphs return depth for this camera; multiply by (f_x / W of the real camera) / this.
                    # null: the model is not camera-aware and its depth is used as it is
                    "canonical_focal_length": getattr(model.config, "canonical_focal_length", None),
                    "camera": "depth x (f_x / W) / canonical_focal_length, f_x / W = 0.5 / tan(horizontal fov / 2)",
                    "files": files}
        (staging / "export.json").write_text(json.dumps(manifest, indent=2) + "\n")
        out_dir.mkdir(exist_ok=True)
        for item in staging.iterdir():
            target = out_dir / item.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if console:
            console.close()
    return manifest


@contextlib.contextmanager
def _quiet(enabled: bool):
    """Silence the converters' Python logging and their C++ stdout/stderr while exporting."""
    if not enabled:
        yield
        return
    import logging

    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    saved = [os.dup(1), os.dup(2)]
    sys.stdout.flush(), sys.stderr.flush()
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1), os.dup2(devnull.fileno(), 2)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
            os.close(saved[0]), os.close(saved[1])
            logging.disable(previous)


def calibration_images(source: Optional[str], limit: int = 64) -> list:
    """Up to `limit` real RGB frames for int8 calibration, from a folder of images or an RGB-D dataset folder.

    They should cover the depth range met in use: int8 activations saturate outside the calibrated range.
    """
    from PIL import Image

    from .data import IMAGE_SUFFIXES

    if source is None:
        raise ValueError("int8 TFLite needs --calibration-data: a folder of real frames like those in use")
    path = Path(source)
    if (path / "rgb").is_dir():
        path = path / "rgb"
    if not path.is_dir():
        raise FileNotFoundError(f"Calibration folder not found: {source}")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    images = []
    for file in files[:: max(1, len(files) // limit)][:limit]:
        with Image.open(file) as image:
            if image.mode in ("RGB", "RGBA", "L", "P"):
                images.append(image.convert("RGB"))
    if not images:
        raise ValueError(f"No RGB images to calibrate on in {path}")
    return images
