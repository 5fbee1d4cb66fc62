#!/usr/bin/env python
"""Maintain the model zoo: ``python tools/model_zoo.py write|check|list|add ...``."""
from moco_plugin.cli.model_zoo import main

if __name__ == '__main__':
    main()
