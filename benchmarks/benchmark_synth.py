#!/usr/bin/env python
"""What each realism feature of `litedepth synth` costs: milliseconds per 240x320 frame on one core.

Each row adds one feature to the row above and renders the same frame indices in this process after a
warm-up (the template compile, first-frame JIT and the one-off decoding of each photo excluded, as in a
long run), so rows compare steady-state cost; with
`--workers` processes a full `litedepth synth` run renders about workers x 1000 / ms images/s, minus the
start-up (printed by `litedepth synth` itself).

  python benchmarks/benchmark_synth.py --textures ../shared/data/textures_photos --meshes ../shared/data/meshes
"""

import argparse
import json
import tempfile
import time
from pathlib import Path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--textures", nargs="+", required=True, help="photo folders (the photo-material row)")
    parser.add_argument("--meshes", nargs="+", required=True, help="OBJ folders (the scanned-object row)")
    parser.add_argument("--frames", type=int, default=40, help="timed frames per row (default 40)")
    parser.add_argument("--out", default=None, help="also write the table as JSON here")
    args = parser.parse_args(argv)

    import drjit as dr

    from litedepth_hf import synthetic
    from litedepth_hf.synthetic import writer

    variant = synthetic.default_variant()
    base = {"variant": variant, "path_traced_share": 0.0}
    rows = [
        ("procedural materials, primitives, direct light (v1 scene content)", synthetic.SynthConfig(**base)),
        ("+ photo materials, fresh per frame", synthetic.SynthConfig(**base, textures=args.textures)),
        ("+ scanned meshes", synthetic.SynthConfig(**base, textures=args.textures, meshes=args.meshes)),
        ("+ 5 % path-traced frames", synthetic.SynthConfig(variant=variant, textures=args.textures, meshes=args.meshes)),
        ("+ camera model baked in", synthetic.SynthConfig(variant=variant, textures=args.textures, meshes=args.meshes,
                                                          camera_model=True)),
    ]
    table = []
    print(f"{'configuration':70s} {'ms/frame':>9s} {'images/s (1 core)':>18s}")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        (out / "rgb").mkdir()
        (out / "depth").mkdir()
        for name, config in rows:
            writer._init_worker(config)
            dr.set_thread_count(1)
            painter = writer._WORKER["renderer"].painter
            for k in range(len(painter.photos)):  # a long run's steady state: every photo decoded once already
                painter.photo(k)
            for index in range(3):  # warm-up: JIT compile, first textures
                writer.render_frame(out, 10_000 + index)
            started = time.perf_counter()
            for index in range(args.frames):
                writer.render_frame(out, index)
            ms = 1000 * (time.perf_counter() - started) / args.frames
            table.append({"configuration": name, "ms_per_frame": round(ms, 1), "images_per_second_one_core": round(1000 / ms, 2)})
            print(f"{name:70s} {ms:9.1f} {1000 / ms:18.2f}", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps({"variant": variant, "size": "240x320", "spp": rows[0][1].spp,
                                              "frames": args.frames, "rows": table}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
