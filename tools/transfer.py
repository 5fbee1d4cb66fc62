#!/usr/bin/env python
"""Transfer table: ``python tools/transfer.py --checkpoint NAME=CONFIG:CKPT ... --dataset ...``."""
from moco_plugin.cli.transfer import main

if __name__ == '__main__':
    main()
