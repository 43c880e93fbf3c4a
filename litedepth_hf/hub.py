"""Hub release: assemble the exact repo a user sees (weights, code, exports, card, sample), then upload it.

`build_repo` writes the folder; `push` uploads it with `HfApi.create_repo` + `upload_folder` in one
commit. Nothing local is changed: the source checkpoint is only read, and the folder is new.
"""

import json
import shutil
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np
import torch

import litedepth_runtime

REQUIRED_FILES = ("config.json", "model.safetensors", "preprocessor_config.json")
RESOURCES = Path(__file__).parent / "resources"  # installed with the package (links to model_cards/, examples/)
TEMPLATE = RESOURCES / "model_card.md"
SAMPLE_IMAGE = RESOURCES / "sample.jpg"
TAGS = ["depth-estimation", "monocular-depth", "mobile", "litedepth"]
EVAL_FILES = ("dev_metrics.json", "eval_results.json")
"""Looked for in the model folder when no --eval-results is given (a shipped checkpoint, a training run)."""
DESCRIPTIONS = {
    "config.json": "LiteDepthConfig",
    "model.safetensors": "fp32 weights",
    "preprocessor_config.json": "LiteDepthImageProcessor settings",
    "configuration_litedepth.py": "remote code: config",
    "modeling_litedepth.py": "remote code: model",
    "image_processing_litedepth.py": "remote code: image processor",
    "README.md": "this card",
    "sample_depth.png": "sample: RGB beside its predicted depth",
    "eval_results.json": "the evaluation this card's numbers come from",
    "export.json": "inputs/outputs of each exported graph",
    "litedepth_runtime.py": "runs the exported graphs with numpy, Pillow and a TFLite or ONNX runtime (no torch)",
}


class HubError(RuntimeError):
    """A Hub problem stated for a person: missing token, no write access, a model folder missing a file."""


def check_model_dir(model_dir) -> Path:
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise HubError(f"Model folder not found: {model_dir}")
    missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
    if missing:
        raise HubError(f"{model_dir} is missing {', '.join(missing)}: save it with save_pretrained first")
    return model_dir


def find_eval_results(model_dir) -> Optional[Path]:
    """The evaluation file that sits in the model folder, if any (see EVAL_FILES)."""
    for name in EVAL_FILES:
        if (Path(model_dir) / name).is_file():
            return Path(model_dir) / name
    return None


def load_eval_results(path) -> dict:
    """`scripts/evaluate_dev.py --out` JSON -> {"data", "model", "metrics": its first model's row, "baselines"}."""
    try:
        record = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise HubError(f"--eval-results {path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise HubError(f"--eval-results {path} is not JSON ({error}); give the metrics.json that "
                       "scripts/evaluate_dev.py --out writes") from None
    rows = record.get("results", {}) if isinstance(record, dict) else {}
    if not rows:
        raise HubError(f"{path} holds no model metrics (expected scripts/evaluate_dev.py output)")
    name, metrics = next(iter(rows.items()))
    baselines = [v | {"name": k} for k, v in record.get("baselines", {}).items()]
    data = record.get("data", "unknown")
    folders = [Path(str(d)).name for d in (data if isinstance(data, list) else [data])]
    return {"data": data, "folders": folders, "model": name, "metrics": metrics, "baselines": baselines}


def _card_data(repo_id: str, evaluation: Optional[dict], provenance: dict, export_tags: list):
    from huggingface_hub import EvalResult, ModelCardData

    results = []
    if evaluation:
        dataset = " + ".join(evaluation["folders"])
        for metric, label in (("si_rmse", "si-RMSE"), ("rmse", "RMSE (m)"), ("abs_rel", "AbsRel"), ("delta1", "δ1")):
            results.append(EvalResult(task_type="depth-estimation", task_name="Monocular depth estimation",
                                      dataset_type="rgbd-dev", dataset_name=f"dev: {dataset}",
                                      dataset_split="dev", metric_type=metric, metric_name=label,
                                      metric_value=round(float(evaluation["metrics"][metric]), 4)))
    return ModelCardData(
        model_name=repo_id.split("/")[-1], library_name="transformers", pipeline_tag="depth-estimation",
        license="apache-2.0", datasets=provenance["datasets"] or None, tags=TAGS + export_tags,
        eval_results=results or None, base_model=provenance["base_model"],
    )


