#!/usr/bin/env python
"""k-NN / linear benchmarks of a pretrained backbone, or a comparison of several results.

``python tools/benchmark.py CONFIG CHECKPOINT [--knn] [--linear] [options]``
``python tools/benchmark.py --compare results/*.json --out results/comparison.md``
"""
from moco_plugin.cli.benchmark import main

if __name__ == '__main__':
    main()
