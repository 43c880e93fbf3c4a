"""`litedepth` command line: predict depth maps, export to ONNX/TFLite, push to the Hub."""

import argparse
import sys
from pathlib import Path

from litedepth_runtime import add_camera_and_output_arguments, check_camera_arguments

from .data import IMAGE_SUFFIXES

EPILOG = """examples:
  litedepth predict photo.jpg                        # embedded checkpoint, writes ./depth/
  litedepth predict frames/ --out depth --npy        # a folder, plus .npy metres
  litedepth predict a.png b.png --model org/litedepth  # a Hub id or a saved folder
"""


def version() -> str:
    """The installed distribution's version, without importing the package's heavy modules."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("litedepth-hf")
    except PackageNotFoundError:
        return "unknown (not installed)"


def collect_images(inputs: list, recursive: bool = False) -> list:
    """(file, output stem) pairs: files as given (stem: the name), folders expanded to their image files, with
    `recursive` their subfolders' too (stem: the path below the folder, so outputs mirror the tree); sorted.
    Missing paths, and a folder with no image at all, are errors."""
    paths = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in (path.rglob("*") if recursive else path.iterdir())
                           if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if not found:
                deeper = "" if recursive or not any(p.is_dir() for p in path.iterdir()) else \
                    " (it has subfolders: add --recursive)"
                raise FileNotFoundError(f"No images ({', '.join(IMAGE_SUFFIXES)}) in folder {path}{deeper}")
            paths.extend((p, p.relative_to(path).with_suffix("").as_posix()) for p in found)
        elif path.is_file():
            paths.append((path, path.stem))
        else:
            raise FileNotFoundError(f"No such image file or folder: {path}")
    return paths


def parse_size(text: str, flag: str = "--size", minimum: int = 8, example: str = "240x320") -> tuple:
    """'240x320' -> (240, 320) (height x width), with a message that names the flag and the fix."""
    parts = str(text).lower().replace(" ", "").split("x")
    try:
        height, width = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"{flag} must be HEIGHTxWIDTH in pixels, e.g. {example}; got {text!r}") from None
    if height < minimum or width < minimum:
        raise ValueError(f"{flag} must be at least {minimum}x{minimum} pixels, got {text!r}")
    return height, width


def check_out_folder(out, flag: str = "--out") -> Path:
    """An output folder path that is not an existing file."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{flag} {out} is a file; name a folder (it is created if missing)")
    return out


def check_device(device: str) -> str:
    """A torch device this build can use, checked before loading anything onto it."""
    import torch

    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise ValueError(f"--device {device!r} is not a torch device; use cpu, cuda, cuda:1 or mps") from None
    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()}
    if not available.get(kind, False):
        raise ValueError(f"--device {device}: this torch build cannot use {kind} here "
                         f"(torch {torch.__version__}); use --device cpu")
    return device


def run_predict(args) -> int:
    from tqdm.auto import tqdm

    from .image_processing_litedepth import load_image_file
    from .visualization import output_paths, save_depth_outputs

    inputs = collect_images(args.images, args.recursive)
    out = check_out_folder(args.out)
    stems = [stem for _, stem in inputs]
    duplicates = {s for s in stems if stems.count(s) > 1}
    if duplicates:
        raise ValueError(f"Several inputs share the name(s) {sorted(duplicates)}: their outputs would collide")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    outputs = [p for stem in stems for p in output_paths(out, stem, args.npy, args.grey).values()]
    given = {Path(path).resolve() for path, _ in inputs}  # --overwrite must never replace a picture being read
    inputs_hit = [str(p) for p in outputs if p.resolve() in given]
    if inputs_hit:
        raise FileExistsError(f"{inputs_hit[0]} is an input image and would be an output: choose another --out")
    if not args.overwrite:  # every clash is found before the model runs once
        clashes = [str(p) for p in outputs if p.exists()]
        if clashes:
            more = f" and {len(clashes) - 3} more" if len(clashes) > 3 else ""
            raise FileExistsError(f"{out}/ already holds {', '.join(clashes[:3])}{more}: pass --overwrite to "
                                  "replace them, or choose another --out")
    check_device(args.device)
    from .inference import load_model, predict_depth, scale_to_known_distance

    scale_from = parse_scale_from(args.scale_from) if args.scale_from else None
    model, processor = load_model(args.model, device=args.device)
    if (args.focal_length or args.fov) and not getattr(model.config, "canonical_focal_length", None):
        print(f"note: {args.model or 'the embedded checkpoint'} was trained without camera awareness: --focal-length "
              "and --fov do not change its depth (use --scale-from to fix the scale)", file=sys.stderr)
    failures, few = 0, len(inputs) <= 10  # a few images: a line each; many: a progress bar and a summary
    bar = tqdm(total=len(inputs), desc="depth", unit="image", disable=few)
    for start in range(0, len(inputs), args.batch_size):
        batch = []
        for path, stem in inputs[start: start + args.batch_size]:
            try:
                batch.append((path, stem, load_image_file(path)))
            except (ValueError, OSError) as error:
                failures += 1
                tqdm.write(f"error: {_naming(path, error)}", file=sys.stderr)
                bar.update()
        if not batch:
            continue
        depths = _predict_named(predict_depth, model, processor, batch, args)
        for (path, stem, image), depth in zip(batch, depths):
            if depth is None:  # refused by the image processor: said and counted in _predict_named
                failures += 1
                bar.update()
                continue
            try:
                if scale_from:
                    depth = scale_to_known_distance(depth, *scale_from)
                written = save_depth_outputs(depth, out, stem, npy=args.npy, overwrite=args.overwrite,
                                             scale_bar=not args.no_scale_bar, grey=args.grey)
            except (ValueError, OSError) as error:
                failures += 1
                tqdm.write(f"error: {_naming(path, error)}", file=sys.stderr)
                continue
            finally:
                bar.update()
            if few:
                print(f"{path}: depth {depth.min():.2f}-{depth.max():.2f} m{_camera_note(image, args, model)} -> "
                      + ", ".join(map(str, written.values())))
        del batch  # the images are freed here
    bar.close()
    if not few:
        print(f"wrote depth for {len(inputs) - failures}/{len(inputs)} images to {args.out}/")
    return 1 if failures else 0