def public_name(name_or_path: str) -> str:
    """A Hub id (ORG/NAME) as it is; a local folder by its last part, not its path on the training machine."""
    text = str(name_or_path)
    is_hub_id = text.count("/") == 1 and not text.startswith(("/", ".", "~")) and not Path(text).exists()
    return text if is_hub_id else Path(text).name


def provenance(model_dir: Path) -> dict:
    """What the weights saw, from `training_run.json` (read once, returned as "record"): source names, Hub
    dataset tags, the licence notes of the data, and where training started (a base model, or scratch)."""
    run = Path(model_dir) / "training_run.json"
    record = json.loads(run.read_text()) if run.is_file() else {}
    args = record.get("script_args", record)
    sources = args.get("train_data") or []
    sources = [Path(str(s)).name for s in (sources if isinstance(sources, list) else [sources])]
    datasets, licences, rendered = [], [], False
    described = record.get("data_sources")
    if described is None:  # records written before 2026-12-06: what the folder names say
        described = [{"name": name, "rendered": name.startswith("s") and "spp" in name,
                      "source": "TUM RGB-D" if name.startswith("tum_") else "ICL-NUIM" if name.startswith("icl_") else "",
                      "licence": None} for name in sources]
    for source in described:
        name, origin_text = source["name"], source.get("source") or ""
        if source.get("rendered"):
            rendered = True
            text = f"`{name}`: rendered by `litedepth synth` (generated, CC0-1.0)"
            assets = [_asset_text(kind, asset) for kind, key in (("photo materials", "texture_sources"),
                                                                 ("scanned meshes", "mesh_sources"))
                      for asset in source.get(key) or []]
            licences.append(text + (", with " + " and ".join(assets) if assets else ""))
        elif "TUM RGB-D" in origin_text:
            datasets.append("tum-rgbd")
            licences.append(f"`{name}`: TUM RGB-D, {source.get('licence') or 'CC BY 4.0'}")
        elif "ICL-NUIM" in origin_text:
            datasets.append("icl-nuim")
            licences.append(f"`{name}`: ICL-NUIM, {source.get('licence') or 'CC BY 3.0'}")
        else:
            licences.append(f"`{name}`: {source.get('licence') or 'see its source'}")
    start = args.get("model_name_or_path")
    start_name = public_name(start) if start else None
    if not record:
        weights = "No `training_run.json` was found next to the weights, so where training started is not recorded."
    elif start:
        weights = (f"Training started from `{start_name}` (its own card says what it saw); no other pretrained "
                   "weights were used.")
    else:
        weights = ("No pretrained weights of any kind were used (no ImageNet encoder): the network learnt from "
                   "the frames named above only")
        teacher = args.get("teacher_name_or_path")
        weights += (f", guided by the teacher `{public_name(teacher)}` (distillation; its own record says what it "
                    "saw)." if teacher else ".")
    return {"record": record, "sources": sources, "datasets": sorted(set(datasets)), "licences": licences,
            "rendered": rendered, "weights": weights,
            "base_model": start_name if start and start_name == str(start) and "/" in str(start) else None,
            "from_scratch": bool(record) and not start}


def _asset_text(kind: str, asset: dict) -> str:
    """'photo materials from `textures_photos` (2845 files: bsds500 500, ...; mostly research use only ...)'."""
    sets = ", ".join(f"{name} {count}" for name, count in (asset.get("sets") or {}).items() if name != ".")
    return f"{kind} from `{asset['folder']}` ({asset['files']} files{': ' + sets if sets else ''}; {asset['terms']})"


