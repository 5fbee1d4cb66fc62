#!/usr/bin/env python
"""See moco_plugin/cli/select_labels.py."""
from moco_plugin.cli.select_labels import main

if __name__ == '__main__':
    main()