def _predict_named(predict_depth, model, processor, batch, args) -> list:
    """Depth maps for a batch, None for an image that fails (NaN pixels, out of memory, ...); its error and the
    processor's per-image warnings (a uniform image, a tiny one) are printed with the file's name. A batch that
    fails or warns so is run again one image at a time, so the name is the right one and the others get depth."""
    import warnings

    from tqdm.auto import tqdm

    def run(members):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            depths = predict_depth(model, processor, [image for _, _, image in members],
                                   batch_size=args.batch_size, focal_length=args.focal_length, fov=args.fov)
        said = []
        for w in caught:  # the processor's per-image warnings all begin "An image"; others go out as they came
            if str(w.message).startswith("An image"):
                said.append(str(w.message).split(". If ")[0])
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return depths, said

    try:
        depths, said = run(batch)
        if not said or len(batch) == 1:
            for message in dict.fromkeys(said):
                tqdm.write(f"warning: {batch[0][0]}: {message}", file=sys.stderr)
            return depths
    except (ValueError, RuntimeError) as error:  # RuntimeError: torch's, out of memory among them
        if len(batch) == 1:
            tqdm.write(f"error: {_naming(batch[0][0], error)}", file=sys.stderr)
            return [None]
    return [_predict_named(predict_depth, model, processor, [member], args)[0] for member in batch]


def _camera_note(image, args, model) -> str:
    """' (camera: 63 deg from EXIF)' and the like: which camera set a camera-aware model's metres, since a wrong
    one (a cropped photo's EXIF, the canonical guess) scales the whole map; '' for models without cameras."""
    import math

    from .image_processing_litedepth import focal_ratio

    canonical = getattr(model.config, "canonical_focal_length", None)
    if not canonical or args.scale_from:  # --scale-from, not the camera, sets the metres then
        return ""
    if args.focal_length or args.fov:
        source = "--focal-length" if args.focal_length else "--fov"
        ratio = focal_ratio(image, focal_length=args.focal_length, fov=args.fov)
    else:
        ratio, source = focal_ratio(image), "EXIF"
        if math.isnan(ratio):
            ratio, source = canonical, "none known: the canonical camera; --fov sets it"
    return f" (camera: {math.degrees(2 * math.atan(0.5 / ratio)):.0f} deg horizontal, {source})"


def _naming(path, error) -> str:
    """One error line that names the file once, whether or not the error's own text already does."""
    message = str(error)
    return message if str(path) in message else f"{path}: {message}"


def parse_scale_from(text: str) -> tuple:
    """'X,Y=METRES' -> (x, y, metres)."""
    try:
        where, metres = text.split("=")
        x, y = (int(v) for v in where.split(","))
        return x, y, float(metres)
    except ValueError:
        raise ValueError(f"--scale-from must be X,Y=METRES (a pixel and its known distance), got {text!r}") from None