def _eval_table(evaluation: Optional[dict]) -> tuple:
    if not evaluation:
        return ("No evaluation file was given or found beside the weights (dev_metrics.json, eval_results.json), "
                "so this card reports no metrics."), ""
    rows = [("**this model**", evaluation["metrics"])] + [(b["name"], b) for b in evaluation["baselines"]]
    table = ["| model | si-RMSE | RMSE (m) | AbsRel | δ1 |", "|---|---|---|---|---|"]
    table += [f"| {name} | {m['si_rmse']:.4f} | {m['rmse']:.4f} | {m['abs_rel']:.4f} | {m['delta1']:.4f} |"
              for name, m in rows]
    folders = evaluation["folders"]
    where = (f"`{folders[0]}` ({evaluation['metrics'].get('num_images', '?')} frames of a room never seen in training)"
             if len(folders) == 1 else
             f"{len(folders)} folders of rooms never seen in training ({', '.join(f'`{f}`' for f in folders)}; "
             f"{evaluation['metrics'].get('num_images', '?')} frames; folders weighted equally)")
    intro = (f"Dev set: {where}, next to baselines that never look at the image: the real training folder's "
             "median depth everywhere, and its mean depth layout (where frames tend to be nearer or farther) "
             "at that median.")
    return intro, "\n".join(table)


def _training_summary(record: dict, sources: list) -> str:
    """One paragraph from `training_run.json` (`record`); `sources` are the data's names from `provenance`."""
    if not record:
        return "No `training_run.json` was found next to the weights, so the training run is not described here."
    args = record.get("script_args", record)
    pieces = [f"Data: {', '.join(f'`{s}`' for s in sources) or '?'}"]  # names, not the trainer's paths
    if args.get("train_mix"):
        pieces.append(f"mix per epoch: {args['train_mix']}")
    for key in ("losses", "loss_weighting", "crop", "augment"):
        if args.get(key):
            pieces.append(f"{key.replace('_', ' ')}: {args[key]}")
    teacher = args.get("teacher_name_or_path")
    if teacher:
        pieces.append(f"distilled from: `{public_name(teacher)}`")
    training = record.get("training_args", {})
    if training:
        pieces.append(f"AdamW lr {training['learning_rate']:g}, weight decay {training['weight_decay']:g}, "
                      f"{training['warmup_steps']:g} warm-up steps, batch {training['per_device_train_batch_size']}"
                      f" x {record.get('num_processes', 1)}, seed {training['seed']}")
    metrics = record.get("metrics", {})
    if "epoch" in metrics:
        pieces.append(f"epochs: {metrics['epoch']:g}")
    if "train_runtime" in metrics:
        minutes = f"{metrics['train_runtime'] / 60:.1f} min on {record.get('hardware', 'CPU')}"
        resumed = record.get("resumed_at_step")
        pieces.append(f"training time: {minutes} for its last stretch, from step {resumed:,} (resumed from a "
                      "checkpoint; earlier stretches not timed)" if resumed else f"training time: {minutes}")
    return "; ".join(pieces) + "."


def _sample(model, processor, out: Path):
    from PIL import Image

    from .inference import predict_depth
    from .visualization import colorize_depth, image_grid

    image = Image.open(SAMPLE_IMAGE).convert("RGB")
    depth = predict_depth(model, processor, [image])[0]
    image_grid([[np.asarray(image), colorize_depth(depth)]], tile_height=240).save(out)


