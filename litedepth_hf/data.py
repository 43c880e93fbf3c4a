"""RGB-D datasets as 🤗 `datasets.Dataset`s, with depth in metres decided in one place.

Every loader returns a Dataset with the columns
`image` (PIL), `depth` (PIL, 16-bit or float), `depth_scale` (stored value / depth_scale
= metres; 1.0 for float depth), and the intrinsics `fx, fy, cx, cy` (NaN when unknown).
`depth_in_metres` is the single conversion: 0, NaN and inf all become 0 = invalid.
"""

import csv
import json
import math
import os
from pathlib import Path
from typing import Optional, Union

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
DEV_FOLDERS = ("tum_fr3_cabinet", "tum_fr3_long_office_household", "tum_fr2_desk", "icl_livingroom")
"""The dev scenes of this project's shared data (`shared/data/`): never trained on."""
TRAIN_FOLDER = "tum_fr1_rpy"
"""Its real training folder."""
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

    This is the layout of `shared/data/tum_*` (TUM RGB-D: depth = PNG value / 5000) and of
    `litedepth synth` output, whose cameras vary per frame: `fx, fy, cx, cy` columns in the
    manifest override the folder-wide intrinsics of meta.json row by row.
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
            intrinsics = {**meta, **{k: record[k] for k in INTRINSICS if record.get(k) not in (None, "")}}
            rows.append(_row(image, depth, float(meta["depth_scale"]), intrinsics, record.get("id", image.stem)))
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
    path = Path(source).expanduser()
    if (path / "manifest.csv").is_file():
        return load_manifest_folder(path)
    if path.is_dir() and (path / "dataset_info.json").is_file():
        return load_hub_dataset(str(path), depth_scale=depth_scale or 1.0)
    if path.is_dir():
        if depth_scale is None:
            raise ValueError(f"{source} has no meta.json: pass depth_scale (stored value per metre)")
        return load_paired_folder(path, depth_scale)
    if path.exists() or str(source).startswith((".", "/", "~")) or len(path.parts) > 2 or \
            (len(path.parts) == 2 and Path(path.parts[0]).is_dir()):  # a typo in a local path, not a Hub id
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
    return rgb, depth, known_intrinsics(example)


def known_intrinsics(values) -> Optional[dict]:
    """{fx, fy, cx, cy} as floats from a row (or columns of one row), or None when any is missing or NaN."""
    intrinsics = {key: float(values[key]) if key in values else math.nan for key in INTRINSICS}
    return None if any(math.isnan(v) for v in intrinsics.values()) else intrinsics


def source_meta(source) -> dict:
    """A training source's meta.json (empty for a Hub id or a folder without one)."""
    meta = Path(str(source)).expanduser() / "meta.json"
    try:
        return json.loads(meta.read_text()) if meta.is_file() else {}
    except (OSError, json.JSONDecodeError):
        return {}


def is_rendered(source) -> bool:
    """Whether a source was rendered by `litedepth synth` (its meta.json says so): the one test the trainer
    (camera model, restyling) and the model card use."""
    from .synthetic.config import GENERATOR

    return source_meta(source).get("generator") == GENERATOR


def _terms(sources_text: Optional[str]) -> str:
    """The headline terms of an asset folder's SOURCES.md: research-use sets named as such (counted, as a
    folder of several sets is), else a CC BY 4.0 statement; the file itself holds the details."""
    text = (sources_text or "").lower()
    if text.count("research use") >= 2:
        return "mostly research use only (per-set terms in its SOURCES.md)"
    if "cc by 4.0" in text:
        return "CC BY 4.0 (see its SOURCES.md)"
    return "see its SOURCES.md" if sources_text else "not stated"


