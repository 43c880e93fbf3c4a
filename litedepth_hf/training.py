"""Training with 🤗 Trainer: augmented RGB-D datasets, the multi-term loss, metrics and curves."""

import time
from collections import defaultdict
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from transformers import Trainer, TrainerCallback, TrainerState
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, get_last_checkpoint

from .augmentation import (
    AugmentConfig,
    augment,
    crop_intrinsics,
    focal_ratio,
    match_colours,
    resize_float_image,
    to_sample,
)
from .data import example_arrays
from .losses import LiteDepthLoss

LOSS_STATE_FILE = "loss_state.safetensors"


def run_checkpoints(run) -> list:
    """[(step, folder)] of the Trainer's `checkpoint-STEP` folders in `run` that hold weights, by step (not by name:
    checkpoint-800 comes before checkpoint-1600)."""
    found = []
    for folder in Path(run).glob(f"{PREFIX_CHECKPOINT_DIR}-*"):
        step = folder.name[len(PREFIX_CHECKPOINT_DIR) + 1:]
        if step.isdigit() and (folder / "model.safetensors").is_file():
            found.append((int(step), folder))
    return sorted(found)


def eval_sample(rgb: np.ndarray, depth: np.ndarray, intrinsics=None, input_size=(128, 160),
                mean=(0.5,) * 3, std=(0.5,) * 3) -> dict:
    """Whole frame, no randomness: what inference sees, with the full-resolution GT."""
    sample = to_sample(resize_float_image(rgb.astype(np.float32) / 255.0, *input_size), depth, mean, std)
    sample["intrinsics"] = crop_intrinsics(intrinsics, 0, 0)
    sample["focal_length"] = focal_ratio(sample["intrinsics"], depth.shape[1])
    return sample


def pad_collate(samples: list) -> dict:
    """Zero-pad `pixel_values` and `labels` (0 = invalid depth) bottom/right to the batch's largest.

    Per-sample `intrinsics` (fx, fy, cx, cy of the label grid; NaN when unknown) are stacked.
    """
    batch = {}
    for key in ("pixel_values", "labels"):
        tensors = [s[key] for s in samples]
        height = max(t.shape[-2] for t in tensors)
        width = max(t.shape[-1] for t in tensors)
        out = tensors[0].new_zeros((len(tensors),) + tensors[0].shape[:-2] + (height, width))
        for i, t in enumerate(tensors):
            out[i, ..., : t.shape[-2], : t.shape[-1]] = t
        batch[key] = out
    batch["intrinsics"] = torch.stack([s["intrinsics"] for s in samples])
    if all("focal_length" in s for s in samples):
        batch["focal_length"] = torch.stack([s["focal_length"] for s in samples])
    return batch


class RGBDDataset(torch.utils.data.Dataset):
    """A `datasets.Dataset` from `litedepth_hf.data` as model samples: augmented per access for training
    (`train=True`), whole frames for evaluation; decoded once.

    Training samples draw their augmentation from torch's RNG, which Trainer seeds and
    checkpoints, so runs are reproducible and resumes continue the same stream.
    `cache=True` keeps decoded frames in memory (~2.2 MB per 640x480 pair).
    """

    def __init__(self, dataset, train: bool, augment_config: Optional[AugmentConfig] = None, cache: bool = True,
                 image_mean=(0.5, 0.5, 0.5), image_std=(0.5, 0.5, 0.5), input_size=(128, 160),
                 decoded_store=None, restyle_references: Optional[list] = None):
        self.dataset = dataset
        self.train = train
        self.config = augment_config or AugmentConfig(input_size=tuple(input_size))
        self.cache = {} if cache and decoded_store is None else None
        self.store = decoded_store  # a `data.DecodedFrames`: memory-mapped, shared by processes, no decoding
        self.mean, self.std, self.input_size = tuple(image_mean), tuple(image_std), tuple(input_size)
        self.restyle = restyle_references  # uint8 RGB frames whose colour statistics training frames take on

    def __len__(self):
        return len(self.dataset)

    def decoded(self, index: int) -> tuple:
        if self.store is not None:
            return self.store.arrays(index)
        if self.cache is not None and index in self.cache:
            return self.cache[index]
        item = example_arrays(self.dataset[index])
        if self.cache is not None:
            self.cache[index] = item
        return item

    def __getitem__(self, index: int) -> dict:
        rgb, depth, intrinsics = self.decoded(index)
        if not self.train:
            return eval_sample(rgb, depth, intrinsics, self.input_size, self.mean, self.std)
        rng = np.random.default_rng(int(torch.randint(0, 2**62, ())))
        if self.restyle:
            rgb = match_colours(rgb, self.restyle[int(rng.integers(len(self.restyle)))])
        return augment(rgb, depth, rng, self.config, intrinsics, self.mean, self.std)


