#!/usr/bin/env python
"""Download model-zoo checkpoints: ``python tools/download_checkpoint.py NAME`` (``--list``)."""
from moco_plugin.cli.download_checkpoint import main

if __name__ == '__main__':
    main()
