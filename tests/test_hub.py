"""Hub release: the dry-run repo, its card, loading it offline from a real Hub cache layout, the upload call."""

import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from huggingface_hub import ModelCard, ModelCardData
from huggingface_hub.utils import filter_repo_objects

import litedepth_runtime
from litedepth_hf import DEFAULT_CHECKPOINT
from litedepth_hf.hub import HubError, build_repo, push

REPO_ID = "litedepth-test/litedepth"
CORE_FILES = ["README.md", "config.json", "configuration_litedepth.py", "eval_results.json",
              "image_processing_litedepth.py", "model.safetensors", "modeling_litedepth.py",
              "preprocessor_config.json", "sample_depth.png"]
EXPORT_FILES = ["export.json", "litedepth_runtime.py", "onnx/model.onnx", "onnx/model_fullframe.onnx"] + [
    f"tflite/model{g}_{p}.tflite" for g in ("", "_fullframe") for p in ("fp32", "fp16", "int8")]
EVAL = Path(DEFAULT_CHECKPOINT) / "dev_metrics.json"


@pytest.fixture(scope="module")
def repo(tmp_path_factory, exported):
    folder = tmp_path_factory.mktemp("hub") / "repo"
    files = push(DEFAULT_CHECKPOINT, REPO_ID, exports_dir=exported[0], eval_results=EVAL, dry_run=folder)["files"]
    return folder, files


def test_dry_run_holds_exactly_the_expected_files(repo):
    folder, files = repo
    on_disk = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert sorted(files) == on_disk == sorted(CORE_FILES + EXPORT_FILES)


def test_card_parses_and_carries_the_evaluation_to_the_digit(repo):
    folder, _ = repo
    card = ModelCard.load(folder / "README.md")
    data = card.data
    assert isinstance(data, ModelCardData)
    assert data.library_name == "transformers" and data.pipeline_tag == "depth-estimation"
    assert {"depth-estimation", "monocular-depth", "tflite", "onnx", "raspberry-pi", "mobile"} <= set(data.tags)
    expected = next(iter(json.loads(EVAL.read_text())["results"].values()))
    found = {r.metric_type: r.metric_value for r in data.eval_results}
    assert found == {k: round(expected[k], 4) for k in ("si_rmse", "rmse", "abs_rel", "delta1")}
    assert f"{expected['si_rmse']:.4f}" in card.text and repr(expected["si_rmse"]) not in card.text
    assert "../shared" not in card.text and "pip install litedepth-hf`" not in card.text
    assert "rendered by `litedepth synth` (generated, CC0-1.0)" in card.text  # what the default saw
    assert "distilled from" not in card.text and "/root" not in card.text  # the default had no teacher
    for section in ("trained from scratch", "Intended use", "litedepth_runtime.py --repo-id", "model_int8.tflite", "li2022litedepth",
                    "sturm2012tum", "sample_depth.png"):
        assert section in card.text


def test_card_without_exports_or_eval_flag_picks_up_metrics_and_drops_the_pi_command(tmp_path):
    """A bare `litedepth push MODEL_DIR`: dev_metrics.json beside the weights is the card's evaluation; with no
    TFLite graph, no Pi command that would fail and no tflite/onnx tags."""
    folder = tmp_path / "repo"
    push(DEFAULT_CHECKPOINT, REPO_ID, dry_run=folder)
    card = ModelCard.load(folder / "README.md")
    expected = next(iter(json.loads(EVAL.read_text())["results"].values()))
    assert {r.metric_type: r.metric_value for r in card.data.eval_results}["si_rmse"] == round(expected["si_rmse"], 4)
    assert "reports no metrics" not in card.text and (folder / "eval_results.json").is_file()
    assert "litedepth_runtime.py --repo-id" not in card.text and "carries no TFLite export" in card.text
    assert not {"tflite", "onnx", "raspberry-pi"} & set(card.data.tags)
    assert "pip install -e" in card.text  # no source address known: install from a checkout


def test_card_links_the_code_it_was_given(tmp_path):
    url = "https://github.com/example-org/litedepth_hf"
    push(DEFAULT_CHECKPOINT, REPO_ID, dry_run=tmp_path / "repo", source_url=url)
    text = ModelCard.load(tmp_path / "repo" / "README.md").text
    assert f'pip install "litedepth-hf[all] @ git+{url}"' in text


