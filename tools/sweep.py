#!/usr/bin/env python
"""Run a sweep spec: ``python tools/sweep.py SPEC.json [--jobs N]``."""
from moco_plugin.cli.sweep import main

if __name__ == '__main__':
    main()
