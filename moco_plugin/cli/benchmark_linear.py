"""The old name of :mod:`moco_plugin.cli.benchmark` (``tools/benchmark_linear.py``), kept as
an alias: ``python -m moco_plugin.cli.benchmark_linear`` says so on stderr and runs it."""
from __future__ import annotations

import sys

from moco_plugin.cli.benchmark import benchmark, compare, main, parse_args  # noqa: F401

ALIAS_NOTE = ('benchmark_linear.py is an alias of tools/benchmark.py (moco-benchmark); '
              'running that')

if __name__ == '__main__':
    print(ALIAS_NOTE, file=sys.stderr, flush=True)
    main()
