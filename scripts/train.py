#!/usr/bin/env python
"""`accelerate launch scripts/train.py ARGS` trains LiteDepth: the same as `litedepth train ARGS`.

The code is `litedepth_hf/train.py`, installed with the package; this file is what accelerate launches.
`python scripts/train.py --help` lists our flags and the common Trainer ones, `--help-all` every one.
"""

import sys

from litedepth_hf.train import main

if __name__ == "__main__":
    sys.exit(main())