def build_repo(model_dir, out_dir, repo_id: str, exports_dir=None, eval_results=None, template=None,
               source_url: Optional[str] = None) -> list:
    """Write the Hub repo folder for `model_dir` into the new folder `out_dir`; returns its files (relative).

    The card links the code at `source_url`, else at the installed package's `[project.urls]`."""
    from huggingface_hub import ModelCard

    from . import LiteDepthForDepthEstimation, LiteDepthImageProcessor, register
    from .complexity import macs_and_params

    model_dir = check_model_dir(model_dir)
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise HubError(f"{out_dir} is not empty: give a new folder (nothing was written)")
    if exports_dir is not None and not (Path(exports_dir) / "export.json").is_file():
        raise HubError(f"{exports_dir} has no export.json: run `litedepth export` first")
    eval_results = eval_results or find_eval_results(model_dir)
    evaluation = load_eval_results(eval_results) if eval_results else None
    template = Path(template or TEMPLATE)
    if not template.is_file():
        raise HubError(f"Model card template not found: {template}")
    register()  # so save_pretrained writes the auto_map and the remote-code files
    model = LiteDepthForDepthEstimation.from_pretrained(model_dir).eval()
    processor = LiteDepthImageProcessor.from_pretrained(model_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)  # safetensors + config (auto_map) + the remote-code files
    processor.save_pretrained(out_dir)
    if exports_dir is not None:
        exports_dir = Path(exports_dir)
        shutil.copy(exports_dir / "export.json", out_dir / "export.json")
        for sub in ("onnx", "tflite"):
            if (exports_dir / sub).is_dir():
                shutil.copytree(exports_dir / sub, out_dir / sub)
        if (out_dir / "tflite").is_dir() or (out_dir / "onnx").is_dir():  # the one file a Pi downloads to run them
            shutil.copy(litedepth_runtime.__file__, out_dir / "litedepth_runtime.py")
    if eval_results:
        shutil.copy(eval_results, out_dir / "eval_results.json")
    _sample(model, processor, out_dir / "sample_depth.png")

    files = sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file())
    listing = [(name, (out_dir / name).stat().st_size, DESCRIPTIONS.get(name, _describe(name))) for name in files]
    listing.append(("README.md", "-", DESCRIPTIONS["README.md"]))
    intro, table = _eval_table(evaluation)
    config = model.config
    macs, params = macs_and_params(model, torch.zeros(1, 3, *config.image_size))
    origin = provenance(model_dir)
    has_pi_graph = (out_dir / "tflite" / "model_int8.tflite").is_file()  # what the card's Pi command fetches
    export_tags = [tag for tag, there in (("onnx", (out_dir / "onnx").is_dir()), ("tflite", (out_dir / "tflite").is_dir()),
                                          ("raspberry-pi", has_pi_graph)) if there]
    card = ModelCard.from_template(
        _card_data(repo_id, evaluation, origin, export_tags), template_path=str(template), repo_id=repo_id,
        has_pi_graph=has_pi_graph, weights_text=origin["weights"], from_scratch=origin["from_scratch"],
        data_licences=origin["licences"], has_renders=origin["rendered"], has_evaluation=evaluation is not None,
        keep_aspect_ratio=getattr(processor, "keep_aspect_ratio", False), code_url=source_url or code_url(),
        model_name=repo_id.split("/")[-1], params_m=f"{params / 1e6:.3f}", macs_m=f"{macs / 1e6:.1f}",
        input_size=f"{config.image_size[0]}x{config.image_size[1]}", min_depth=config.min_depth,
        max_depth=config.max_depth, sample_image="sample_depth.png",
        training_summary=_training_summary(origin["record"], origin["sources"]),
        eval_intro=intro, eval_table=table, files=listing,
    )
    card.save(out_dir / "README.md")
    return files + ["README.md"]


