#!/usr/bin/env python
"""The old name of ``tools/benchmark.py``: says so on stderr, then runs it with the same
arguments."""
import sys

from moco_plugin.cli.benchmark import main
from moco_plugin.cli.benchmark_linear import ALIAS_NOTE

if __name__ == '__main__':
    print(ALIAS_NOTE, file=sys.stderr, flush=True)
    main()
