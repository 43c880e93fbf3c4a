#!/usr/bin/env python
"""Train LiteDepth on RGB-D data with 🤗 Trainer: `litedepth train ...`, or `accelerate launch scripts/train.py ...`
for several processes (the same code).

All `transformers.TrainingArguments` flags work. Defaults come from recipe files, read in order before the
command line (the last value wins): `recipes/default.args` (the paper's recipe, plus camera-aware depth), then
`--recipe NAME` (a file of `litedepth_hf/recipes/`, e.g. `litedepth-synth`, the shipped checkpoint's) or a path:

  accelerate launch scripts/train.py --train_data ../shared/data/tum_fr1_rpy \\
      --eval_data ../shared/data/tum_fr3_cabinet --output_dir runs/litedepth \\
      --num_train_epochs 150 --per_device_train_batch_size 8

Two CPU processes: `accelerate launch --multi_gpu --num_processes 2 scripts/train.py ...` (accelerate's
own `--cpu` flag starts a single process unless MPI is configured with --mpirun_hostfile).

The output folder ends with the model (safetensors + config + image processor), metrics,
a training-curve PNG and tensorboard logs; checkpoints resume with --resume_from_checkpoint.
"""

import argparse
import inspect
import json
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from PIL import Image
from transformers import HfArgumentParser, PretrainedConfig, TrainingArguments, set_seed

from litedepth_hf import LiteDepthConfig, LiteDepthForDepthEstimation, LiteDepthImageProcessor
from litedepth_hf.augmentation import AugmentConfig
from litedepth_hf.data import describe_source, expand_sources, is_rendered, load_depth_dataset
from litedepth_hf.losses import LOSS_TERMS, LiteDepthLoss
from litedepth_hf.training import (
    LiteDepthTrainer,
    RGBDDataset,
    TimeBudgetCallback,
    make_compute_metrics,
    plot_training_curves,
)


@dataclass
class ScriptArguments:
    train_data: list[str] = field(metadata={
        "help": "training sources: manifest folders (e.g. `litedepth synth` output), rgb/+depth/ folders or Hub "
                "dataset ids; several, comma-separated or repeated, and globs ('renders/shard*')"})
    train_mix: Optional[str] = field(default=None, metadata={
        "help": "share of every epoch per source by folder name, e.g. 'synth=0.8,tum_fr1_rpy=0.2' (default: equal)"})
    epoch_size: Optional[int] = field(default=None, metadata={
        "help": "training samples per epoch (default: the frames of all sources together)"})
    restyle_from: Optional[str] = field(default=None, metadata={
        "help": "match the colours of rendered sources (`litedepth synth` folders) to this folder's frames"})
    decoded_cache: str = field(default=str(Path(os.environ.get("LITEDEPTH_CACHE", "~/.cache/litedepth")) / "decoded"), metadata={
        "help": "folder for memory-mapped decoded frames, keyed by file content ('none': decode into RAM)"})
    eval_data: Optional[str] = field(default=None, metadata={"help": "dev set, same forms (metrics each eval)"})
    depth_scale: Optional[float] = field(
        default=None, metadata={"help": "stored depth per metre for folders without meta.json (MAI mm: 1000)"})
    model_name_or_path: Optional[str] = field(
        default=None, metadata={"help": "start from this checkpoint (folder or Hub id) instead of scratch"})
    config: Optional[str] = field(
        default=None, metadata={"help": "LiteDepthConfig JSON file or inline JSON for a new model (default: the paper's architecture)"})
    losses: str = field(default="silog,gradient,virtual_normal,robust",
                        metadata={"help": f"comma-separated loss terms from {list(LOSS_TERMS)}"})
    loss_weighting: Optional[str] = field(default=None, metadata={
        "help": "dynamic (the paper's uncertainty weighting) or fixed (the initial weights 1/0.25/2.5/0.6)"})
    crop: Optional[str] = field(default=None, metadata={"help": "r2 (random resolution crop) or fixed (whole frame)"})
    augment: Optional[str] = field(default=None, metadata={
        "help": "photometric jitter: paper, or strong (+ contrast, grey)"})
    camera_model: bool = field(default=False, metadata={
        "help": "rendered sources only: a fresh photographic camera model per sample (sensor noise, defocus and "
                "motion blur, vignetting, chromatic aberration, white balance, tone curve, JPEG)"})
    max_depth: Optional[float] = field(default=None, metadata={
        "help": "output clamp for a new model, metres (default: LiteDepthConfig's, 10)"})
    canonical_focal_length: Optional[float] = field(default=None, metadata={
        "help": "a new model predicts depth for this camera (f_x / W; 0.866 = 60-degree view) and is scaled to each "
                "training frame's own intrinsics, so it learns metric depth across lenses; 0: not camera-aware"})
    lr_floor_ratio: float = field(default=1e-3, metadata={"help": "poly decay ends at lr x this"})
    cache_decoded: bool = field(default=True, metadata={"help": "with --decoded_cache none: keep decoded frames in RAM"})
    max_train_samples: Optional[int] = field(default=None, metadata={"help": "use only the first N training pairs"})
    teacher_name_or_path: Optional[str] = field(
        default=None, metadata={"help": "distil from this frozen depth model (LiteDepth, DPT, Depth Anything)"})
    distill_weight: float = field(default=10.0, metadata={"help": "weight of the affinity distillation loss"})
    distill_levels: str = field(default="0,2,3", metadata={"help": "decoder levels to distil: 0=1/32 .. 3=1/4"})
    response_weight: float = field(default=0.0, metadata={"help": "weight of the loss on the teacher's depth"})
    time_budget_minutes: Optional[float] = field(default=None, metadata={
        "help": "stop (and save) after this many minutes of training, e.g. on a machine with a hard time limit"})
    stop_at_step: Optional[int] = field(default=None, metadata={
        "help": "stop (and save) at this step while the learning rate still follows --max_steps: a run scored at a "
                "fixed number of samples on a longer schedule (the default's was cut at 12,800 of 14,000)"})


