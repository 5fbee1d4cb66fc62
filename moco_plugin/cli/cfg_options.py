"""``--cfg-options KEY=VALUE ...`` with a one-line error for values MMEngine cannot parse."""
from __future__ import annotations

import argparse
from typing import Iterable, Mapping, Optional, Sequence

from mmengine.config import DictAction


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


def check_top_level_keys(config_keys: Iterable[str], options: Mapping[str, object]) -> None:
    """:func:`moco_plugin.engine.config_overrides.check_top_level_keys` (imported on use, so
    parsing arguments does not load the engine)."""
    from moco_plugin.engine.config_overrides import check_top_level_keys as check
    check(config_keys, options)
