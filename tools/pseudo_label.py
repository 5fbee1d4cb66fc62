#!/usr/bin/env python
"""See moco_plugin/cli/pseudo_label.py."""
from moco_plugin.cli.pseudo_label import main

if __name__ == '__main__':
    main()
