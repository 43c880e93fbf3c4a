#!/usr/bin/env python
"""Training throughput (images/s) on this machine: full LiteDepth steps, by where frames come from.

A step is what `LiteDepthTrainer` does: R2-crop augmentation, collate, forward (channels_last on a
CPU), the four losses at GT resolution, backward, AdamW. Rows: frames decoded from PNG/JPEG at every
access (a set too large to keep decoded in RAM, as before the cache), decoded once into RAM, and read
from the memory-mapped decoded-frame cache (`data.DecodedFrames`, what scripts/train.py uses) - each
with batches built between steps - and the cache feeding the step from DataLoader workers, as the
Trainer does. `--teacher DIR` adds the distillation cost. Prints a Markdown table.
"""

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch

from litedepth_cli import quiet_import_noise

quiet_import_noise()  # before the library's import pulls in transformers (and torchao where installed)
from litedepth_hf import LiteDepthConfig, LiteDepthForDepthEstimation  # noqa: E402
from litedepth_hf.data import load_depth_dataset  # noqa: E402
from litedepth_hf.losses import LiteDepthLoss  # noqa: E402
from litedepth_hf.training import RGBDDataset, cpu_layout, pad_collate  # noqa: E402


def inline_batches(dataset, batch_size):
    """Batches built in this process, between steps: augmentation time adds to the step."""
    step = 0
    while True:
        yield pad_collate([dataset[(step * batch_size + i) % len(dataset)] for i in range(batch_size)])
        step += 1


def loader_batches(dataset, batch_size, workers):
    """Batches from a DataLoader with worker processes, as `Trainer` builds them for train.py."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, collate_fn=pad_collate,
                                         num_workers=workers, persistent_workers=workers > 0)
    while True:
        yield from loader


def measure(model, loss_fn, batches, batch_size, steps, distiller=None, device="cpu", bf16=False,
            compiled=False) -> float:
    cpu_layout(model.to(device), device).train()  # as LiteDepthTrainer lays it out
    optimizer = torch.optim.AdamW(list(model.parameters()) + list(loss_fn.parameters()), lr=1e-3, eps=1e-3)
    forward = torch.compile(model) if compiled else model
    times = []
    for step in range(steps + 2):  # two warm-up steps
        start = time.perf_counter()
        batch = next(batches)
        batch = {k: v.to(device) for k, v in batch.items()}
        with torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=bf16):
            out = forward(batch["pixel_values"], output_size=batch["labels"].shape[-2:],
                          output_hidden_states=distiller is not None)
        loss, _ = loss_fn(out.predicted_depth.float(), batch["labels"], batch["intrinsics"])
        if distiller is not None:
            loss = loss + sum(distiller(batch["pixel_values"], out.hidden_states, out.predicted_depth,
                                        batch["labels"]).values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if step >= 2:
            times.append(time.perf_counter() - start)
    return batch_size / statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "tum_fr1_rpy"),
                        help="a training folder (default: the project's tum_fr1_rpy)")
    parser.add_argument("--cache", default=None, help="decoded-frame cache folder (default: a temporary one)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--max-frames", type=int, default=256, help="frames of --data used (default 256)")
    parser.add_argument("--teacher", default=None, help="a saved depth model to distil from")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--workers", type=int, default=1, help="DataLoader workers of the last row (default 1)")
    parser.add_argument("--camera-model", action="store_true",
                        help="the photographic camera model on every sample, as the shipped recipe trains renders")
    parser.add_argument("--variants", action="store_true",
                        help="also: bf16 autocast and torch.compile of the model (batches from the decoded cache)")
    parser.add_argument("--recipe", default="default", choices=["default", "litedepth-synth"],
                        help="augmentation of the rows: default (R2 crops, paper jitter) or the shipped recipe's "
                        "(whole frames, strong jitter)")
    args = parser.parse_args()

    import tempfile

    from litedepth_hf.data import DecodedFrames

    torch.manual_seed(0)
    data = load_depth_dataset(args.data)
    data = data.select(range(min(len(data), args.max_frames)))
    from litedepth_hf.augmentation import AugmentConfig

    shipped = args.recipe == "litedepth-synth"
    augment = (AugmentConfig.strong(crop="fixed", camera_model=args.camera_model) if shipped
               else AugmentConfig(camera_model=args.camera_model))
    uncached = RGBDDataset(data, train=True, cache=False, augment_config=augment)
    in_ram = RGBDDataset(data, train=True, augment_config=augment)
    for index in range(len(in_ram)):
        in_ram.decoded(index)  # decode once, as the in-RAM cache does after epoch 1
    with tempfile.TemporaryDirectory() as scratch:
        store = DecodedFrames(data, args.cache or scratch, progress=False)
        mapped = RGBDDataset(data, train=True, decoded_store=store, augment_config=augment)
        rows = []
        settings = [("frames decoded at every access (no cache), batches built between steps",
                     inline_batches(uncached, args.batch_size)),
                    ("frames decoded once into RAM, batches built between steps", inline_batches(in_ram, args.batch_size)),
                    ("memory-mapped decoded cache, batches built between steps", inline_batches(mapped, args.batch_size)),
                    (f"memory-mapped decoded cache, {args.workers} DataLoader worker(s) beside the step (train.py)",
                     loader_batches(mapped, args.batch_size, args.workers))]
        weighting = "fixed" if shipped else "dynamic"
        for label, batches in settings:
            model = LiteDepthForDepthEstimation(LiteDepthConfig())
            rate = measure(model, LiteDepthLoss(weighting=weighting).to(args.device), batches, args.batch_size,
                           args.steps, device=args.device)
            rows.append((f"LiteDepth, 4 losses, {label}", rate))
        if args.variants:
            for label, options in (("bf16 autocast", {"bf16": True}), ("torch.compile", {"compiled": True})):
                model = LiteDepthForDepthEstimation(LiteDepthConfig())
                rate = measure(model, LiteDepthLoss(weighting=weighting).to(args.device),
                               inline_batches(mapped, args.batch_size), args.batch_size, args.steps,
                               device=args.device, **options)
                rows.append((f"+ {label} (memory-mapped cache, batches built between steps)", rate))
        if args.teacher:
            from litedepth_hf.distillation import Distiller, Teacher

            distiller = Distiller(Teacher.from_pretrained(args.teacher)).to(args.device)
            model = LiteDepthForDepthEstimation(LiteDepthConfig())
            rows.append((f"+ distillation from {args.teacher}", measure(
                model, LiteDepthLoss(weighting="dynamic").to(args.device), inline_batches(mapped, args.batch_size),
                args.batch_size, args.steps,
                distiller, args.device)))
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, device "
          f"{args.device}, batch {args.batch_size}, median of {args.steps} steps, {args.recipe} recipe's "
          f"augmentation{' + camera model' if args.camera_model else ''} of {args.data}\n")
    print("| setting | images/s |\n|---|---|")
    for name, rate in rows:
        print(f"| {name} | {rate:.1f} |")


if __name__ == "__main__":
    main()