def code_url() -> Optional[str]:
    """The source repository's address from the installed package's metadata (`[project.urls]`), if any."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("litedepth-hf").get_all("Project-URL") or []
    except PackageNotFoundError:
        return None
    found = dict(url.split(", ", 1) for url in urls if ", " in url)
    return found.get("Repository") or found.get("Source") or found.get("Homepage")


def _describe(name: str) -> str:
    if name.endswith(".tflite"):
        graph = "full-frame (uint8 HxWx3 in, depth at frame size)" if "fullframe" in name else "core (1/4 depth)"
        return f"TFLite {name.split('_')[-1].removesuffix('.tflite')}, {graph}"
    if name.endswith(".onnx"):
        return "ONNX fp32, " + ("full-frame" if "fullframe" in name else "core")
    return ""


def push(model_dir, repo_id: str, private: bool = False, revision: Optional[str] = None, token: Optional[str] = None,
         exports_dir=None, eval_results=None, dry_run=None, api=None, template=None, source_url=None) -> dict:
    """Build the repo folder and upload it in one commit (or, with `dry_run=DIR`, only write it there)."""
    _check_repo_id(repo_id)
    if dry_run:
        files = build_repo(model_dir, dry_run, repo_id, exports_dir, eval_results, template, source_url)
        return {"dry_run": str(dry_run), "files": files}
    api, user = _api(api, token)
    with tempfile.TemporaryDirectory(prefix="litedepth-push-") as staging:
        folder = Path(staging) / "repo"
        files = build_repo(model_dir, folder, repo_id, exports_dir, eval_results, template, source_url)
        commit = _upload(api, user, folder, repo_id, "model", private, revision, "Upload LiteDepth (litedepth push)")
    return {"repo_id": repo_id, "files": files, "commit": commit}


def push_space(site_dir, repo_id: str, private: bool = False, revision: Optional[str] = None,
               token: Optional[str] = None, dry_run=None, api=None) -> dict:
    """Upload a `litedepth demo` folder as a static Space in one commit (or, with `dry_run=DIR`, copy what would be
    uploaded there). The folder's README.md is the Space card (sdk: static, the cross-origin isolation headers)."""
    _check_repo_id(repo_id)
    site = Path(site_dir)
    missing = [name for name in ("index.html", "demo.js", "demo.json", "README.md") if not (site / name).is_file()]
    if missing:
        raise HubError(f"{site} is not a `litedepth demo` folder (missing {', '.join(missing)})")
    files = sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())
    if dry_run:
        if Path(dry_run).exists() and any(Path(dry_run).iterdir()):
            raise HubError(f"--dry-run {dry_run} exists and is not empty: choose a new or empty folder")
        shutil.copytree(site, dry_run, dirs_exist_ok=True)
        return {"dry_run": str(dry_run), "files": files}
    api, user = _api(api, token)
    commit = _upload(api, user, site, repo_id, "space", private, revision, "Upload the LiteDepth demo (litedepth push)")
    return {"repo_id": repo_id, "files": files, "commit": commit}


def _check_repo_id(repo_id: str) -> None:
    if "/" not in repo_id or repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise HubError(f"the repo id must look like ORG/NAME, got {repo_id!r}")


def _api(api, token):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = api or HfApi(token=token)
    try:
        return api, api.whoami()
    except (HfHubHTTPError, OSError, ValueError) as error:
        raise HubError("No valid Hugging Face token: run `hf auth login` or set HF_TOKEN "
                       f"(nothing was uploaded; {type(error).__name__})") from None


def _upload(api, user: dict, folder: Path, repo_id: str, repo_type: str, private: bool, revision, message: str) -> str:
    from huggingface_hub.errors import HfHubHTTPError

    try:
        api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True,
                        **({"space_sdk": "static"} if repo_type == "space" else {}))
        if revision:
            api.create_branch(repo_id, branch=revision, repo_type=repo_type, exist_ok=True)
        commit = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type=repo_type, revision=revision,
                                   commit_message=message)
    except HfHubHTTPError as error:
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status in (401, 403):
            raise HubError(f"{user.get('name', 'this token')} cannot write to {repo_id} (HTTP {status}): "
                           "check the organisation and the token's write scope") from None
        raise HubError(f"Upload to {repo_id} failed: {error}") from None
    return str(getattr(commit, "commit_url", commit))
