"""`litedepth` command line: predict depth maps, export to ONNX/TFLite."""

import argparse
import sys
from pathlib import Path

from .data import IMAGE_SUFFIXES

EPILOG = """examples:
  litedepth predict photo.jpg                        # embedded checkpoint, writes ./depth/
  litedepth predict frames/ --out depth --npy        # a folder, plus .npy metres
  litedepth predict a.png b.png --model org/litedepth  # a Hub id or a saved folder
"""


def collect_images(inputs: list) -> list:
    """Files as given, folders expanded to their image files (sorted); missing paths are an error."""
    paths = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise FileNotFoundError(f"No images ({', '.join(IMAGE_SUFFIXES)}) in folder {path}")
            paths.extend(found)
        elif path.is_file():
            paths.append(path)
        else:
            raise FileNotFoundError(f"No such image file or folder: {path}")
    return paths


def run_predict(args) -> int:
    from tqdm.auto import tqdm

    from .image_processing_litedepth import load_image_file
    from .inference import load_model, predict_depth
    from .visualization import save_depth_outputs

    paths = collect_images(args.images)
    stems = [p.stem for p in paths]
    duplicates = {s for s in stems if stems.count(s) > 1}
    if duplicates:
        raise ValueError(f"Several inputs share the name(s) {sorted(duplicates)}: their outputs would collide")
    model, processor = load_model(args.model, device=args.device)
    failures = 0
    for path in tqdm(paths, desc="depth", unit="image", disable=len(paths) < 2):
        try:
            image = load_image_file(path)
            depth = predict_depth(model, processor, [image])[0]
            written = save_depth_outputs(depth, Path(args.out), path.stem, npy=args.npy, overwrite=args.overwrite)
        except (ValueError, OSError) as error:
            failures += 1
            tqdm.write(f"error: {path}: {error}", file=sys.stderr)
            continue
        if len(paths) < 2:
            print(f"{path}: depth {depth.min():.2f}-{depth.max():.2f} m -> {', '.join(map(str, written.values()))}")
    if len(paths) > 1:
        print(f"wrote depth for {len(paths) - failures}/{len(paths)} images to {args.out}/")
    return 1 if failures else 0


def run_export(args) -> int:
    from .export import export_model

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    height, width = (int(v) for v in args.frame_size.lower().split("x"))
    manifest = export_model(args.model, args.out, formats, args.calibration_data, (height, width), args.overwrite)
    for name, info in manifest["files"].items():
        print(f"{name:40s} {info['bytes'] / 1e6:6.2f} MB  {info['graph']:10s} {info.get('precision', 'fp32')}")
    print(f"contracts of each graph: {Path(args.out) / 'export.json'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="litedepth",
        description="LiteDepth: 0.39 M-parameter monocular depth estimation (ECCV 2022 workshops).",
    )
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
    predict.add_argument("--model", default=None, help="Hub id or saved folder (default: the embedded checkpoint)")
    predict.add_argument("--out", default="depth", help="output folder (default: ./depth)")
    predict.add_argument("--npy", action="store_true", help="also write float32 depth in metres as .npy")
    predict.add_argument("--overwrite", action="store_true", help="replace existing outputs instead of stopping")
    predict.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    predict.set_defaults(func=run_predict)

    export = commands.add_parser(
        "export",
        help="export a checkpoint to ONNX and TFLite (fp32, fp16, int8)",
        description="Write OUT/onnx/model.onnx and model_fullframe.onnx (via optimum), "
        "OUT/tflite/model_{fp32,fp16,int8}.tflite and their _fullframe twins (via litert-torch), "
        "and OUT/export.json with each graph's inputs and outputs. Core graphs take normalised "
        "128x160 pixels and return depth at 1/4 resolution; full-frame graphs take a uint8 HxWx3 frame "
        "and return depth at frame resolution. int8 is static per-channel, calibrated on --calibration-data.",
        epilog="example:\n  litedepth export runs/litedepth --out exports --calibration-data ../shared/data/tum_fr1_rpy",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("model", nargs="?", default=None, help="folder or Hub id (default: the embedded checkpoint)")
    export.add_argument("--out", required=True, help="output folder")
    export.add_argument("--formats", default="onnx,tflite", help="comma-separated: onnx, tflite (default: both)")
    export.add_argument("--calibration-data", default=None,
                        help="folder of real frames (or an RGB-D dataset folder) for int8 calibration")
    export.add_argument("--frame-size", default="480x640", help="HxW of the full-frame graphs (default 480x640)")
    export.add_argument("--overwrite", action="store_true", help="replace existing exports in --out")
    export.set_defaults(func=run_export)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        print(f"litedepth {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
