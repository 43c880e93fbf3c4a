"""Write a smaller copy of an RGB-D manifest folder: every k-th frame, at a lower resolution.

Why: a training machine elsewhere (a rented GPU, a CI box) often takes a size-limited upload,
and LiteDepth sees 128x160 pixels anyway. 20,000 renders at 240x320 take 3.6 GB; the same
frames at 120x160 (JPEG colour, depth in millimetres) take about 20 KB each.

The copy has the layout every loader reads (rgb/, depth/, manifest.csv with per-row
intrinsics, meta.json). Depth is subsampled (every f-th pixel, no interpolation, so every
value is a real GT value and zeros stay zeros), colour is box-filtered to the same grid, and
intrinsics follow the subsampling: f' = f / k, c' = c / k with pixel centres at integers.

    python scripts/shrink_dataset.py ~/.cache/litedepth/synth/s0-240x320-spp8-direct packed --factor 2 --num 2600
"""

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from litedepth_cli import quiet_import_noise

quiet_import_noise()  # before the library's import pulls in transformers (and torchao where installed)
from litedepth_hf.data import depth_in_metres  # noqa: E402


def shrink(source: Path, out: Path, factor: int, num: int, depth_scale: float, quality: int) -> dict:
    meta = json.loads((source / "meta.json").read_text())
    with open(source / "manifest.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise SystemExit(f"{source}/manifest.csv lists no frames")
    step = max(1, len(rows) // num) if num else 1
    rows = rows[::step][: num or None]
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} is not empty: choose a new folder (nothing there is overwritten)")
    for sub in ("rgb", "depth"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    written = []
    for row in tqdm(rows, desc=f"shrinking {source.name} by {factor}", unit="frame"):
        with Image.open(source / row["rgb"]) as image:
            rgb = image.convert("RGB")
        with Image.open(source / row["depth"]) as image:
            depth = depth_in_metres(image, float(meta["depth_scale"]))
        # whole factor x factor cells only: a crop past an odd edge would pad the colour with black
        height, width = depth.shape[0] // factor, depth.shape[1] // factor
        depth = depth[: height * factor : factor, : width * factor : factor]
        # box filter over each cell: the colour of the area whose centre the depth sample sits near
        rgb = rgb.crop((0, 0, width * factor, height * factor)).reduce(factor)
        stored = np.clip(np.round(depth * depth_scale), 0, 65535).astype(np.uint16)
        frame = row.get("id") or Path(row["rgb"]).stem  # as the loaders name a row without an id
        rgb.save(out / "rgb" / f"{frame}.jpg", quality=quality)
        Image.fromarray(stored).save(out / "depth" / f"{frame}.png", optimize=True)
        new = dict(row, rgb=f"rgb/{frame}.jpg", depth=f"depth/{frame}.png")
        for key in ("fx", "fy", "cx", "cy"):
            if row.get(key):
                new[key] = f"{float(row[key]) / factor:.4f}"
        written.append(new)
    with open(out / "manifest.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(written[0]))
        writer.writeheader()
        writer.writerows(written)
    meta.update(depth_scale=float(depth_scale), num_pairs=len(written),
                width=width, height=height,
                shrunk_from={"source": str(source), "factor": factor, "every": step, "jpeg_quality": quality})
    for key in ("fx", "fy", "cx", "cy"):
        if isinstance(meta.get(key), (int, float)):
            meta[key] = meta[key] / factor
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    return {"frames": len(written), "bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="manifest folder (manifest.csv + meta.json)")
    parser.add_argument("out", type=Path, help="new folder for the copy")
    parser.add_argument("--factor", type=int, default=2, help="keep every k-th pixel in each direction (default 2)")
    parser.add_argument("--num", type=int, default=0, help="frames to keep, evenly spaced (default: all)")
    parser.add_argument("--depth-scale", type=float, default=1000.0, help="stored value per metre (default 1000: mm)")
    parser.add_argument("--quality", type=int, default=90, help="JPEG quality of the colour frames (default 90)")
    args = parser.parse_args(argv)
    if args.factor < 1 or args.num < 0 or not 1 <= args.quality <= 100:
        parser.error("--factor must be >= 1, --num >= 0 and --quality in 1..100")
    if not (args.source / "manifest.csv").is_file() or not (args.source / "meta.json").is_file():
        parser.error(f"{args.source} is not a manifest folder (needs manifest.csv and meta.json)")
    result = shrink(args.source, args.out, args.factor, args.num, args.depth_scale, args.quality)
    print(f"{result['frames']} frames, {result['bytes'] / 2**20:.1f} MiB -> {args.out}")


if __name__ == "__main__":
    sys.exit(main())
