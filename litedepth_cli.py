"""Entry point of the `litedepth` console command.

It lives beside the package, not in it, on purpose: `import litedepth_hf` registers the model with
transformers' Auto classes, which imports torch and transformers (seconds). When this module is loaded first,
the package defers that registration until a command needs a model, so `litedepth --help`, `--version` and
argument errors answer at once.
"""


def main(argv=None) -> int:
    from litedepth_hf.cli import main as run

    return run(argv)
