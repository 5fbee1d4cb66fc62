#!/usr/bin/env python
"""See moco_plugin/cli/label_studio.py."""
from moco_plugin.cli.label_studio import main

if __name__ == '__main__':
    main()
