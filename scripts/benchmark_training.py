#!/usr/bin/env python
"""Training throughput (images/s) on this machine: full LiteDepth steps on real frames, with and without a teacher.

A step is what `LiteDepthTrainer` does: R2-crop augmentation, collate, forward, the four losses at
GT resolution, backward, Adam. Prints a Markdown table; `--teacher DIR` adds the distillation cost.
"""

import argparse
import platform
import statistics
import time

import torch

from litedepth_hf import LiteDepthConfig, LiteDepthForDepthEstimation
from litedepth_hf.augmentation import pad_collate
from litedepth_hf.data import load_depth_dataset
from litedepth_hf.losses import LiteDepthLoss
from litedepth_hf.training import RGBDTrainingDataset


def measure(model, loss_fn, dataset, batch_size, steps, distiller=None, device="cpu") -> float:
    model.to(device).train()
    optimizer = torch.optim.Adam(list(model.parameters()) + list(loss_fn.parameters()), lr=1e-3, eps=1e-3)
    times = []
    for step in range(steps + 2):  # two warm-up steps
        start = time.perf_counter()
        batch = pad_collate([dataset[(step * batch_size + i) % len(dataset)] for i in range(batch_size)])
        batch = {k: v.to(device) for k, v in batch.items()}
        out = model(batch["pixel_values"], output_size=batch["labels"].shape[-2:],
                    output_hidden_states=distiller is not None)
        loss, _ = loss_fn(out.predicted_depth, batch["labels"], batch["intrinsics"])
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
    parser.add_argument("--data", default="../shared/data/tum_fr1_rpy")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--teacher", default=None, help="a saved depth model to distil from")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    torch.manual_seed(0)
    dataset = RGBDTrainingDataset(load_depth_dataset(args.data), train=True)
    for index in range(len(dataset)):
        dataset.decoded(index)  # decode once, as the Trainer's cache does after epoch 1
    rows = []
    model = LiteDepthForDepthEstimation(LiteDepthConfig())
    rows.append(("LiteDepth, 4 losses (dynamic)", measure(model, LiteDepthLoss(weighting="dynamic").to(args.device),
                                                         dataset, args.batch_size, args.steps, device=args.device)))
    if args.teacher:
        from litedepth_hf.distillation import Distiller, Teacher

        distiller = Distiller(Teacher.from_pretrained(args.teacher)).to(args.device)
        model = LiteDepthForDepthEstimation(LiteDepthConfig())
        rows.append((f"+ distillation from {args.teacher}", measure(
            model, LiteDepthLoss(weighting="dynamic").to(args.device), dataset, args.batch_size, args.steps,
            distiller, args.device)))
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, device "
          f"{args.device}, batch {args.batch_size}, median of {args.steps} steps, R2 crops of {args.data}\n")
    print("| setting | images/s |\n|---|---|")
    for name, rate in rows:
        print(f"| {name} | {rate:.1f} |")


if __name__ == "__main__":
    main()
