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
    # A logger of its own (the current one then): an earlier test's Runner may have left a
    # current logger with a log file, and MMEngine writes the report into that file instead.
    logger = MMLogger.get_instance(f'test_quiet_{quiet}_{id(object())}')
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
    assert _init_report_lines(quiet=False) > 50  # one record per parameter of a ResNet-18
    assert _init_report_lines(quiet=True) == 0
    logger = MMLogger.get_instance('test_quiet_level')
    level = logger.level
    with quiet_mmengine():
        assert logger.level == logging.WARNING
    assert logger.level == level
