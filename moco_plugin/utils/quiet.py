"""Keep MMEngine's per-parameter initialisation report out of a tool's output."""
from __future__ import annotations

import contextlib
import logging
from typing import Iterator

from mmengine.logging import MMLogger


@contextlib.contextmanager
def quiet_mmengine(level: int = logging.WARNING) -> Iterator[None]:
    """Raise the current MMEngine logger to ``level`` inside the block.

    ``BaseModule.init_weights`` outside a Runner (no log file) logs one multi-line INFO
    record per parameter, about 500 lines for a ResNet-18 ("The value is the same before
    and after calling init_weights"); tools that build models on their own wrap it in this.
    """
    logger = MMLogger.get_current_instance()
    previous = logger.level
    logger.setLevel(max(level, previous))
    try:
        yield
    finally:
        logger.setLevel(previous)
