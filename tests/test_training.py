"""`scripts/train.py` end to end on real frames: it learns, it resumes exactly, it protects outputs."""

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def train(output_dir, train_dir, *flags, check=True):
    command = [sys.executable, str(ROOT / "scripts" / "train.py"), "--train_data", str(train_dir),
               "--output_dir", str(output_dir), "--report_to", "none", "--disable_tqdm", "true", *flags]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "OMP_NUM_THREADS": "2"})
    if check:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result


def history(output_dir):
    return json.loads((Path(output_dir) / "training_run.json").read_text())["log_history"]


def test_short_cpu_run_reduces_the_loss(tmp_path, train_dir):
    out = tmp_path / "run"
    train(out, train_dir, "--max_train_samples", "16", "--num_train_epochs", "20",
          "--per_device_train_batch_size", "4", "--logging_steps", "4", "--warmup_steps", "4",
          "--loss_weighting", "fixed", "--save_strategy", "no")
    losses = [entry["loss"] for entry in history(out) if "loss" in entry]
    assert len(losses) >= 10
    assert sum(losses[-3:]) / 3 < 0.85 * sum(losses[:3]) / 3, losses
    terms = [entry for entry in history(out) if "loss_silog" in entry]
    assert terms and all(k in terms[-1] for k in ("loss_gradient", "loss_virtual_normal", "loss_robust"))
    files = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "config.json", "preprocessor_config.json", "training_curves.png"} <= files
    assert not any(f.endswith((".pt", ".pth", ".ckpt")) or f == "pytorch_model.bin" for f in files)


def test_resume_continues_the_same_schedule(tmp_path, train_dir):
    flags = ["--max_train_samples", "8", "--num_train_epochs", "4", "--per_device_train_batch_size", "4",
             "--logging_steps", "1", "--warmup_steps", "2", "--save_strategy", "epoch", "--save_total_limit", "10",
             "--seed", "3", "--loss_weighting", "dynamic"]
    full = tmp_path / "full"
    train(full, train_dir, *flags)
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    shutil.copytree(full / "checkpoint-4", resumed / "checkpoint-4")  # as if killed after epoch 2
    assert (resumed / "checkpoint-4" / "loss_state.safetensors").is_file()
    train(resumed, train_dir, *flags, "--resume_from_checkpoint", str(resumed / "checkpoint-4"))

    def steps(run):
        return {e["step"]: e for e in history(run) if "loss" in e and e["step"] > 4}

    a, b = steps(full), steps(resumed)
    assert sorted(a) == sorted(b) == [5, 6, 7, 8]
    # its timings are those of the last stretch, and the record says so (the card then does)
    assert json.loads((resumed / "training_run.json").read_text())["resumed_at_step"] == 4
    assert "resumed_at_step" not in json.loads((full / "training_run.json").read_text())
    for step in a:
        assert a[step]["learning_rate"] == pytest.approx(b[step]["learning_rate"], rel=1e-9)
        # exact: the loss weights' gradients are cleared every step (they once summed over all past steps,
        # and a resumed run, starting from none, drifted by ~0.2 %)
        assert a[step]["loss"] == pytest.approx(b[step]["loss"], rel=1e-6)
        assert a[step]["weight_silog"] == pytest.approx(b[step]["weight_silog"], rel=1e-6)


def test_existing_output_is_never_overwritten_silently(tmp_path, train_dir):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = train(out, train_dir, "--max_train_samples", "4", "--max_steps", "1", check=False)
    assert result.returncode != 0 and "is not empty" in result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_train_help_reads_well():
    """--help is a page of our flags and the common Trainer ones (it was 763 lines); --help-all has every one;
    `litedepth train` and scripts/train.py are one command; a missing required flag is one line."""
    short = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), "--help"],
                           capture_output=True, text=True, timeout=120)
    assert short.returncode == 0 and len(short.stdout.splitlines()) < 80
    for flag in ("--train_data", "--eval_data", "--losses", "--loss_weighting", "--crop", "--learning_rate", "--recipe",
                 "--camera_model", "--help-all"):
        assert flag in short.stdout
    full = subprocess.run([sys.executable, "-m", "litedepth_hf.cli", "train", "--help-all"],
                          capture_output=True, text=True, timeout=120)
    assert full.returncode == 0 and "--gradient_accumulation_steps" in full.stdout and len(full.stdout.splitlines()) > 300
    verb = subprocess.run([sys.executable, "-m", "litedepth_hf.cli", "train", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert verb.stdout == short.stdout
    # no data or output folder: one line naming what is missing, not the Trainer's 130-line usage
    bare = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), "--train-data", "x"], capture_output=True,
                          text=True, timeout=120)
    assert bare.returncode != 0 and bare.stdout == ""
    assert bare.stderr.strip() == "litedepth train: --output_dir required (litedepth train --help)", bare.stderr


