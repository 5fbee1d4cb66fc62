#!/usr/bin/env python
"""See moco_plugin/cli/make_label_subset.py."""
from moco_plugin.cli.make_label_subset import main

if __name__ == '__main__':
    main()