def describe_source(source) -> dict:
    """What a model card must say of one training source, read from its meta.json when training starts (the
    folder may be gone when the card is written): name, rendered or camera frames, licence, and for renders
    the photo and mesh sets they used with their terms."""
    meta = source_meta(source)
    described = {"name": Path(str(source)).name, "rendered": is_rendered(source), "licence": meta.get("licence"),
                 "source": str(meta.get("source") or "")[:200]}
    for key in ("texture_sources", "mesh_sources"):
        described[key] = [{"folder": s.get("folder"), "files": s.get("files"), "sets": s.get("sets"),
                           "terms": _terms(s.get("sources"))} for s in meta.get(key) or []]
    return described


def expand_sources(specs) -> list:
    """`--train_data` values (comma-separated and/or repeated; shell-style globs) -> list of sources.

    Each source is a folder or dataset id as `load_depth_dataset` takes it; a glob that matches
    nothing is an error rather than a silently smaller training set.
    """
    import glob as globbing

    if isinstance(specs, str):
        specs = [specs]
    sources = []
    for spec in specs:
        for item in (part.strip() for part in str(spec).split(",")):
            if not item:
                continue
            if any(ch in item for ch in "*?["):
                matches = sorted(p for p in globbing.glob(item) if Path(p).is_dir())
                if not matches:
                    raise FileNotFoundError(f"training source pattern {item!r} matches no folder")
                sources.extend(matches)
            else:
                sources.append(item)
    if not sources:
        raise ValueError("no training data given")
    names = [source_name(s) for s in sources]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"training sources share the name(s) {repeated}: mixing weights by name could not tell them apart")
    return sources


def source_name(source) -> str:
    """The name `--train_mix` uses for a source: its folder name (or the last part of a dataset id)."""
    return Path(str(source).rstrip("/")).name


