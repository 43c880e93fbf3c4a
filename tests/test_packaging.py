"""The package as a user installs it: a wheel, outside the checkout, from an unrelated working directory."""

import json
import os
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel built from this checkout, installed (without its dependencies, which this environment has) into a
    folder of its own that leads PYTHONPATH, so its modules, not the checkout's, are the ones imported."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(folder / "dist"), str(ROOT)], check=True, capture_output=True, timeout=600)
    wheel = next((folder / "dist").glob("litedepth_hf-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(folder / "site"),
                    str(wheel)], check=True, capture_output=True, timeout=600)
    return wheel, folder / "site"


def _run(site, cwd, *args):
    env = dict(os.environ, PYTHONPATH=str(site), HF_HUB_OFFLINE="1")
    code = "import sys, litedepth_cli; sys.exit(litedepth_cli.main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_the_wheel_carries_what_the_package_reads(installed):
    wheel, site = installed
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("litedepth_hf/resources/model_card.md", "litedepth_hf/resources/sample.jpg", "litedepth_cli.py",
                   "litedepth_runtime.py", "litedepth_hf/recipes/default.args", "litedepth_hf/recipes/litedepth-synth.args",
                   "litedepth_hf/checkpoints/litedepth-synth/model.safetensors", "litedepth_hf/synthetic/scenes.py"):
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "scripts/", "docs/", "benchmarks/", "experiments/")) for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "litedepth-pi = litedepth_runtime:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_push_dry_run_and_predict_from_an_installed_wheel(installed, tmp_path, dev_dir):
    """`litedepth push` read the card template and sample photo from beside the checkout, so it failed from a
    wheel; both now ship inside the package."""
    _, site = installed
    where = subprocess.run([sys.executable, "-c", "import litedepth_hf; print(litedepth_hf.__file__)"],
                           env=dict(os.environ, PYTHONPATH=str(site)), cwd=tmp_path, capture_output=True, text=True)
    assert where.stdout.strip().startswith(str(site)), where.stdout  # the wheel's copy, not the checkout
    checkpoint = site / "litedepth_hf" / "checkpoints" / "litedepth-synth"
    pushed = _run(site, tmp_path, "push", str(checkpoint), "--dry-run", str(tmp_path / "repo"), "--repo-id",
                  "someone/litedepth")
    assert pushed.returncode == 0, pushed.stderr[-2000:]
    card = (tmp_path / "repo" / "README.md").read_text()
    assert "someone/litedepth" in card and (tmp_path / "repo" / "sample_depth.png").stat().st_size > 10_000
    image = dev_dir / "rgb" / "0000.jpg"
    predicted = _run(site, tmp_path, "predict", str(image), "--out", "depth")
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    assert (tmp_path / "depth" / "0000_depth_mm.png").is_file()
    assert json.loads((tmp_path / "repo" / "config.json").read_text())["model_type"] == "litedepth"
    recipes = _run(site, tmp_path, "train", "--help")  # reads recipes/default.args from the installed package
    assert recipes.returncode == 0 and "litedepth-synth" in recipes.stdout, recipes.stderr[-2000:]


def _imports_of(path, module: str, known: set) -> set:
    """Modules of `known` that `path` imports anywhere (top level or inside functions), relative ones resolved."""
    import ast

    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            parts = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(parts + ([node.module] if node.module else []))
            names = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known and name != module}
    return found


def test_import_graph_has_no_cycles_and_no_script_is_imported():
    """The library, the runtime and the CLI entry import each other without cycles; the runtime imports none of the
    library (it is the one file a Pi copies); no code edits sys.path or loads a file as a module."""
    files = {}
    for path in sorted((ROOT / "litedepth_hf").rglob("*.py")) + [ROOT / "litedepth_runtime.py", ROOT / "litedepth_cli.py"]:
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        files[name.removesuffix(".__init__")] = path
    graph = {name: _imports_of(path, name, set(files)) for name, path in files.items()}
    assert graph["litedepth_runtime"] == set()
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in graph[node]:
            assert state.get(nxt) != "open", f"import cycle: {' -> '.join(trail + [node, nxt])}"
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [])
    code = [ROOT / "litedepth_runtime.py", ROOT / "litedepth_cli.py"] + [
        p for folder in ("litedepth_hf", "scripts", "benchmarks", "experiments", "tests") for p in (ROOT / folder).rglob("*.py")]
    for path in code:
        text = path.read_text()
        for pattern in ("sys.path.insert", "sys.path.append", "spec_from_file_location"):
            assert pattern not in text or path.name == "test_packaging.py", f"{path.relative_to(ROOT)}: {pattern}"