def test_recipe_file_is_read_and_the_command_line_wins(tmp_path):
    """Defaults come from recipes/default.args (the paper's), a --recipe layers on it, the command line wins; the
    library's own defaults (LiteDepthLoss, LiteDepthConfig) agree with the paper's recipe."""
    from litedepth_hf import LiteDepthConfig
    from litedepth_hf.losses import LiteDepthLoss

    script = importlib.import_module("litedepth_hf.train")
    base = ["--train_data", "frames", "--output_dir", str(tmp_path / "out"), "--report_to", "none"]
    args, training, _ = script.parse_args(base)
    assert (args.crop, args.augment, args.loss_weighting) == ("r2", "paper", "dynamic") == (
        "r2", "paper", LiteDepthLoss().weighting)
    assert (training.per_device_train_batch_size, training.learning_rate, training.adam_epsilon) == (8, 4e-3, 1e-3)
    assert args.max_depth is None and script.build_model(args).config.max_depth == LiteDepthConfig().max_depth == 10
    args.config = '{"width_multipler": 2.0}'  # a misspelt field once trained the default-size model in silence
    with pytest.raises(SystemExit, match="unknown LiteDepthConfig field.*width_multipler"):
        script.build_model(args)
    args.config = '{"width_multiplier": 2.0}'
    assert script.build_model(args).config.width_multiplier == 2.0
    args.config = str(ROOT / "litedepth_hf" / "checkpoints" / "litedepth-synth" / "config.json")  # a saved one
    assert script.build_model(args).config.canonical_focal_length == pytest.approx(0.866)
    args.config = None
    args, training, _ = script.parse_args(["--recipe", "litedepth-synth", *base, "--seed", "5"])
    assert (args.crop, args.augment, args.loss_weighting, args.camera_model) == ("fixed", "strong", "fixed", True)
    assert (training.per_device_train_batch_size, training.warmup_steps, training.weight_decay) == (32, 500, 0.1)
    assert training.adam_epsilon == 1e-3 and training.seed == 5  # default.args still under it; the command line wins
    own = tmp_path / "mine.args"
    own.write_text("--crop r2  # a comment\n--learning_rate 1e-3\n")
    args, training, _ = script.parse_args(["--recipe", "litedepth-synth", "--recipe", str(own), *base])
    assert args.crop == "r2" and training.learning_rate == 1e-3 and training.per_device_train_batch_size == 32
    with pytest.raises(SystemExit, match="neither a shipped recipe"):
        script.parse_args(["--recipe", str(tmp_path / "missing.args"), *base])


def test_mixing_weights_hold_over_an_epoch():
    import torch

    from litedepth_hf.training import MixtureDataset

    sources = [[("big", i) for i in range(500)], [("small", i) for i in range(7)], [("third", i) for i in range(40)]]
    mixture = MixtureDataset(sources, [0.7, 0.2, 0.1], epoch_size=1000)
    torch.manual_seed(0)
    drawn = [mixture[i] for i in torch.randperm(len(mixture)).tolist()]
    shares = {name: sum(1 for n, _ in drawn if n == name) / len(drawn) for name in ("big", "small", "third")}
    assert shares == pytest.approx({"big": 0.7, "small": 0.2, "third": 0.1}, abs=0.05)
    assert len({i for n, i in drawn if n == "small"}) == 7  # every frame of the small source is seen
    equal = MixtureDataset(sources, [1, 1, 1])
    assert len(equal) == 547 and max(equal.counts) - min(equal.counts) <= 1
    with pytest.raises(ValueError, match="not all 0"):
        MixtureDataset(sources, [0, 0, 0])


def test_train_mix_names_sources(train_dir, tmp_path):
    train = importlib.import_module("litedepth_hf.train")
    assert train.parse_mix("tum_fr1_rpy=0.2,synth=0.8", ["synth", "tum_fr1_rpy"]) == [0.8, 0.2]
    assert train.parse_mix(None, ["a", "b"]) == [1.0, 1.0]
    with pytest.raises(SystemExit, match="not a training source"):
        train.parse_mix("desk=1", ["synth", "tum_fr1_rpy"])
    with pytest.raises(SystemExit, match="NAME=WEIGHT"):
        train.parse_mix("synth=lots", ["synth"])


def test_typos_stop_train_before_any_frame_is_decoded(train_dir, tmp_path):
    """A bad loss term, eval folder or second training source once surfaced only after the first source was
    decoded (minutes on 12,000 renders), and as a traceback."""
    train = importlib.import_module("litedepth_hf.train")
    cache = tmp_path / "decoded"
    base = ["--output_dir", str(tmp_path / "out"), "--report_to", "none", "--decoded_cache", str(cache)]
    train_dir = str(train_dir)
    for extra, said in ((["--train_data", train_dir, "--losses", "silog,bogus"], "Unknown loss terms"),
                        (["--train_data", train_dir, "--eval_data", str(tmp_path / "no_eval")], "not found"),
                        (["--train_data", train_dir, str(tmp_path / "no_renders")], "not found")):
        with pytest.raises(SystemExit, match=said):
            train.main(base + extra)
        assert not cache.exists()


def test_stop_at_step_cuts_the_run_but_keeps_its_schedule(tmp_path, train_dir):
    out = tmp_path / "cut"
    result = train(out, train_dir, "--max_train_samples", "8", "--max_steps", "40", "--per_device_train_batch_size", "2",
                   "--warmup_steps", "2", "--save_strategy", "no", "--logging_steps", "1", "--stop_at_step", "3")
    assert "stopping at step 3 (--stop_at_step) of a 40-step schedule" in result.stdout
    logged = {e["step"]: e for e in history(out) if "learning_rate" in e}
    assert max(logged) == 3 and (out / "model.safetensors").is_file()
    assert logged[3]["learning_rate"] > 0.9 * 4e-3  # step 3 of 40 after 2 warm-up steps, not the end of a 3-step decay


def test_time_budget_stops_cleanly_and_keeps_the_model(tmp_path, train_dir):
    out = tmp_path / "budget"
    result = train(out, train_dir, "--max_train_samples", "8", "--max_steps", "40", "--per_device_train_batch_size", "2",
                   "--warmup_steps", "2", "--save_strategy", "no", "--time_budget_minutes", "0.0005")
    assert "time budget of 0.0 min reached at step" in result.stdout
    steps = [e["step"] for e in history(out) if "train_runtime" in e]
    assert steps and steps[0] < 40
    assert (out / "model.safetensors").is_file()
    record = json.loads((out / "training_run.json").read_text())
    assert record["hardware"].startswith("CPU")
