"""RGB-D datasets as 🤗 `datasets.Dataset`s, with depth in metres decided in one place.

Every loader returns a Dataset with the columns
`image` (PIL), `depth` (PIL, 16-bit or float), `depth_scale` (stored value / depth_scale
= metres; 1.0 for float depth), and the intrinsics `fx, fy, cx, cy` (NaN when unknown).
`depth_in_metres` is the single conversion: 0, NaN and inf all become 0 = invalid.
"""

import csv
import json
import math
from pathlib import Path
from typing import Optional, Union

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
INTRINSICS = ("fx", "fy", "cx", "cy")


def depth_in_metres(depth, depth_scale: float) -> np.ndarray:
    """Stored depth (PIL image or array) -> float32 metres, with every invalid reading set to 0."""
    if depth_scale is None or not depth_scale > 0:
        raise ValueError(f"depth_scale must be > 0, got {depth_scale}")
    array = np.asarray(depth)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        raise ValueError(f"Depth must be a single-channel (H, W) map, got shape {array.shape}")
    metres = array.astype(np.float32) / np.float32(depth_scale)
    metres[~np.isfinite(metres) | (metres < 0)] = 0.0
    return metres


def _dataset(rows: list, root: str):
    import datasets

    if not rows:
        raise ValueError(f"No RGB-D pairs found in {root}")
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "depth": datasets.Image(),
            "depth_scale": datasets.Value("float32"),
            **{key: datasets.Value("float32") for key in INTRINSICS},
            "id": datasets.Value("string"),
        }
    )
    columns = {key: [row[key] for row in rows] for key in features}
    return datasets.Dataset.from_dict(columns, features=features)


def _check_pair(image: Path, depth: Path):
    for path in (image, depth):
        if not path.is_file():
            raise FileNotFoundError(f"Missing file {path}")


def load_manifest_folder(root: Union[str, Path]):
    """A folder with `manifest.csv` (id, rgb, depth columns) and `meta.json` (depth_scale, intrinsics).

    This is the layout of `shared/data/tum_*` (TUM RGB-D: depth = PNG value / 5000).
    """
    root = Path(root)
    manifest, meta_path = root / "manifest.csv", root / "meta.json"
    for path in (manifest, meta_path):
        if not path.is_file():
            raise FileNotFoundError(f"{root} is not a manifest dataset: {path.name} is missing")
    meta = json.loads(meta_path.read_text())
    if "depth_scale" not in meta:
        raise ValueError(f"{meta_path} has no 'depth_scale' (stored depth value per metre)")
    rows = []
    with manifest.open(newline="") as handle:
        for record in csv.DictReader(handle):
            image, depth = root / record["rgb"], root / record["depth"]
            _check_pair(image, depth)
            rows.append(_row(image, depth, float(meta["depth_scale"]), meta, record.get("id", image.stem)))
    return _dataset(rows, str(root))


def _row(image: Path, depth: Path, depth_scale: float, intrinsics: Optional[dict], pair_id: str) -> dict:
    intrinsics = intrinsics or {}
    return {
        "image": str(image),
        "depth": str(depth),
        "depth_scale": depth_scale,
        **{key: float(intrinsics.get(key, math.nan)) for key in INTRINSICS},
        "id": pair_id,
    }


def load_paired_folder(
    root: Union[str, Path],
    depth_scale: float,
    image_dir: str = "rgb",
    depth_dir: str = "depth",
    intrinsics: Optional[dict] = None,
):
    """`root/<image_dir>/NAME.*` paired with `root/<depth_dir>/NAME.png` by file stem.

    The MAI 2022 layout is `rgb/*.png` + `depth/*.png` in millimetres: `depth_scale=1000`.
    """
    root = Path(root)
    images = {p.stem: p for p in sorted((root / image_dir).glob("*")) if p.suffix.lower() in IMAGE_SUFFIXES}
    depths = {p.stem: p for p in sorted((root / depth_dir).glob("*")) if p.suffix.lower() in IMAGE_SUFFIXES}
    if not images or not depths:
        raise FileNotFoundError(f"Expected image files in {root / image_dir} and depth maps in {root / depth_dir}")
    unpaired = sorted(set(images) ^ set(depths))
    if unpaired:
        raise ValueError(f"{len(unpaired)} files in {root} have no partner, e.g. {unpaired[:3]}")
    rows = [_row(images[stem], depths[stem], depth_scale, intrinsics, stem) for stem in sorted(images)]
    return _dataset(rows, str(root))


def load_hub_dataset(
    name: str,
    split: str = "train",
    image_column: str = "image",
    depth_column: str = "depth",
    depth_scale: float = 1.0,
    **load_kwargs,
):
    """A Hub dataset id (or local `datasets` folder) with an image and a depth column."""
    import datasets

    path = Path(name)
    if path.is_dir() and (path / "dataset_info.json").is_file():
        dataset = datasets.load_from_disk(str(path))
    else:
        dataset = datasets.load_dataset(name, split=split, **load_kwargs)
    for column in (image_column, depth_column):
        if column not in dataset.column_names:
            raise ValueError(f"{name} has no column {column!r}; columns: {dataset.column_names}")
    dataset = dataset.rename_columns({image_column: "image", depth_column: "depth"})
    if "depth_scale" not in dataset.column_names:
        dataset = dataset.add_column("depth_scale", [float(depth_scale)] * len(dataset))
    for key in INTRINSICS:
        if key not in dataset.column_names:
            dataset = dataset.add_column(key, [math.nan] * len(dataset))
    return dataset


def load_depth_dataset(source: Union[str, Path], depth_scale: Optional[float] = None, split: str = "train"):
    """Pick the loader from what `source` is: a manifest folder, a paired folder, or a Hub/`datasets` id.

    `depth_scale` is required for paired folders (1000 for MAI millimetres, 5000 for TUM).
    """
    path = Path(source)
    if (path / "manifest.csv").is_file():
        return load_manifest_folder(path)
    if path.is_dir() and (path / "dataset_info.json").is_file():
        return load_hub_dataset(str(path), depth_scale=depth_scale or 1.0)
    if path.is_dir():
        if depth_scale is None:
            raise ValueError(f"{source} has no meta.json: pass depth_scale (stored value per metre)")
        return load_paired_folder(path, depth_scale)
    if path.exists() or str(source).startswith((".", "/")):
        raise FileNotFoundError(f"Dataset folder not found: {source}")
    return load_hub_dataset(str(source), split=split, depth_scale=depth_scale or 1.0)


def example_arrays(example: dict) -> tuple:
    """One dataset row -> (RGB uint8 (H, W, 3), depth float32 metres (H, W), intrinsics dict or None)."""
    image = example["image"]
    if not isinstance(image, Image.Image):
        image = Image.fromarray(np.asarray(image))
    rgb = np.asarray(image.convert("RGB"))
    depth = depth_in_metres(example["depth"], example["depth_scale"])
    if rgb.shape[:2] != depth.shape:
        raise ValueError(f"Image {rgb.shape[:2]} and depth {depth.shape} sizes differ for {example.get('id')}")
    intrinsics = {key: float(example[key]) for key in INTRINSICS}
    if any(math.isnan(v) for v in intrinsics.values()):
        intrinsics = None
    return rgb, depth, intrinsics