def run_export(args) -> int:
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    frame_size = parse_size(args.frame_size, "--frame-size", minimum=32, example="480x640")
    out = check_out_folder(args.out)
    from .export import export_model

    manifest = export_model(args.model, out, formats, args.calibration_data, frame_size, args.overwrite,
                            verbose=args.verbose, progress=True, frame_resize=args.frame_resize)
    for name, info in manifest["files"].items():
        print(f"{name:40s} {info['bytes'] / 1e6:6.2f} MB  {info['graph']:10s} {info.get('precision', 'fp32')}")
    print(f"contracts of each graph: {Path(args.out) / 'export.json'}")
    return 0


def run_push(args) -> int:
    from .hub import push, push_space

    if args.space:
        result = push_space(args.model_dir, args.space, private=args.private, revision=args.revision,
                            token=args.token, dry_run=args.dry_run)
    else:
        result = push(args.model_dir, args.repo_id, private=args.private, revision=args.revision, token=args.token,
                      exports_dir=args.exports, eval_results=args.eval_results, dry_run=args.dry_run,
                      template=args.card_template, source_url=args.code_url)
    target = args.space or args.repo_id
    root = Path(result.get("dry_run", ""))
    for name in result["files"]:
        size = (root / name).stat().st_size if args.dry_run else None
        print(f"  {name}" + (f"  ({size:,} bytes)" if size is not None else ""))
    if args.dry_run:
        print(f"dry run: {len(result['files'])} files written to {args.dry_run}; nothing was uploaded to {target}")
    else:
        print(f"uploaded {len(result['files'])} files to {target} in one commit: {result['commit']}")
    return 0


def run_demo(args) -> int:
    out = check_out_folder(args.out)
    from .demo import build_demo

    files = build_demo(out, args.model, args.precision, args.calibration_data, args.onnxruntime_web, args.overwrite,
                       progress=lambda text: print(text, file=sys.stderr))
    size = sum((Path(out) / name).stat().st_size for name in files)
    print(f"{out}/: {len(files)} files, {size / 1e6:.1f} MB. Serve it with:\n  python -m http.server -d {out} 8000\n"
          f"and open http://localhost:8000 (upload: litedepth push {out} --space ORG/NAME)")
    return 0