RECORDED = ("num_train_epochs", "max_steps", "per_device_train_batch_size", "learning_rate", "weight_decay", "warmup_steps",
            "lr_scheduler_type", "max_grad_norm", "seed")
"""Training arguments written to training_run.json beside the script's own, so a run can be repeated."""

RECIPES = Path(__file__).parent / "recipes"
"""Named recipes (`--recipe NAME` reads NAME.args); `default.args` is read first, always."""

TRAINER_SETTINGS = {  # how a run is kept and logged, not what it learns: the hyperparameters are in the recipes
    "logging_steps": 20,
    "save_strategy": "epoch",
    "save_total_limit": 2,
    "report_to": "tensorboard",
    "remove_unused_columns": False,
    "dataloader_pin_memory": torch.cuda.is_available(),
    "ddp_find_unused_parameters": False,
    # without an accelerator, say so: two `accelerate launch --multi_gpu` processes then form a gloo CPU group
    "use_cpu": not (torch.cuda.is_available() or torch.backends.mps.is_available()),
}


COMMON_TRAINER_FLAGS = ("output_dir", "max_steps", "num_train_epochs", "per_device_train_batch_size", "learning_rate",
                        "warmup_steps", "weight_decay", "seed", "resume_from_checkpoint", "save_strategy",
                        "logging_steps", "dataloader_num_workers", "report_to", "push_to_hub", "hub_model_id")


def read_recipe(name: str) -> list:
    """A recipe's arguments: a file of `RECIPES` by name, or a path; `#` starts a comment."""
    path = RECIPES / f"{name}.args" if (RECIPES / f"{name}.args").is_file() else Path(name)
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in RECIPES.glob("*.args")))
        raise SystemExit(f"--recipe {name}: neither a shipped recipe ({known}) nor a file")
    return [token for line in path.read_text().splitlines() for token in line.split("#", 1)[0].split()]


def split_recipes(args: list) -> tuple:
    """(the arguments of default.args and of every `--recipe` in `args`, in order; the `--recipe` names; the rest).
    Read here, not by the Trainer's parser: transformers' own args_file_flag parser takes --help."""
    finder = argparse.ArgumentParser(add_help=False)
    finder.add_argument("--recipe", action="append", default=[])
    known, rest = finder.parse_known_args(args)
    return read_recipe("default") + [token for name in known.recipe for token in read_recipe(name)], known.recipe, rest


def _effective_defaults(recipe_args: list) -> tuple:
    """(script defaults, trainer defaults) as `litedepth train` sees them: dataclass, settings and recipes."""
    parser = HfArgumentParser((ScriptArguments, TrainingArguments))
    parser.set_defaults(**TRAINER_SETTINGS)
    parsed = parser.parse_args_into_dataclasses(args=recipe_args + ["--train_data", "-", "--output_dir", "-"],
                                                return_remaining_strings=True)
    return vars(parsed[0]), vars(parsed[1])


