"""``--cfg-options`` keys checked against what reads them: a typo is refused, not ignored."""
from __future__ import annotations

import inspect
import re
from typing import Iterable, Mapping, Set

from moco_plugin.registry import close_names


# Top-level keys read by this project's tools beyond the Runner's own (``gpu_ids``: resume
# checks of MMEngine; ``custom_imports``/``_base_``: the config loader).
PROJECT_TOP_LEVEL_KEYS = ('custom_imports', '_base_', 'gpu_ids', 'find_unused_parameters',
                          'model_wrapper_cfg', 'launcher', 'work_dir', 'resume', 'load_from')


def runner_top_level_keys() -> Set[str]:
    """Every top-level config key MMEngine's Runner reads (its arguments and ``cfg.get`` calls)."""
    from mmengine.runner import Runner
    source = inspect.getsource(Runner)
    read = set(re.findall(r"cfg\.get\(\s*'(\w+)'", source))
    read |= set(re.findall(r"cfg\[\s*'(\w+)'\s*\]", source))
    return read | set(inspect.signature(Runner.__init__).parameters) - {'self', 'cfg'}


def check_top_level_keys(config_keys: Iterable[str], options: Mapping[str, object]) -> None:
    """Refuse ``--cfg-options`` keys whose first part nothing reads (almost always a typo).

    Args:
        config_keys: Top-level keys of the loaded config (its own helper variables count).
        options: The parsed ``--cfg-options``.

    Raises:
        KeyError: Names the key and the closest known names.
    """
    known = set(config_keys) | runner_top_level_keys() | set(PROJECT_TOP_LEVEL_KEYS)
    for key in options:
        top = key.split('.', 1)[0]
        if top not in known:
            hint = close_names(top, sorted(known), n=3)
            raise KeyError(f"--cfg-options {key}: no part of the config, the project or MMEngine "
                           f"reads a top-level key '{top}'"
                           + (f'; did you mean {", ".join(hint)}?' if hint else ''))
