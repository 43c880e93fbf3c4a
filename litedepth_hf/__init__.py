"""LiteDepth (ECCV 2022 workshops) as a Hugging Face transformers model.

Importing the package registers `litedepth` with `AutoConfig`,
`AutoModelForDepthEstimation` and `AutoImageProcessor`, so
`pipeline("depth-estimation", model=...)` works for LiteDepth checkpoints, and
marks the classes for `register_for_auto_class` so that saved checkpoints carry
their code and load with `trust_remote_code=True` where the package is absent.
"""

import logging
from pathlib import Path


class _KnownImportNoise(logging.Filter):
    """Drops two harmless messages that importing transformers 4.57 beside torchao (the export
    extra's quantiser) logs: torchao's GPU-only kernels failing to load on a CPU machine, and
    torch's deprecation note on torchao registering its enums. Nothing else is filtered."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("torchao/_C" in message or "is an Enum subclass and is now natively supported" in message)


for _name in ("torchao", "torch.utils._pytree"):
    logging.getLogger(_name).addFilter(_KnownImportNoise())

from transformers import AutoConfig, AutoImageProcessor, AutoModelForDepthEstimation

from .configuration_litedepth import LiteDepthConfig
from .image_processing_litedepth import LiteDepthImageProcessor
from .modeling_litedepth import LiteDepthForDepthEstimation, LiteDepthPreTrainedModel

__version__ = "0.1.0"

SYNTHETIC_CHECKPOINT = str(Path(__file__).parent / "checkpoints" / "litedepth-synth")
"""Trained from scratch here on 20,000 rendered rooms only, distilled from a wider teacher trained on the same
renders (see its README): the embedded default, and the starting point for fine-tuning on one's own frames."""
DEFAULT_CHECKPOINT = SYNTHETIC_CHECKPOINT
"""The embedded default (chosen by the rule in docs/training.md: lowest overall dev si-RMSE)."""
DESK_CHECKPOINT = str(Path(__file__).parent / "checkpoints" / "litedepth-tum")
"""The previous default: trained from scratch here on 120 real frames of one desk (TUM freiburg1_rpy)."""

AutoConfig.register(LiteDepthConfig.model_type, LiteDepthConfig, exist_ok=True)
AutoModelForDepthEstimation.register(LiteDepthConfig, LiteDepthForDepthEstimation, exist_ok=True)
AutoImageProcessor.register(LiteDepthConfig, slow_image_processor_class=LiteDepthImageProcessor, exist_ok=True)

LiteDepthConfig.register_for_auto_class()
LiteDepthForDepthEstimation.register_for_auto_class("AutoModelForDepthEstimation")
LiteDepthImageProcessor.register_for_auto_class("AutoImageProcessor")

__all__ = [
    "DEFAULT_CHECKPOINT",
    "DESK_CHECKPOINT",
    "SYNTHETIC_CHECKPOINT",
    "LiteDepthConfig",
    "LiteDepthForDepthEstimation",
    "LiteDepthImageProcessor",
    "LiteDepthPreTrainedModel",
]
