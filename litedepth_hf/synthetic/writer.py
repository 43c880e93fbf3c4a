"""The dataset writer of `litedepth synth`: frames into a manifest folder, sharded, resumable, deterministic.

Frame `index` of dataset `seed` has the same bytes whichever shard, worker or process renders it: its scene,
materials and camera-model stream come from (seed, index) alone, and each process renders single-threaded.
"""

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image

from .camera_model import apply_camera_model
from .config import DEPTH_SCALE, FAST_PATH_NOTE, GENERATOR, GENERATOR_VERSION, MANIFEST_FIELDS, SynthConfig
from .meshes import mesh_files, read_obj, simplify
from .render import Renderer, check_renderer, llvm_library
from .scenes import sample_scene
from .textures import MaterialPainter, photo_files

_WORKER = {}


def _init_worker(config: SynthConfig):
    """Per process: the photo list, the scanned meshes and one compiled scene template."""
    import drjit as dr

    photos = photo_files(config.textures) if config.textures else []
    meshes = [simplify(read_obj(f)) for f in mesh_files(config.meshes)] if config.meshes else []
    _WORKER["photos"] = len(photos)
    _WORKER["mesh_bounds"] = [(m.vertices.min(0), m.vertices.max(0)) for m in meshes]
    _WORKER["renderer"] = Renderer(config, MaterialPainter(config.seed, photos), meshes)
    # one thread per process, so no pixel depends on how threads are scheduled; processes give the parallelism
    dr.set_thread_count(1)


def _frame_id(index: int) -> str:
    return f"{index:06d}"


def render_frame(out: Path, index: int) -> dict:
    """Render frame `index` into out/rgb and out/depth (written to temporary names, then renamed, so an
    interrupted run never leaves a half file) and return its manifest row."""
    renderer = _WORKER["renderer"]
    config = renderer.config
    scene = sample_scene(config.seed, index, config.close_range_share, _WORKER["photos"], _WORKER["mesh_bounds"],
                         config.path_traced_share)
    rgb, depth = renderer.render(scene, seed=(config.seed * 1_000_003 + index) % 2**32, frame=index)
    if config.camera_model:
        rgb = apply_camera_model(rgb, camera_model_rng(config.seed, index))
    frame = _frame_id(index)
    paths = {"rgb": out / "rgb" / f"{frame}.png", "depth": out / "depth" / f"{frame}.png"}
    stored = np.clip(np.round(depth * DEPTH_SCALE), 0, 65535).astype(np.uint16)
    for key, image in (("rgb", Image.fromarray(rgb)), ("depth", Image.fromarray(stored))):
        partial = paths[key].with_name(paths[key].stem + ".partial.png")
        image.save(partial, compress_level=1)  # measured: 5x faster than level 6, files ~10 % larger
        os.replace(partial, paths[key])
    valid = depth[depth > 0]
    row = {"id": frame, "rgb": f"rgb/{frame}.png", "depth": f"depth/{frame}.png",
           "valid_fraction": f"{valid.size / depth.size:.4f}"}
    for name, value in (("depth_min_m", valid.min() if valid.size else 0), ("depth_median_m", np.median(valid) if valid.size else 0),
                        ("depth_max_m", valid.max() if valid.size else 0)):
        row[name] = f"{float(value):.3f}"
    row.update({k: f"{v:.4f}" for k, v in scene.camera.intrinsics(*config.size).items()})
    row.update({"close_range": int(scene.close_range), "objects": scene.objects, "path_traced": int(scene.path_traced)})
    return row


def _check_out(out: Path, meta: dict) -> dict:
    """Rows already rendered into `out` by the same configuration; refuses a folder holding anything else."""
    meta_path, progress = out / "meta.json", out / "progress.jsonl"
    if not out.exists():
        return {}
    if not out.is_dir():
        raise FileExistsError(f"--out {out} is a file, not a folder")
    if not meta_path.is_file():
        if any(out.iterdir()):
            raise FileExistsError(f"--out {out} is not empty and holds no synthetic dataset: choose an empty or new folder")
        return {}
    existing = json.loads(meta_path.read_text())
    if existing.get("generator") != meta["generator"] or existing.get("config") != meta["config"] \
            or existing.get("shard") != meta["shard"] \
            or existing.get("generator_version", 1) != meta["generator_version"]:
        raise FileExistsError(f"--out {out} holds another dataset ({existing.get('config')}, shard "
                              f"{existing.get('shard')}): use another --out, or the same arguments to resume")
    held, asked = existing.get("num_requested", 0), meta["num_requested"]
    if held > asked:  # its manifest would silently lose rows
        raise FileExistsError(f"--out {out} holds a dataset started with --num {held}: --num {asked} would cut its "
                              f"manifest; give --num {held} (or more) to resume it, or another --out")
    rows = {}
    if progress.is_file():
        for line in progress.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut by an interruption: that frame renders again
                continue
            if (out / row["rgb"]).is_file() and (out / row["depth"]).is_file():
                rows[row["id"]] = row
    return rows


