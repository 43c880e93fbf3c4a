#!/usr/bin/env python
"""`accelerate launch scripts/train.py ARGS` trains LiteDepth: the same as `litedepth train ARGS`.

The code is `litedepth_hf/train.py`, installed with the package; this file is what accelerate launches.
`python scripts/train.py --help` lists our flags and the common Trainer ones, `--help-all` every one.
"""

import sys

from litedepth_cli import quiet_import_noise

quiet_import_noise()  # before the library's import pulls in transformers (and torchao where installed)
from litedepth_hf.train import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
