#!/usr/bin/env python
"""Convert/export MoCo checkpoints: ``python tools/convert_checkpoint.py IN OUT --to FORMAT``."""
from moco_plugin.cli.convert_checkpoint import main

if __name__ == '__main__':
    main()