def synthesize(out, num: int, config: SynthConfig, shard: tuple = (0, 1), workers: int = 2,
               progress: bool = True) -> dict:
    """Render frames i in [0, num) with i % N == K (shard K/N) into a manifest folder that
    `litedepth_hf.data.load_depth_dataset` reads; resumes where an interrupted run stopped.

    Returns {"rendered", "skipped", "seconds", "images_per_second", "rows", "stats"}.
    """
    import csv
    import multiprocessing
    import time

    from tqdm.auto import tqdm

    if num < 1:
        raise ValueError(f"--num must be a positive number of images, got {num}")
    part, parts = shard
    if not (parts >= 1 and 0 <= part < parts):
        raise ValueError(f"--shard must be K/N with 0 <= K < N, got {part}/{parts}")
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    # fail before any work when a folder is missing or empty
    photos = photo_files(config.textures) if config.textures else []
    meshes = mesh_files(config.meshes) if config.meshes else []
    out = Path(out)
    meta = {
        "generator": GENERATOR,
        "generator_version": GENERATOR_VERSION,
        "config": json.loads(json.dumps(asdict(config))),  # as meta.json will read back (lists, not tuples)
        "shard": [part, parts],
        "num_requested": num,
        "width": config.size[1],
        "height": config.size[0],
        "depth_scale": DEPTH_SCALE,
        "depth_units": "depth_m = png_value / depth_scale; z along the optical axis; 0 = no surface or beyond "
                       f"{config.max_depth_m} m",
        "intrinsics": "per row in manifest.csv (fx, fy, cx, cy; pixel centres at integer coordinates)",
        "source": "procedural indoor scenes rendered with Mitsuba 3 by litedepth_hf.synthetic",
        "licence": "CC0-1.0 (generated); photo-crop textures and scanned meshes keep their sources' terms",
        "texture_sources": asset_sources(config.textures, photos),
        "mesh_sources": asset_sources(config.meshes, meshes),
    }
    done = _check_out(out, meta)
    check_renderer(config.variant)  # here, not only in the workers: a missing install is one clear line
    if config.variant == "scalar_rgb" and not llvm_library() and progress:  # the fast path is missing: say how to get it
        print(FAST_PATH_NOTE, file=sys.stderr)
    for folder in (out / "rgb", out / "depth"):
        folder.mkdir(parents=True, exist_ok=True)
    (out / "meta.json").write_text(json.dumps({**meta, "num_pairs": None}, indent=2) + "\n")
    wanted = list(range(part, num, parts))
    pending = [i for i in wanted if _frame_id(i) not in done]
    started = time.perf_counter()
    bar = tqdm(total=len(wanted), initial=len(wanted) - len(pending), desc="synth", unit="img", disable=not progress)
    with (out / "progress.jsonl").open("a") as log:
        def record(row):
            done[row["id"]] = row
            log.write(json.dumps(row) + "\n")
            log.flush()
            bar.update()

        if workers == 1 or len(pending) < 2:
            _init_worker(config)
            for index in pending:
                record(render_frame(out, index))
        else:
            context = multiprocessing.get_context("spawn")
            with context.Pool(workers, initializer=_init_worker, initargs=(config,)) as pool:
                for row in pool.imap_unordered(_render_task, [(out, i) for i in pending], chunksize=2):
                    record(row)
    bar.close()
    seconds = time.perf_counter() - started
    rows = [done[_frame_id(i)] for i in wanted]
    with (out / "manifest.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows({key: row[key] for key in MANIFEST_FIELDS} for row in rows)
    medians = [float(r["depth_median_m"]) for r in rows]
    (out / "meta.json").write_text(json.dumps({**meta, "num_pairs": len(rows),
                                               "median_of_median_depth_m": round(float(np.median(medians)), 3)},
                                              indent=2) + "\n")
    return {"rendered": len(pending), "skipped": len(wanted) - len(pending), "seconds": seconds,
            "images_per_second": len(pending) / seconds if pending and seconds > 0 else float("nan"),
            "rows": rows, "stats": scene_statistics(rows)}


def asset_sources(folders, files) -> list:
    """What meta.json says of the photo or mesh folders a set used: each folder's name, how many files each
    of its subfolders (one per source set) gave, and its SOURCES.md (source and terms) when it has one."""
    out = []
    for folder in folders:
        root = Path(folder).resolve()
        sets = {}
        for f in files:
            f = Path(f).resolve()
            if root in f.parents:
                parts = f.relative_to(root).parts
                key = parts[0] if len(parts) > 1 else "."
                sets[key] = sets.get(key, 0) + 1
        sources = root / "SOURCES.md"
        out.append({"folder": root.name, "files": sum(sets.values()), "sets": sets,
                    "sources": sources.read_text()[:4000] if sources.is_file() else None})
    return out


def camera_model_rng(seed: int, index: int) -> np.random.Generator:
    """The camera-model stream of frame `index` when `synth --camera-model` bakes it in."""
    return np.random.default_rng([int(seed), int(index), 31_337])


def _render_task(task):
    return render_frame(*task)


def scene_statistics(rows: list) -> str:
    """A few lines on what was rendered: median-depth histogram, close-range share, objects per scene."""
    medians = np.array([float(r["depth_median_m"]) for r in rows])
    objects = np.array([int(r["objects"]) for r in rows])
    close = np.mean([int(r["close_range"]) for r in rows])
    edges = [0, 0.5, 1, 2, 3, 4, 6, 10, np.inf]
    counts, _ = np.histogram(medians, bins=edges)
    width = max(counts.max(), 1)
    lines = [f"{len(rows)} frames; close-range {close:.0%}; objects per scene {objects.mean():.1f} "
             f"(min {objects.min()}, max {objects.max()}); valid depth {np.mean([float(r['valid_fraction']) for r in rows]):.1%}",
             "median depth per frame:"]
    for low, high, count in zip(edges[:-1], edges[1:], counts):
        label = f"{low:g}-{high:g} m" if np.isfinite(high) else f">{low:g} m"
        lines.append(f"  {label:>9s} {'#' * round(30 * count / width):30s} {count}")
    return "\n".join(lines)
