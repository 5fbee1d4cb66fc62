#!/usr/bin/env python
"""See moco_plugin/cli/active_learning.py."""
from moco_plugin.cli.active_learning import main

if __name__ == '__main__':
    main()