def test_card_of_a_fine_tuned_model_names_its_start_not_scratch(tmp_path):
    """Weights text comes from training_run.json: a run that started from a checkpoint is not 'from scratch'."""
    model = tmp_path / "model"
    shutil.copytree(DEFAULT_CHECKPOINT, model)
    run = json.loads((model / "training_run.json").read_text())
    run.setdefault("script_args", {})["model_name_or_path"] = "/home/someone/checkpoints/litedepth-synth"
    (model / "training_run.json").write_text(json.dumps(run))
    push(model, REPO_ID, dry_run=tmp_path / "repo")
    text = (tmp_path / "repo" / "README.md").read_text()
    assert "Training started from `litedepth-synth`" in text and "trained from scratch" not in text
    assert "/home/someone" not in text


def test_card_of_a_resumed_run_says_its_time_is_the_last_stretch(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(DEFAULT_CHECKPOINT, model)
    run = json.loads((model / "training_run.json").read_text())
    for resumed, folder in ((None, "plain"), (8000, "resumed")):
        run.pop("resumed_at_step", None)
        if resumed:
            run["resumed_at_step"] = resumed
        (model / "training_run.json").write_text(json.dumps(run))
        push(model, REPO_ID, dry_run=tmp_path / folder)
    minutes = f"{run['metrics']['train_runtime'] / 60:.1f} min"
    assert f"training time: {minutes} on CPU, 2 cores." in (tmp_path / "plain" / "README.md").read_text()
    assert (f"training time: {minutes} on CPU, 2 cores for its last stretch, from step 8,000 (resumed"
            in (tmp_path / "resumed" / "README.md").read_text())


def test_card_of_a_distilled_model_names_its_teacher_by_folder_only(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(DEFAULT_CHECKPOINT, model)
    run = json.loads((model / "training_run.json").read_text())
    run["script_args"]["teacher_name_or_path"] = "/root/work/runs/curve/teacher20000"
    (model / "training_run.json").write_text(json.dumps(run))
    push(model, REPO_ID, dry_run=tmp_path / "repo")
    text = (tmp_path / "repo" / "README.md").read_text()
    assert "distilled from: `teacher20000`" in text and "/root" not in text


def test_bad_eval_results_is_one_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "metrics.json"
    bad.write_text("not json at all")
    with pytest.raises(HubError, match="is not JSON") as caught:
        push(DEFAULT_CHECKPOINT, REPO_ID, eval_results=bad, dry_run=tmp_path / "repo")
    assert "\n" not in str(caught.value) and not (tmp_path / "repo").exists()


def hub_cache(tmp_path, folder) -> Path:
    """The repo folder placed where huggingface_hub keeps downloads: models--ORG--NAME/snapshots/REV + refs/main."""
    cache = tmp_path / "hub-cache"
    revision = "0123456789abcdef0123456789abcdef01234567"
    repo_dir = cache / ("models--" + REPO_ID.replace("/", "--"))
    shutil.copytree(folder, repo_dir / "snapshots" / revision)
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text(revision)
    return cache


LOAD = """
import sys, numpy as np
from PIL import Image
if sys.argv[3] == "package":
    import litedepth_hf
from transformers import pipeline
pipe = pipeline("depth-estimation", model=sys.argv[1], trust_remote_code=sys.argv[3] != "package")
np.save(sys.argv[4], pipe(Image.open(sys.argv[2]))["predicted_depth"].numpy())
print(type(pipe.model).__module__)
"""


@pytest.mark.parametrize("mode", ["package", "remote-code"])
def test_pipeline_loads_offline_from_the_hub_cache(repo, tmp_path, dev_dir, mode):
    cache = hub_cache(tmp_path, repo[0])
    image = dev_dir / "rgb" / "0004.jpg"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache), "HF_HOME": str(tmp_path / "home"),
           "PYTHONPATH": str(ROOT) if mode == "package" else ""}
    result = subprocess.run([sys.executable, "-c", LOAD, REPO_ID, str(image), mode, str(tmp_path / "d.npy")],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    module = result.stdout.strip().splitlines()[-1]
    assert module.startswith("litedepth_hf" if mode == "package" else "transformers_modules")
    from transformers import pipeline

    local = pipeline("depth-estimation", model=DEFAULT_CHECKPOINT)(str(image))["predicted_depth"].numpy()
    np.testing.assert_allclose(np.load(tmp_path / "d.npy"), local, rtol=0, atol=1e-6)


def test_pi_script_fetches_only_tflite_and_json(repo, tmp_path, dev_dir, monkeypatch):
    pi = litedepth_runtime
    files = repo[1]
    picked = list(filter_repo_objects(files, allow_patterns=pi.hub_patterns("int8")))
    assert sorted(picked) == sorted(f for f in files if f.endswith((".tflite", ".json")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache(tmp_path, repo[0])))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", os.environ["HF_HUB_CACHE"])
    path = pi.resolve_model(None, REPO_ID, "int8", "core")
    assert path.name == "model_int8.tflite" and path.is_file()
    assert pi.main(["--repo-id", REPO_ID, "--precision", "int8", str(dev_dir / "rgb" / "0000.jpg"),
                    "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0000_depth.png", "0000_depth_mm.png"]


class RecordingHfApi:
    """A stand-in for HfApi that records calls: no network exists here, so the upload itself is not run."""

    def __init__(self, fail_whoami=None, fail_upload=None):
        self.calls, self.fail_whoami, self.fail_upload = [], fail_whoami, fail_upload

    def whoami(self):
        if self.fail_whoami:
            raise self.fail_whoami
        return {"name": "tester"}

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def create_branch(self, repo_id, **kwargs):
        self.calls.append(("create_branch", repo_id, kwargs))

    def upload_folder(self, folder_path, repo_id, **kwargs):
        if self.fail_upload:
            raise self.fail_upload
        files = sorted(str(p.relative_to(folder_path)) for p in Path(folder_path).rglob("*") if p.is_file())
        self.calls.append(("upload_folder", repo_id, {**kwargs, "files": files}))
        return type("Commit", (), {"commit_url": f"https://hub.example/{repo_id}/commit/1"})()


def http_error(status):
    from huggingface_hub.errors import HfHubHTTPError

    try:
        import httpx

        response = httpx.Response(status, request=httpx.Request("POST", "https://hub.example"))
    except ImportError:
        import requests

        response = requests.Response()
        response.status_code = status
    return HfHubHTTPError(f"{status} error", response=response)


def digest(folder) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in Path(folder).iterdir() if p.is_file()}


def test_upload_sends_the_whole_repo_in_one_commit(repo, exported):
    api = RecordingHfApi()
    before = digest(DEFAULT_CHECKPOINT)
    result = push(DEFAULT_CHECKPOINT, REPO_ID, private=True, revision="v1", exports_dir=exported[0],
                  eval_results=EVAL, api=api)
    assert digest(DEFAULT_CHECKPOINT) == before  # nothing local changed
    names = [c[0] for c in api.calls]
    assert names == ["create_repo", "create_branch", "upload_folder"]
    assert api.calls[0][1] == REPO_ID and api.calls[0][2] == {"repo_type": "model", "private": True, "exist_ok": True}
    upload = api.calls[2][2]
    assert api.calls[2][1] == REPO_ID and upload["repo_type"] == "model" and upload["revision"] == "v1"
    assert upload["files"] == sorted(repo[1]) == sorted(result["files"])


def test_token_and_permission_errors_are_clear(tmp_path):
    with pytest.raises(HubError, match="No valid Hugging Face token"):
        push(DEFAULT_CHECKPOINT, REPO_ID, api=RecordingHfApi(fail_whoami=http_error(401)))
    with pytest.raises(HubError, match="cannot write to litedepth-test/litedepth"):
        push(DEFAULT_CHECKPOINT, REPO_ID, api=RecordingHfApi(fail_upload=http_error(403)))
    with pytest.raises(HubError, match="ORG/NAME"):
        push(DEFAULT_CHECKPOINT, "no-slash", api=RecordingHfApi())
    broken = tmp_path / "broken"
    shutil.copytree(DEFAULT_CHECKPOINT, broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(HubError, match="missing model.safetensors"):
        push(broken, REPO_ID, api=RecordingHfApi())
    with pytest.raises(HubError, match="not empty"):
        build_repo(DEFAULT_CHECKPOINT, broken, REPO_ID)


def test_train_push_to_hub_ends_in_the_same_repo_as_litedepth_push(tmp_path, train_dir, dev_dir, monkeypatch):
    import huggingface_hub

    recorder = RecordingHfApi()
    monkeypatch.setattr(huggingface_hub, "HfApi", lambda token=None: recorder)
    train_script = importlib.import_module("litedepth_hf.train")
    out = tmp_path / "run"
    assert train_script.main(["--train_data", str(train_dir), "--eval_data", str(dev_dir), "--output_dir", str(out),
                              "--max_train_samples", "4", "--max_steps", "2", "--per_device_train_batch_size", "2",
                              "--report_to", "none", "--save_strategy", "no", "--disable_tqdm", "true",
                              "--push_to_hub", "--hub_model_id", REPO_ID]) == 0
    uploads = [c for c in recorder.calls if c[0] == "upload_folder"]
    assert len(uploads) == 1 and uploads[0][1] == REPO_ID
    dry = push(out, REPO_ID, eval_results=out / "eval_results.json", dry_run=tmp_path / "dry")["files"]
    assert uploads[0][2]["files"] == sorted(dry)
    assert "eval_results.json" in dry and "README.md" in dry


def _model_with_run(tmp_path, name, sources, start=None, metrics=True):
    """The embedded checkpoint with a training record of our choosing (and dev metrics or none)."""
    model = tmp_path / name
    shutil.copytree(DEFAULT_CHECKPOINT, model)
    run = json.loads((model / "training_run.json").read_text())
    run["script_args"]["train_data"] = [f"/somewhere/{s['name']}" for s in sources]
    run["script_args"]["model_name_or_path"] = start
    run["data_sources"] = sources
    (model / "training_run.json").write_text(json.dumps(run))
    if not metrics:
        (model / "dev_metrics.json").unlink()
    return model


RENDERS = {"name": "s1-v2-120x160", "rendered": True, "licence": "CC0-1.0 (generated)", "source": "litedepth synth",
           "texture_sources": [{"folder": "textures_photos", "files": 2845, "sets": {"bsds500": 500, "dtd10": 1186},
                                "terms": "mostly research use only (per-set terms in its SOURCES.md)"}],
           "mesh_sources": [{"folder": "meshes", "files": 10, "sets": {".": 10}, "terms": "CC BY 4.0 (see its SOURCES.md)"}]}
REAL = {"name": "tum_fr1_rpy", "rendered": False, "licence": None, "source": "TUM RGB-D benchmark, Sturm et al.",
        "texture_sources": [], "mesh_sources": []}


def test_every_sentence_of_the_card_is_true_of_its_model(tmp_path):
    """No metrics: no table talk, no protocol; real frames only: no word of renders; renders: the photo and mesh
    sets with their terms; fine-tuned: its start named, not 'from scratch'; never a bare 'source repository'."""
    cards = {}
    for name, sources, start, metrics in (("no_metrics", [REAL], None, False), ("real_only", [REAL], None, True),
                                          ("renders_only", [RENDERS], None, True),
                                          ("fine_tuned", [REAL], "ORG/litedepth-synth", True)):
        model = _model_with_run(tmp_path, name, sources, start, metrics)
        push(model, REPO_ID, dry_run=tmp_path / f"repo_{name}")
        cards[name] = ModelCard.load(tmp_path / f"repo_{name}" / "README.md").text
    for text in cards.values():
        assert "source repository" not in text
        assert "aspect ratio is not kept" not in text and "own aspect ratio" in text
    empty = cards["no_metrics"]
    assert "reports no metrics" in empty
    assert "the table" not in empty and "Protocol (MAI 2022)" not in empty and "validation numbers" not in empty
    for name in ("no_metrics", "real_only", "fine_tuned"):
        assert "litedepth synth" not in cards[name] and "rendered" not in cards[name]
        assert "TUM RGB-D, CC BY 4.0" in cards[name]
    assert "the table shows how far" in cards["real_only"] and "Protocol (MAI 2022)" in cards["real_only"]
    renders = cards["renders_only"]
    assert "rendered by `litedepth synth`" in renders and "TUM RGB-D, CC BY 4.0" not in renders
    assert "photo materials from `textures_photos` (2845 files: bsds500 500, dtd10 1186; mostly research use only" in renders
    assert "scanned meshes from `meshes` (10 files; CC BY 4.0" in renders
    assert "trained from scratch" in renders
    tuned = cards["fine_tuned"]
    assert "Training started from `ORG/litedepth-synth`" in tuned and "trained from scratch" not in tuned
    assert "ORG/litedepth-synth" in ModelCard.load(tmp_path / "repo_fine_tuned" / "README.md").data.base_model
