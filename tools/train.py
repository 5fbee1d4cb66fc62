#!/usr/bin/env python
"""Pretrain a self-supervised model: ``python tools/train.py CONFIG [options]``."""
from moco_plugin.cli.train import main

if __name__ == '__main__':
    main()
