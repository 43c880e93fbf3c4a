"""LiteDepth (ECCV 2022 workshops) as a Hugging Face transformers model.

Importing the package registers `litedepth` with `AutoConfig`,
`AutoModelForDepthEstimation` and `AutoImageProcessor`, so
`pipeline("depth-estimation", model=...)` works for LiteDepth checkpoints, and
marks the classes for `register_for_auto_class` so that saved checkpoints carry
their code and load with `trust_remote_code=True` where the package is absent.
"""

import sys
from pathlib import Path

__version__ = "0.1.0"

SYNTHETIC_CHECKPOINT = str(Path(__file__).parent / "checkpoints" / "litedepth-synth")
"""Trained from scratch here on rendered rooms only (`litedepth synth`; its README says which renders and how
long): the embedded default, and the starting point for fine-tuning on one's own frames."""
DEFAULT_CHECKPOINT = SYNTHETIC_CHECKPOINT
"""The embedded default (chosen by the rule in docs/training.md: lowest overall dev si-RMSE)."""
DESK_CHECKPOINT = str(Path(__file__).parent / "checkpoints" / "litedepth-tum")
"""Trained from scratch here on 120 real frames of one desk (TUM freiburg1_rpy)."""
EMBEDDED_CHECKPOINTS = {"litedepth-synth": SYNTHETIC_CHECKPOINT, "litedepth-tum": DESK_CHECKPOINT}
"""The checkpoints inside the package by the names the README gives them: `--model litedepth-tum` works offline."""

_CLASSES = {
    "LiteDepthConfig": "configuration_litedepth",
    "LiteDepthForDepthEstimation": "modeling_litedepth",
    "LiteDepthPreTrainedModel": "modeling_litedepth",
    "LiteDepthImageProcessor": "image_processing_litedepth",
    "load_rgb": "image_processing_litedepth",
}


_registered = False


def register() -> None:
    """Register `litedepth` with transformers' Auto classes (idempotent) and mark the classes so saved
    checkpoints carry their code. Runs on `import litedepth_hf`, except under the `litedepth` command,
    which calls it only when a command needs a model (so `--help` does not import torch)."""
    global _registered
    if _registered:
        return
    from importlib import import_module

    from transformers import AutoConfig, AutoImageProcessor, AutoModelForDepthEstimation

    config = import_module(".configuration_litedepth", __name__).LiteDepthConfig
    model = import_module(".modeling_litedepth", __name__).LiteDepthForDepthEstimation
    processor = import_module(".image_processing_litedepth", __name__).LiteDepthImageProcessor
    AutoConfig.register(config.model_type, config, exist_ok=True)
    AutoModelForDepthEstimation.register(config, model, exist_ok=True)
    AutoImageProcessor.register(config, slow_image_processor_class=processor, exist_ok=True)
    config.register_for_auto_class()
    model.register_for_auto_class("AutoModelForDepthEstimation")
    processor.register_for_auto_class("AutoImageProcessor")
    _registered = True


def __getattr__(name: str):
    """The model classes, imported on first use (they pull in torch and transformers)."""
    if name in _CLASSES:
        from importlib import import_module

        return getattr(import_module(f".{_CLASSES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if "litedepth_cli" not in sys.modules:  # the console command defers this until a command needs it
    register()

__all__ = [
    "register",
    "DEFAULT_CHECKPOINT",
    "DESK_CHECKPOINT",
    "EMBEDDED_CHECKPOINTS",
    "SYNTHETIC_CHECKPOINT",
    "LiteDepthConfig",
    "LiteDepthForDepthEstimation",
    "LiteDepthImageProcessor",
    "LiteDepthPreTrainedModel",
    "load_rgb",
]