def short_help(args=()) -> str:
    """Our flags and the Trainer flags people use, instead of the ~700 lines of every TrainingArguments field;
    the defaults shown are those of default.args and the `--recipe`s among `args`."""
    from dataclasses import MISSING, fields

    recipe_args, names, _ = split_recipes(list(args))
    script_defaults, trainer_defaults = _effective_defaults(recipe_args)

    lines = ["usage: litedepth train --train_data DATA --output_dir DIR [options]",
             "       accelerate launch scripts/train.py ... (several processes; the same flags)", "",
             (__doc__ or "").split("\n\n", 1)[-1].split("\n\nThe output folder")[0].strip(), "", "LiteDepth options:"]
    for item in fields(ScriptArguments):
        value = script_defaults.get(item.name)
        default = " (required)" if item.default is MISSING and item.default_factory is MISSING else \
            f" (default {value})" if value is not None else ""
        lines.append(f"  --{item.name:24s} {item.metadata.get('help', '')}{default}")
    recipes = ", ".join(sorted(p.stem for p in RECIPES.glob("*.args") if p.stem != "default"))
    lines.append(f"  --recipe {'NAME|FILE':17s} read after default.args, before the command line ({recipes}, or a path)")
    lines += ["", "Common Trainer options (defaults from recipes/default.args where it sets them):"]
    trainer_fields = {f.name: f for f in fields(TrainingArguments)}
    for name in COMMON_TRAINER_FLAGS:
        if name in trainer_fields:
            default = "required" if name == "output_dir" else \
                f"default {trainer_defaults.get(name, trainer_fields[name].default)}"
            help_text = (trainer_fields[name].metadata.get("help") or "").split(". ")[0].strip()
            lines.append(f"  --{name:24s} {help_text[:90]} ({default})")
    lines += ["", "--help-all lists every TrainingArguments flag."]
    if names:
        lines += ["", f"(defaults above include --recipe {' --recipe '.join(names)})"]
    return "\n".join(lines)


