"""Entry point of the `litedepth` console command.

It lives beside the package, not in it, on purpose: `import litedepth_hf` registers the model with
transformers' Auto classes, which imports torch and transformers (seconds). When this module is loaded first,
the package defers that registration until a command needs a model, so `litedepth --help`, `--version` and
argument errors answer at once.
"""


import logging


class KnownImportNoise(logging.Filter):
    """Drops two harmless messages that importing transformers 4.57 beside torchao (the export extra's
    quantiser) logs: torchao's GPU-only kernels failing to load on a CPU machine, and torch's deprecation note
    on torchao registering its enums. Installed by the command only; importing the library changes no logging."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("torchao/_C" in message or "is an Enum subclass and is now natively supported" in message)


def quiet_import_noise() -> None:
    """For programs (this command, scripts/train.py), before they import the library; never on import."""
    for name in ("torchao", "torch.utils._pytree"):
        logging.getLogger(name).addFilter(KnownImportNoise())


def main(argv=None) -> int:
    quiet_import_noise()
    from litedepth_hf.cli import main as run

    return run(argv)
