"""quiet_mmengine keeps MMEngine's per-parameter init report out of tool output."""
import logging

from mmengine.logging import MMLogger

import moco_plugin.models  # noqa: F401
from moco_plugin.registry import MODELS
from moco_plugin.utils.quiet import quiet_mmengine


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _init_report_lines(quiet: bool) -> int:
    logger = MMLogger.get_current_instance()
    handler = _Records()
    logger.addHandler(handler)
    try:
        model = MODELS.build(dict(type='RandomInit', backbone=dict(type='ResNet', depth=18)))
        if quiet:
            with quiet_mmengine():
                model.init_weights()
        else:
            model.init_weights()
    finally:
        logger.removeHandler(handler)
    return sum('init_weights' in m or 'Initialized by' in m for m in handler.messages)


def test_init_report_is_silenced_and_the_level_restored():
    logger = MMLogger.get_current_instance()
    level = logger.level
    assert _init_report_lines(quiet=False) > 50  # one record per parameter of a ResNet-18
    assert _init_report_lines(quiet=True) == 0
    assert logger.level == level
