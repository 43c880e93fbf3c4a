#!/usr/bin/env python
"""Train the embedded default checkpoint: a short, honest, from-scratch run on TUM fr1_rpy.

Plain PyTorch loop, SILog loss only, whole frames resized to 128x160 with random
horizontal flips; the GT stays at 480x640. Writes a `save_pretrained` folder.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from litedepth_hf import LiteDepthConfig, LiteDepthForDepthEstimation, LiteDepthImageProcessor
from litedepth_hf.data import example_arrays, load_depth_dataset


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-data", default="../shared/data/tum_fr1_rpy")
    parser.add_argument("--out", required=True, help="output folder (must not exist)")
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--max-depth", type=float, default=10.0, help="clamp of the output (Kinect: 10 m)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    out = Path(args.out)
    if out.exists():
        raise SystemExit(f"{out} exists; refusing to overwrite it")
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    processor = LiteDepthImageProcessor()
    dataset = load_depth_dataset(args.train_data)
    pixels, depths = [], []
    for example in tqdm(dataset, desc="loading"):
        rgb, depth, _ = example_arrays(example)
        pixels.append(processor(rgb, return_tensors="pt")["pixel_values"][0])
        depths.append(torch.from_numpy(depth))
    pixels, depths = torch.stack(pixels), torch.stack(depths)

    model = LiteDepthForDepthEstimation(LiteDepthConfig(max_depth=args.max_depth)).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, eps=1e-3)
    steps_per_epoch = len(pixels) // args.batch_size
    total = steps_per_epoch * args.epochs
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.lr, total_steps=total, pct_start=0.05)
    start, history = time.time(), []
    with tqdm(total=total, desc="training") as bar:
        for epoch in range(args.epochs):
            order = rng.permutation(len(pixels))
            for step in range(steps_per_epoch):
                index = torch.from_numpy(order[step * args.batch_size : (step + 1) * args.batch_size])
                x, y = pixels[index], depths[index]
                if rng.random() < 0.5:
                    x, y = x.flip(-1), y.flip(-1)
                loss = model(x, labels=y).loss
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 35.0)
                optimizer.step()
                schedule.step()
                history.append(loss.item())
                bar.update()
                bar.set_postfix(epoch=epoch, silog=f"{np.mean(history[-steps_per_epoch:]):.4f}")
    model.eval().save_pretrained(out)
    processor.save_pretrained(out)
    record = {
        "train_data": str(args.train_data),
        "images": len(pixels),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "loss": "SILog (0.15 variance focus)",
        "augmentation": "horizontal flip",
        "wall_time_s": round(time.time() - start, 1),
        "final_epoch_silog": float(np.mean(history[-steps_per_epoch:])),
        "torch_threads": torch.get_num_threads(),
    }
    (out / "training_run.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