class MixtureDataset(torch.utils.data.Dataset):
    """Several training sources in one epoch, each with a fixed share of it.

    Why: one real scene beside thousands of renders would otherwise be a rounding error, and one
    source's size should not decide its weight. Positions of an epoch are split between sources
    in proportion to `weights` (exact counts, largest remainders); the frame a position shows is
    drawn uniformly from its source with torch's RNG, which Trainer seeds, so runs reproduce.
    """

    def __init__(self, sources: list, weights: list, epoch_size: Optional[int] = None):
        if len(sources) != len(weights) or not sources:
            raise ValueError("one weight per source is needed")
        if any(not (w >= 0) for w in weights) or sum(weights) <= 0:
            raise ValueError(f"mixing weights must be >= 0 and not all 0, got {weights}")
        self.sources = sources
        self.epoch_size = int(epoch_size or sum(len(s) for s in sources))
        total = float(sum(weights))
        exact = [self.epoch_size * w / total for w in weights]
        counts = [int(e) for e in exact]
        for k in sorted(range(len(exact)), key=lambda k: exact[k] - counts[k], reverse=True)[: self.epoch_size - sum(counts)]:
            counts[k] += 1
        self.counts = counts
        self.owner = np.repeat(np.arange(len(sources)), counts)

    def __len__(self):
        return self.epoch_size

    def __getitem__(self, index: int) -> dict:
        source = self.sources[int(self.owner[index])]
        return source[int(torch.randint(len(source), ()))]


def cpu_layout(model: torch.nn.Module, device) -> torch.nn.Module:
    """channels_last weights on a CPU, where oneDNN then runs LiteDepth's convolutions and batch norms
    ~20 % faster (forward + backward, batch 8 at 128x160, 2 cores); other devices keep their layout."""
    if torch.device(device).type == "cpu":
        model.to(memory_format=torch.channels_last)
    return model


