"""The project's cache folder: decoded datasets, extracted features, downloaded checkpoints."""
from __future__ import annotations

import os


def cache_dir() -> str:
    """``$MOCO_CACHE_DIR``, else ``~/.cache/moco_plugin``.

    Example:
        >>> import os
        >>> os.environ['MOCO_CACHE_DIR'] = '/tmp/moco-cache'
        >>> cache_dir()
        '/tmp/moco-cache'
    """
    return os.environ.get('MOCO_CACHE_DIR',
                          os.path.join(os.path.expanduser('~'), '.cache', 'moco_plugin'))