class DecodedFrames:
    """Frames of one dataset decoded once into a memory-mapped store: RGB uint8 and depth float32 metres.

    Why: decoding PNG/JPEG costs more than a training step of this model on a CPU. Each frame is
    keyed by a digest of its stored bytes (image, depth, depth scale); a file whose size or mtime
    changed is hashed again and, if its content differs, decoded again. `arrays(i)` returns
    exactly what `example_arrays` gives for the row (tested bit for bit), as read-only views.
    """

    def __init__(self, dataset, cache_dir, progress: bool = True):
        import hashlib

        import datasets as hf_datasets
        from tqdm.auto import tqdm

        self.dataset = dataset
        raw = dataset.cast_column("image", hf_datasets.Image(decode=False)).cast_column(
            "depth", hf_datasets.Image(decode=False))
        rows = [raw[i] for i in range(len(raw))]
        signature = hashlib.sha256(json.dumps([_row_key(r) for r in rows]).encode()).hexdigest()[:16]
        self.root = Path(cache_dir) / signature
        self.root.mkdir(parents=True, exist_ok=True)
        index_path = self.root / "index.json"
        index = json.loads(index_path.read_text()) if index_path.is_file() else {"frames": []}
        frames = index["frames"] if len(index["frames"]) == len(rows) else [None] * len(rows)
        if (self.root / "rgb.u8").is_file():
            stale = [i for i, row in enumerate(rows) if not _frame_current(frames[i], row)]
        else:
            stale = list(range(len(rows)))
        if stale:
            rebuilt = [None] * len(rows)
            offsets = {"rgb": 0, "depth": 0}
            decoded, stale_set = {}, set(stale)
            for i in tqdm(range(len(rows)), desc=f"decoding {len(stale)} frames once", unit="frame",
                          disable=not progress or not stale):
                if i in stale_set:
                    decoded[i] = example_arrays(dataset[i])[:2]
                    shape = decoded[i][1].shape
                    digest = _row_digest(rows[i])
                else:
                    shape, digest = tuple(frames[i]["shape"]), frames[i]["digest"]
                rebuilt[i] = {"shape": list(shape), "digest": digest, "stat": _row_stat(rows[i]),
                              "rgb": offsets["rgb"], "depth": offsets["depth"]}
                offsets["rgb"] += shape[0] * shape[1] * 3
                offsets["depth"] += shape[0] * shape[1]
            old = self._open() if len(stale) < len(rows) else None
            rgb = np.lib.format.open_memmap(self.root / "rgb.partial.npy", "w+", np.uint8, (max(offsets["rgb"], 1),))
            depth = np.lib.format.open_memmap(self.root / "depth.partial.npy", "w+", np.float32, (max(offsets["depth"], 1),))
            for i, frame in enumerate(rebuilt):
                h, w = frame["shape"]
                if i in decoded:
                    rgb_i, depth_i = decoded[i]
                else:
                    rgb_i, depth_i = old[0][frames[i]["rgb"]: frames[i]["rgb"] + h * w * 3], \
                        old[1][frames[i]["depth"]: frames[i]["depth"] + h * w]
                rgb[frame["rgb"]: frame["rgb"] + h * w * 3] = np.asarray(rgb_i).reshape(-1)
                depth[frame["depth"]: frame["depth"] + h * w] = np.asarray(depth_i).reshape(-1)
            rgb.flush()
            depth.flush()
            del rgb, depth, old
            os.replace(self.root / "rgb.partial.npy", self.root / "rgb.u8")
            os.replace(self.root / "depth.partial.npy", self.root / "depth.f32")
            index = {"frames": rebuilt}
            index_path.write_text(json.dumps(index))
        self.frames = index["frames"]
        self.decoded_count = len(stale)  # frames decoded by this call (0: all from the cache)
        if progress and stale:  # a new store on the user's disk: say where and how big, and how to avoid it
            size = sum(p.stat().st_size for p in self.root.iterdir() if p.is_file())
            print(f"decoded-frame cache: {self.root} ({size / 1e6:.0f} MB, reused by later runs; "
                  "--decoded_cache none keeps frames in memory instead, --decoded_cache DIR puts them elsewhere)")
        self.rgb, self.depth = self._open()
        columns = dataset.select_columns([k for k in INTRINSICS if k in dataset.column_names])[:]
        self.intrinsics = [known_intrinsics({k: v[i] for k, v in columns.items()}) for i in range(len(rows))]

    def _open(self):
        return (np.load(self.root / "rgb.u8", mmap_mode="r"), np.load(self.root / "depth.f32", mmap_mode="r"))

    def __len__(self):
        return len(self.frames)

    def arrays(self, index: int) -> tuple:
        frame = self.frames[index]
        h, w = frame["shape"]
        rgb = self.rgb[frame["rgb"]: frame["rgb"] + h * w * 3].reshape(h, w, 3)
        depth = self.depth[frame["depth"]: frame["depth"] + h * w].reshape(h, w)
        return rgb, depth, self.intrinsics[index]


def _row_key(row: dict) -> list:
    """What identifies a row without reading it: file paths (or a digest of inline bytes) and scale."""
    return [_blob_key(row["image"]), _blob_key(row["depth"]), float(row["depth_scale"])]


def _blob_key(blob: dict) -> str:
    import hashlib

    if blob.get("path") and Path(blob["path"]).is_file():
        return str(Path(blob["path"]).resolve())
    return hashlib.sha256(blob.get("bytes") or b"").hexdigest()


def _row_stat(row: dict) -> list:
    stats = []
    for blob in (row["image"], row["depth"]):
        path = blob.get("path")
        if path and Path(path).is_file():
            info = Path(path).stat()
            stats.append([info.st_size, info.st_mtime_ns])
        else:
            stats.append(None)
    return stats


def _row_digest(row: dict) -> str:
    import hashlib

    digest = hashlib.sha256(str(float(row["depth_scale"])).encode())
    for blob in (row["image"], row["depth"]):
        path = blob.get("path")
        digest.update(Path(path).read_bytes() if path and Path(path).is_file() else (blob.get("bytes") or b""))
    return digest.hexdigest()


def _frame_current(frame: Optional[dict], row: dict) -> bool:
    """A cached frame still matches its files: same size and mtime, or (when those changed) same content."""
    if frame is None:
        return False
    if frame["stat"] == _row_stat(row) and None not in frame["stat"]:
        return True
    return frame["digest"] == _row_digest(row)