class LiteDepthTrainer(Trainer):
    """Trainer whose loss is `LiteDepthLoss` (four terms, fixed or dynamic weights), logged term by term,
    plus structure-aware distillation when a `distiller` (see `litedepth_hf.distillation`) is given.

    The loss module's learnable weights join the optimiser, are averaged across processes
    like model gradients, are saved in every checkpoint (`loss_state.safetensors`, by `LossStateCallback`)
    and restored by `train(resume_from_checkpoint=...)` - public routes only, so transformers upgrades
    do not break them.
    """

    def __init__(self, *args, loss_fn: Optional[LiteDepthLoss] = None, distiller=None, **kwargs):
        kwargs.setdefault("data_collator", pad_collate)
        super().__init__(*args, **kwargs)
        cpu_layout(self.model, self.args.device)
        self.loss_fn = (loss_fn or LiteDepthLoss()).to(self.args.device)
        # frozen, eval-mode, no_grad teacher: each process keeps its own copy on its device
        self.distiller = distiller.to(self.args.device) if distiller is not None else None
        self._term_sums = defaultdict(float)
        self._term_steps = 0
        self.add_callback(LossStateCallback(self.loss_fn))

    def train(self, resume_from_checkpoint=None, *args, **kwargs):
        """As `Trainer.train`, and the loss weights of the checkpoint resumed from are restored first.
        `resumed_at_step` keeps that checkpoint's step (None from scratch): the Trainer's timings then cover only
        this last stretch, and the run's record says so."""
        checkpoint = resume_from_checkpoint
        if checkpoint is True or checkpoint == "True":
            checkpoint = get_last_checkpoint(self.args.output_dir)
        folder = Path(str(checkpoint)) if checkpoint else None
        state = folder / TRAINER_STATE_NAME if folder else None
        self.resumed_at_step = TrainerState.load_from_json(str(state)).global_step if state and state.is_file() else None
        path = folder / LOSS_STATE_FILE if folder else None
        if path is not None and path.is_file() and list(self.loss_fn.parameters()):
            from safetensors.torch import load_file

            self.loss_fn.load_state_dict({k: v.to(self.args.device) for k, v in load_file(str(path)).items()})
        return super().train(resume_from_checkpoint, *args, **kwargs)

    def create_optimizer(self, *args, **kwargs):
        optimizer = super().create_optimizer(*args, **kwargs)
        extra = [p for p in self.loss_fn.parameters() if p.requires_grad]
        known = {id(p) for group in optimizer.param_groups for p in group["params"]}
        if extra and not all(id(p) in known for p in extra):
            optimizer.add_param_group({"params": extra, "weight_decay": 0.0})
            # Trainer clears gradients with model.zero_grad(), which never reaches the loss module: without
            # this, the weights' gradients summed over all past steps (and a resumed run, starting from
            # none, drifted from the uninterrupted one)
            optimizer.register_step_post_hook(lambda *_: self.loss_fn.zero_grad(set_to_none=True))
        return optimizer

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs["labels"]
        distil = self.distiller is not None and model.training
        outputs = model(pixel_values=inputs["pixel_values"], output_size=tuple(labels.shape[-2:]),
                        output_hidden_states=distil, focal_length=inputs.get("focal_length"))
        loss, terms = self.loss_fn(outputs.predicted_depth, labels, inputs.get("intrinsics"))
        if distil:
            for name, value in self.distiller(inputs["pixel_values"], outputs.hidden_states,
                                              outputs.predicted_depth, labels).items():
                loss = loss + value
                terms[name] = value.detach()
        if model.training:
            for name, value in terms.items():
                self._term_sums[name] += float(value)
            self._term_steps += 1
        return (loss, outputs) if return_outputs else loss

    def training_step(self, model, inputs, *args, **kwargs):
        loss = super().training_step(model, inputs, *args, **kwargs)
        if self.args.world_size > 1:  # the loss weights live outside the DDP-wrapped model
            for parameter in self.loss_fn.parameters():
                if parameter.grad is not None:
                    parameter.grad = self.accelerator.reduce(parameter.grad, reduction="mean")
        return loss

    def log(self, logs, *args, **kwargs):
        if "loss" in logs and self._term_steps:
            for name, total in self._term_sums.items():
                logs[f"loss_{name}"] = round(total / self._term_steps, 6)
            if self.loss_fn.weighting == "dynamic":
                logs.update({f"weight_{name}": round(w, 6) for name, w in self.loss_fn.weights().items()})
            self._term_sums.clear()
            self._term_steps = 0
        super().log(logs, *args, **kwargs)


class LossStateCallback(TrainerCallback):
    """Writes the loss module's learnable weights into each checkpoint folder the Trainer has just saved."""

    def __init__(self, loss_fn: LiteDepthLoss):
        self.loss_fn = loss_fn

    def on_save(self, args, state, control, **kwargs):
        if list(self.loss_fn.parameters()) and state.is_world_process_zero:
            from safetensors.torch import save_file

            folder = Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
            if folder.is_dir():
                save_file({k: v.detach().cpu().contiguous() for k, v in self.loss_fn.state_dict().items()},
                          str(folder / LOSS_STATE_FILE))


