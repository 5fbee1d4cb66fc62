"""``--cfg-options KEY=VALUE ...`` with a one-line error for values MMEngine cannot parse."""
from __future__ import annotations

import argparse
import inspect
import re
from typing import Iterable, Mapping, Optional, Sequence, Set

from mmengine.config import DictAction

from moco_plugin.registry import close_names


class CfgOptionsAction(DictAction):
    """MMEngine's ``DictAction`` that reports a malformed item instead of a traceback.

    ``DictAction`` understands numbers, strings, booleans, ``None``, lists
    ``[a,b]`` and tuples ``(a,b)``; anything else (``dict(...)``, unbalanced
    brackets) makes it recurse until Python gives up. Such items are refused
    by name with the way to express them: a small config that inherits from
    the one being overridden.
    """

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Optional[Sequence[str]], option_string: Optional[str] = None) -> None:
        for item in values or []:
            key, sep, value = item.partition('=')
            if not sep or not key:
                parser.error(f'{option_string} {item!r}: expected KEY=VALUE, e.g. '
                             'train_cfg.max_epochs=2')
            if value.replace(' ', '').startswith(('dict(', '{')):
                # DictAction would keep it as the string 'dict(...)', which fails much later
                # as "cfg should be a dict ... but got <class 'str'>"
                parser.error(f"{option_string} {item!r}: a dict cannot be given on the command "
                             f"line; set its keys one by one ({key}.type=...), or write a "
                             f"config that starts with _base_ = ['CONFIG'] and sets {key}")
            try:
                self._parse_iterable(value)
            except (RecursionError, AssertionError, ValueError):
                parser.error(f"{option_string} {item!r}: cannot parse the value (numbers, "
                             'strings, [lists] and (tuples) work; for dicts write a config that '
                             "starts with _base_ = ['CONFIG'] and sets the key)")
        super().__call__(parser, namespace, values, option_string)


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