def run_synth(args) -> int:
    from . import synthetic

    size = parse_size(args.size)
    try:
        part, parts = (int(v) for v in args.shard.split("/"))
    except ValueError:
        raise ValueError(f"--shard must be K/N (e.g. 0/4), got {args.shard!r}") from None
    # absolute paths: meta.json then names the same folders wherever a resumed run starts
    textures = [str(Path(p).resolve()) for p in args.textures or []]
    meshes = [str(Path(p).resolve()) for p in args.meshes or []]
    variant = synthetic.default_variant()
    defaults = synthetic.SynthConfig()
    config = synthetic.SynthConfig(seed=args.seed, size=size, spp=args.spp or defaults.spp,
                                   integrator=args.integrator, max_depth_m=args.max_depth, textures=textures,
                                   meshes=meshes, camera_model=args.camera_model, variant=variant)
    result = synthetic.synthesize(args.out, args.num, config, shard=(part, parts), workers=args.workers)
    print(result["stats"])
    rate = result["images_per_second"]
    print(f"rendered {result['rendered']} ({result['skipped']} already there) at {size[0]}x{size[1]}, "
          f"{config.spp} spp, {config.integrator} integrator, {variant}, {args.workers} workers: "
          f"{result['seconds']:.1f} s" + (f", {rate:.2f} images/s" if result["rendered"] else "")
          + f" -> {args.out}/manifest.csv")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .synthetic.config import SynthConfig  # dataclasses only: the defaults have one source
    parser = argparse.ArgumentParser(
        prog="litedepth",
        description="LiteDepth: 0.39 M-parameter monocular depth estimation (ECCV 2022 workshops).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    predict = commands.add_parser(
        "predict",
        help="write depth maps for images or folders",
        description="Predict metric depth for each image: a colour map (<name>_depth.png), a 16-bit PNG in "
        "millimetres (<name>_depth_mm.png) and, with --npy, float32 metres (<name>_depth.npy), all at the "
        "image's own resolution.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predict.add_argument("images", nargs="+", help="image files and/or folders of images")
    predict.add_argument("--recursive", action="store_true",
                         help="also the images in subfolders (outputs mirror the folder tree under --out)")
    predict.add_argument("--batch-size", type=int, default=1,
                         help="images per forward pass (default 1: least memory; 8 is faster for many small photos)")
    predict.add_argument("--grey", action="store_true",
                         help="also write <name>_inverse_depth.png: 8-bit grey inverse depth, near = white, for tools "
                         "that take MiDaS-style relative depth")
    predict.add_argument("--model", default=None, help="Hub id, saved folder, or an embedded checkpoint by name: "
                         "litedepth-synth (the default) or litedepth-tum (the desk model)")
    predict.add_argument("--out", default="depth", help="output folder (default: ./depth)")
    predict.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    add_camera_and_output_arguments(predict)
    predict.add_argument("--scale-from", default=None, metavar="X,Y=METRES",
                         help="rescale each map so pixel (X, Y) reads METRES: one known distance (a range sensor, "
                         "a tape) fixes the scale whatever the camera")
    predict.set_defaults(func=run_predict)

    export = commands.add_parser(
        "export",
        help="export a checkpoint to ONNX and TFLite (fp32, fp16, int8)",
        description="Write OUT/onnx/model.onnx and model_fullframe.onnx (via optimum), "
        "OUT/tflite/model_{fp32,fp16,int8}.tflite and their _fullframe twins (via litert-torch), "
        "and OUT/export.json with each graph's inputs and outputs. Core graphs take normalised "
        "128x160 pixels (NCHW in ONNX, NHWC in TFLite) and return depth at 1/4 resolution; full-frame graphs "
        "take a uint8 HxWx3 frame and return depth at frame resolution. int8 is static per-channel, "
        "calibrated on --calibration-data.",
        epilog="example:\n  litedepth export runs/litedepth --out exports --calibration-data ../shared/data/tum_fr1_rpy",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("model", nargs="?", default=None, help="folder or Hub id (default: the embedded checkpoint)")
    export.add_argument("--out", required=True, help="output folder")
    export.add_argument("--formats", default="onnx,tflite", help="comma-separated: onnx, tflite (default: both)")
    export.add_argument("--calibration-data", default=None,
                        help="folder of real frames (or an RGB-D dataset folder) for int8 calibration")
    export.add_argument("--frame-size", default="480x640", help="HxW of the full-frame graphs (default 480x640)")
    export.add_argument("--frame-resize", default="exact", choices=["exact", "fast"],
                        help="full-frame graphs: exact = the image processor's antialiased resize (the pipeline's "
                        "depth); fast = one plain bilinear resize, ~1.3 ms less per 640x480 frame, depth ~4 %% off "
                        "at edges (default exact)")
    export.add_argument("--overwrite", action="store_true", help="replace existing exports in --out")
    export.add_argument("--verbose", action="store_true", help="show the ONNX and TFLite converters' logs")
    export.set_defaults(func=run_export)

    push = commands.add_parser(
        "push",
        help="build the Hub repo (weights, remote code, exports, model card) and upload it",
        description="Assemble the repo a Hub user sees - safetensors weights, config, image processor, the "
        "remote-code files (trust_remote_code works without this package), ONNX/TFLite exports, a model card "
        "rendered from model_cards/litedepth.md with metrics from --eval-results, and a sample image - and "
        "upload it in one commit. Needs a token with write access (hf auth login or HF_TOKEN).",
        epilog="examples:\n  litedepth push runs/litedepth --repo-id me/litedepth --exports exports "
        "--eval-results runs/eval/metrics.json --dry-run /tmp/litedepth-repo\n"
        "  litedepth push demo --space me/litedepth-live          # a `litedepth demo` folder as a static Space",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    push.add_argument("model_dir", help="a save_pretrained folder (or, with --space, a `litedepth demo` folder)")
    target = push.add_mutually_exclusive_group(required=True)
    target.add_argument("--repo-id", help="ORG/NAME of the model repo on the Hub")
    target.add_argument("--space", metavar="ORG/NAME", help="upload a `litedepth demo` folder as a static Space")
    push.add_argument("--private", action="store_true", help="create the repo private")
    push.add_argument("--revision", default=None, help="branch to upload to (created if missing)")
    push.add_argument("--token", default=None, help="Hub token (default: the logged-in one)")
    push.add_argument("--exports", default=None, help="`litedepth export` folder to include")
    push.add_argument("--eval-results", default=None, help="metrics.json from scripts/evaluate_dev.py --out")
    push.add_argument("--dry-run", default=None, metavar="DIR", help="only write the repo folder to DIR")
    push.add_argument("--card-template", default=None, help="model card template (default: model_cards/litedepth.md)")
    push.add_argument("--code-url", default=None, metavar="URL",
                      help="source repository the card links and installs from (default: the package's Project-URL)")
    push.set_defaults(func=run_push)

    demo = commands.add_parser(
        "demo",
        help="write a static web page that runs the model on a webcam or a photo, in the browser",
        description="Write OUT/index.html, demo.js, the full-frame ONNX graph, ONNX Runtime Web (vendored from npm "
        "once, at the version web/package-lock.json pins) and a Space card. The page needs nothing from the "
        "internet: serve the folder (python -m http.server -d OUT), or upload it with litedepth push OUT --space "
        "ORG/NAME. WASM runs threaded where the page is cross-origin isolated (the Space card sets the headers); "
        "WebGPU where the browser has it.",
        epilog="examples:\n  litedepth demo --out demo                    # the embedded checkpoint, fp32\n"
        "  litedepth demo --out demo --precision int8 --calibration-data ../shared/data/tum_fr1_rpy\n"
        "  python -m http.server -d demo 8000         # then open http://localhost:8000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--out", required=True, help="folder for the site (new or empty; --overwrite replaces it)")
    demo.add_argument("--model", default=None, help="checkpoint folder, Hub id or `litedepth export` folder "
                      "(default: the embedded checkpoint)")
    demo.add_argument("--precision", default="fp32", choices=["fp32", "int8"],
                      help="fp32 (the pipeline's depth) or int8 (static, per-channel; needs --calibration-data)")
    demo.add_argument("--calibration-data", default=None, help="folder of real frames for int8 calibration")
    demo.add_argument("--onnxruntime-web", default=None, metavar="DIR",
                      help="an onnxruntime-web package (or its dist/) instead of fetching it with npm")
    demo.add_argument("--overwrite", action="store_true", help="replace the demo already in --out")
    demo.set_defaults(func=run_demo)

    commands.add_parser(
        "train", add_help=False,
        help="train or fine-tune LiteDepth with the Trainer (`litedepth train --help`: our flags and common ones)",
    )

    synth = commands.add_parser(
        "synth",
        help="render procedural indoor RGB-D scenes (Mitsuba 3) as a training folder",
        description="Render N random furnished, cluttered rooms with exact metric z-depth into OUT/rgb, "
        "OUT/depth (uint16 PNG, value / 5000 = metres), OUT/manifest.csv (with per-frame intrinsics) and "
        "OUT/meta.json: the layout every loader and scripts/train.py read. Frame i is drawn from (seed, i), so "
        "the same arguments give the same files, shards are disjoint, and an interrupted run resumes in the "
        "same OUT. Needs the synth extra: pip install 'litedepth-hf[synth]'.",
        epilog="examples:\n  litedepth synth --out ~/.cache/litedepth/synth-s0 --num 20000 \\\n"
        "      --textures ../shared/data/textures_photos --meshes ../shared/data/meshes\n"
        "  litedepth synth --out part0 --num 20000 --shard 0/4     # frames 0, 4, 8, ... of the same set\n"
        "  litedepth synth --out preview --num 24 --camera-model   # as a camera would record them",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    synth.add_argument("--out", required=True, help="output folder (new, empty, or this dataset to resume)")
    synth.add_argument("--num", type=int, required=True, help="number of frames in the whole dataset")
    synth.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    synth.add_argument("--size", default="240x320", help="HEIGHTxWIDTH in pixels (default 240x320)")
    synth.add_argument("--spp", type=int, default=None,
                       help=f"colour samples per pixel (default {SynthConfig.spp}; depth uses 1)")
    synth.add_argument("--integrator", default="direct", choices=("direct", "path"),
                       help="direct light (default, fast) or path tracing with inter-reflections (slower)")
    synth.add_argument("--max-depth", type=float, default=10.0, help="depth cap in metres; beyond is 0 (default 10)")
    synth.add_argument("--workers", type=int, default=2, help="rendering processes (default 2)")
    synth.add_argument("--shard", default="0/1", help="render only frames i with i %% N == K (K/N, default 0/1)")
    synth.add_argument("--textures", nargs="+", default=None, metavar="FOLDER",
                       help="folders of photos (subfolders included) for surface materials, fresh crops every "
                       "frame (default: none, procedural materials only). Never a folder you evaluate on")
    synth.add_argument("--meshes", nargs="+", default=None, metavar="FOLDER",
                       help="folders of OBJ meshes in metres (z up), placed as clutter at their real size "
                       "(default: none, primitives only)")
    synth.add_argument("--camera-model", action="store_true",
                       help="bake sensor noise, blur, vignetting, aberration, tone curve and JPEG into the saved "
                       "RGB (for previews; training applies the camera model on the fly instead)")
    synth.set_defaults(func=run_synth)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["train"]:  # the Trainer's own parser reads the rest (hundreds of TrainingArguments flags)
        from .train import main as train

        return train(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "predict":
        check_camera_arguments(parser, args)
    try:
        return args.func(args)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"litedepth {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