class TimeBudgetCallback(TrainerCallback):
    """Ends training cleanly (the model is still saved) once `minutes` of training have passed or at step
    `stop_step`, whichever comes first, and prints the steady step rate (steps after the first 20, which
    carry start-up costs).

    Why: rented machines stop at a hard limit, and a run killed there keeps nothing; a run compared with
    another at equal samples stops where that one stopped. The learning rate still follows `max_steps`.
    """

    def __init__(self, minutes: Optional[float] = None, stop_step: Optional[int] = None):
        self.seconds = float(minutes) * 60.0 if minutes else float("inf")
        self.stop_step = stop_step
        self.start = self.mark = None
        self.mark_step = 20

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = time.monotonic()

    def on_step_end(self, args, state, control, **kwargs):
        now = time.monotonic()
        if state.global_step == self.mark_step:
            self.mark = now
        if self.start is not None and now - self.start > self.seconds and not control.should_training_stop:
            print(f"time budget of {self.seconds / 60:.1f} min reached at step {state.global_step}: stopping")
            control.should_training_stop = True
        if self.stop_step and state.global_step >= self.stop_step and not control.should_training_stop:
            print(f"stopping at step {state.global_step} (--stop_at_step) of a {state.max_steps}-step schedule")
            control.should_training_stop = True
        return control

    def on_train_end(self, args, state, control, **kwargs):
        if self.mark is not None and state.global_step > self.mark_step:
            rate = (state.global_step - self.mark_step) / max(time.monotonic() - self.mark, 1e-9)
            print(f"steady rate: {rate:.3f} steps/s")


def make_compute_metrics(runtime_ms: Optional[float] = None):
    """`compute_metrics` for Trainer, through the `evaluate` module shipped in the package."""
    import evaluate

    metric = evaluate.load(str(Path(__file__).parent / "depth_metric"))

    def compute_metrics(eval_prediction):
        predictions = eval_prediction.predictions
        predictions = predictions[0] if isinstance(predictions, (tuple, list)) else predictions
        labels = eval_prediction.label_ids  # Trainer pads with -100 across batches: <= 1 mm, so ignored
        return metric.compute(predictions=list(predictions), references=list(labels), runtime_ms=runtime_ms)

    return compute_metrics


def plot_training_curves(log_history: list, path: str) -> Optional[str]:
    """Loss terms, learning rate, learned weights and dev metrics against step, as one PNG (drawn on an Agg
    canvas of its own: matplotlib's global backend is left alone)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    series = defaultdict(list)
    for entry in log_history:
        for key, value in entry.items():
            if key != "step" and isinstance(value, (int, float)) and "step" in entry:
                series[key].append((entry["step"], value))
    panels = [
        ("training loss", [k for k in series if k == "loss" or k.startswith("loss_")]),
        ("learning rate", [k for k in series if k == "learning_rate"]),
        ("loss weights", [k for k in series if k.startswith("weight_")]),
        ("dev metrics", [k for k in series if k in ("eval_si_rmse", "eval_abs_rel", "eval_rmse", "eval_delta1")]),
    ]
    panels = [(title, keys) for title, keys in panels if keys]
    if not panels or max(len(series[k]) for _, keys in panels for k in keys) < 2:
        return None  # a run logged once (or never) has no curve to draw
    figure = Figure(figsize=(4.5 * len(panels), 4.2))
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(panels), squeeze=False)
    for axis, (title, keys) in zip(axes[0], panels):
        for key in keys:
            steps, values = zip(*series[key])
            axis.plot(steps, values, label=key.replace("eval_", ""), marker="o" if len(steps) < 30 else None,
                      markersize=3)
        axis.set_title(title)
        axis.set_xlabel("step")
        axis.xaxis.set_major_locator(MaxNLocator(5, integer=True))  # 5-digit step counts must not touch
        if title in ("training loss", "loss weights"):
            axis.set_yscale("log")
        if len(keys) > 1:  # below the axes, clear of the lines
            axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path
