#!/usr/bin/env python
"""See moco_plugin/cli/train_few_labels.py."""
from moco_plugin.cli.train_few_labels import main

if __name__ == '__main__':
    main()