def parse_args(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    if "-h" in args or "--help" in args:
        print(short_help(args))
        raise SystemExit(0)
    if "--help-all" in args:
        args = ["--help"]
    parser = HfArgumentParser((ScriptArguments, TrainingArguments))
    parser.set_defaults(**TRAINER_SETTINGS)
    if "overwrite_output_dir" not in TrainingArguments.__dataclass_fields__:  # gone in transformers 5
        parser.add_argument("--overwrite_output_dir", action="store_true",
                            help="allow writing into a non-empty --output_dir")
    parser.add_argument("--recipe", action="append", metavar="NAME|FILE",
                        help="arguments read after recipes/default.args and before these: a shipped recipe "
                        "(litedepth-synth) or a file; repeat to layer several")
    from_files, _, rest = split_recipes(args)
    given = {"--" + token[2:].split("=", 1)[0].replace("-", "_") for token in from_files + rest if token.startswith("--")}
    # a prefix counts too: argparse takes --output for --output_dir
    missing = [flag for flag in ("--train_data", "--output_dir") if not any(len(g) > 3 and flag.startswith(g) for g in given)]
    if missing and "--help" not in args:  # one line, not the Trainer's 130-line usage (--help-all arrives as --help)
        raise SystemExit(f"litedepth train: {' and '.join(missing)} required (litedepth train --help)")
    parsed = parser.parse_args_into_dataclasses(args=from_files + rest)  # the command line comes last and wins
    script_args, training_args = parsed[0], parsed[1]
    overwrite = getattr(training_args, "overwrite_output_dir", False) or any(
        getattr(extra, "overwrite_output_dir", False) for extra in parsed[2:])
    return script_args, training_args, overwrite


def build_model(script_args):
    if script_args.model_name_or_path:
        return LiteDepthForDepthEstimation.from_pretrained(script_args.model_name_or_path)
    kwargs = {"canonical_focal_length": script_args.canonical_focal_length or None}
    if script_args.max_depth is not None:
        kwargs["max_depth"] = script_args.max_depth
    if script_args.config:
        text = Path(script_args.config).read_text() if Path(script_args.config).is_file() else script_args.config
        try:
            given = json.loads(text)
        except json.JSONDecodeError as error:
            raise SystemExit(f"--config is neither a JSON file nor inline JSON: {error}")
        if not isinstance(given, dict):
            raise SystemExit(f"--config must be a JSON object of LiteDepthConfig fields, got {type(given).__name__}")
        default = LiteDepthConfig()  # a saved config.json (auto_map, model_type, ...) is a valid --config too
        known = set(inspect.signature(LiteDepthConfig.__init__).parameters) | {k for k in given if hasattr(default, k)}
        known |= set(inspect.signature(PretrainedConfig.__init__).parameters)
        known |= {"auto_map", "model_type", "transformers_version", "architectures", "torch_dtype", "dtype",
                  "attn_implementation", "name_or_path"}
        unknown = sorted(set(given) - known)
        if unknown:  # a misspelt field would otherwise be stored and ignored: the default model trains silently
            raise SystemExit(f"--config: unknown LiteDepthConfig field(s) {', '.join(unknown)}")
        kwargs.update(given)
    return LiteDepthForDepthEstimation(LiteDepthConfig(**kwargs))


def parse_mix(text: Optional[str], names: list) -> list:
    """'a=0.8,b=0.2' -> weights in the order of `names`; unnamed sources get 0, unknown names are an error."""
    if not text:
        return [1.0] * len(names)
    weights = dict.fromkeys(names, 0.0)
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, _, value = part.partition("=")
        if name.strip() not in weights:
            raise SystemExit(f"--train_mix names {name.strip()!r}, which is not a training source; sources: {names}")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            raise SystemExit(f"--train_mix needs NAME=WEIGHT pairs, got {part!r}") from None
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise SystemExit(f"--train_mix weights must be >= 0 and not all 0, got {text!r}")
    return [weights[n] for n in names]


def build_train_set(script_args, augment_config, common: dict, distributed: bool):
    """One source as is, several as a `MixtureDataset`; frames from the decoded cache unless it is 'none'."""
    from litedepth_hf.data import DecodedFrames, source_name
    from litedepth_hf.training import MixtureDataset

    try:  # every source is found before the first is decoded
        sources = expand_sources(script_args.train_data)
        names = [source_name(s) for s in sources]
        weights = parse_mix(script_args.train_mix, names)
        loaded = [load_depth_dataset(source, script_args.depth_scale) for source in sources]
        restyle = load_depth_dataset(script_args.restyle_from) if script_args.restyle_from else None
    except (ValueError, OSError) as error:
        raise SystemExit(f"litedepth train: {error}") from None
    references = None
    if restyle is not None:
        from litedepth_hf.data import example_arrays

        references = [np.asarray(Image.fromarray(example_arrays(row)[0]).resize((160, 120), Image.BILINEAR))
                      for row in restyle]
    sets = []
    for source, data in zip(sources, loaded):
        if script_args.max_train_samples:
            data = data.select(range(min(script_args.max_train_samples, len(data))))
        store = None
        if script_args.decoded_cache.lower() != "none":
            store = DecodedFrames(data, Path(script_args.decoded_cache).expanduser(), progress=not distributed)
        rendered = is_rendered(source)
        config = replace(augment_config, camera_model=script_args.camera_model and rendered)
        sets.append(RGBDDataset(data, train=True, augment_config=config, decoded_store=store,
                                        restyle_references=references if rendered else None, **common))
    if len(sets) == 1 and not script_args.epoch_size:
        return sets[0]
    mixture = MixtureDataset(sets, weights, script_args.epoch_size)
    print("training mix per epoch: " + ", ".join(f"{n} {c} ({c / len(mixture):.0%})" for n, c in zip(names, mixture.counts)))
    return mixture


def main(argv=None):
    from litedepth_hf import register

    register()  # under the `litedepth` command registration is deferred; saved models must carry their auto_map
    script_args, training_args, overwrite = parse_args(argv)
    output_dir = Path(training_args.output_dir)
    if output_dir.is_dir() and any(output_dir.iterdir()) and not training_args.resume_from_checkpoint and not overwrite:
        raise SystemExit(f"{output_dir} is not empty: pass --resume_from_checkpoint, --overwrite_output_dir, "
                         "or another --output_dir (nothing was changed)")
    if training_args.max_steps > 0 and training_args.warmup_steps >= training_args.max_steps:
        # a fine-tune shorter than its warm-up would never reach its learning rate: warm up for a tenth instead
        scaled = max(1, training_args.max_steps // 10)
        print(f"note: --warmup_steps {training_args.warmup_steps} >= --max_steps {training_args.max_steps}: the learning "
              f"rate would never reach {training_args.learning_rate:g}; warming up for {scaled} steps instead",
              file=sys.stderr)
        training_args.warmup_steps = scaled
    if training_args.lr_scheduler_type == "polynomial" and not training_args.lr_scheduler_kwargs:
        training_args.lr_scheduler_kwargs = {"lr_end": training_args.learning_rate * script_args.lr_floor_ratio,
                                             "power": 1.0}
    # --push_to_hub ends in the same repo as `litedepth push` (card, remote code, sample), in one commit
    # after training, rather than Trainer's own card and per-checkpoint pushes.
    push_to_hub, training_args.push_to_hub = training_args.push_to_hub, False
    if push_to_hub and not training_args.hub_model_id:
        raise SystemExit("--push_to_hub needs --hub_model_id ORG/NAME")
    set_seed(training_args.seed)

    model = build_model(script_args)
    processor = LiteDepthImageProcessor(size={"height": model.config.image_size[0], "width": model.config.image_size[1]})
    if script_args.augment not in ("paper", "strong"):
        raise SystemExit(f"--augment must be paper or strong, got {script_args.augment!r}")
    make_config = AugmentConfig.strong if script_args.augment == "strong" else AugmentConfig
    augment_config = make_config(crop=script_args.crop, input_size=tuple(model.config.image_size))
    common = {"cache": script_args.cache_decoded, "image_mean": processor.image_mean,
              "image_std": processor.image_std, "input_size": tuple(model.config.image_size)}
    # everything a typo can break is read before the training frames are decoded (minutes on 12,000 renders)
    try:
        loss_fn = LiteDepthLoss(terms=[t.strip() for t in script_args.losses.split(",") if t.strip()],
                                weighting=script_args.loss_weighting)
        try:
            levels = [int(level) for level in script_args.distill_levels.split(",") if level.strip()]
        except ValueError:
            levels = script_args.distill_levels
            raise ValueError(f"--distill_levels must be comma-separated integers, got {levels!r}") from None
        eval_data = load_depth_dataset(script_args.eval_data, script_args.depth_scale) \
            if script_args.eval_data else None
    except (ValueError, OSError) as error:
        raise SystemExit(f"litedepth train: {error}") from None
    with training_args.main_process_first(desc="decoding training frames"):  # one process fills the cache
        train_set = build_train_set(script_args, augment_config, common, training_args.world_size > 1)
    eval_set = None
    if eval_data is not None:
        eval_set = RGBDDataset(eval_data, train=False, **common)
    elif training_args.eval_strategy != "no":
        training_args.eval_strategy = "no"

    distiller = None
    if script_args.teacher_name_or_path:
        from litedepth_hf.distillation import Distiller, Teacher

        teacher = Teacher.from_pretrained(script_args.teacher_name_or_path, student_processor=processor)
        distiller = Distiller(teacher, script_args.distill_weight, levels, script_args.response_weight)
    trainer = LiteDepthTrainer(
        model=model,
        args=training_args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        loss_fn=loss_fn,
        distiller=distiller,
        compute_metrics=make_compute_metrics() if eval_set is not None else None,
        processing_class=processor,
    )
    if script_args.time_budget_minutes or script_args.stop_at_step:
        trainer.add_callback(TimeBudgetCallback(script_args.time_budget_minutes, script_args.stop_at_step))
    result = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model()
    metrics = dict(result.metrics)
    if eval_set is not None:
        metrics.update(trainer.evaluate())
        if trainer.is_world_process_zero():
            write_eval_results(output_dir, script_args.eval_data, metrics)
    if trainer.is_world_process_zero():
        run = {"script_args": vars(script_args), "training_args": {k: getattr(training_args, k) for k in RECORDED},
               "data_sources": [describe_source(s) for s in expand_sources(script_args.train_data)],
               "metrics": metrics, "num_processes": training_args.world_size, "hardware": hardware(training_args),
               "log_history": trainer.state.log_history}
        if trainer.resumed_at_step is not None:  # its timings cover the last stretch only
            run["resumed_at_step"] = trainer.resumed_at_step
        (output_dir / "training_run.json").write_text(json.dumps(run, indent=2, default=str) + "\n")
        curve = plot_training_curves(trainer.state.log_history, str(output_dir / "training_curves.png"))
        print(json.dumps(metrics, indent=2))
        print(f"model, training_run.json{', training_curves.png' if curve else ''} in {output_dir}")
    if push_to_hub and trainer.is_world_process_zero():
        from litedepth_hf.hub import push

        evaluation = output_dir / "eval_results.json"
        result = push(output_dir, training_args.hub_model_id, private=bool(training_args.hub_private_repo),
                      token=training_args.hub_token, eval_results=evaluation if evaluation.is_file() else None)
        print(f"pushed {len(result['files'])} files to {training_args.hub_model_id}")
    return 0


def hardware(training_args) -> str:
    """What the run trained on, for the model card ("NVIDIA H200", "CPU, 2 cores")."""
    if training_args.device.type == "cuda":
        return torch.cuda.get_device_name(training_args.device)
    return f"CPU, {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} cores"


def write_eval_results(output_dir: Path, data: str, metrics: dict):
    """The final dev metrics in `scripts/evaluate_dev.py`'s format, which model cards read."""
    row = {k.removeprefix("eval_"): v for k, v in metrics.items() if k.startswith("eval_")}
    record = {"data": data, "results": {str(output_dir): row}}
    (output_dir / "eval_results.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
