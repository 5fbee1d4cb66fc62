#!/usr/bin/env python
"""Show or free the decoded-image, feature and download caches: ``python tools/cache.py list|clear``."""
from moco_plugin.cli.cache import main

if __name__ == '__main__':
    main()
