"""``--cfg-options KEY=VALUE ...`` with a one-line error for values MMEngine cannot parse."""
from __future__ import annotations

import argparse
from typing import Optional, Sequence

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
            try:
                self._parse_iterable(value)
            except (RecursionError, AssertionError, ValueError):
                parser.error(f"{option_string} {item!r}: cannot parse the value (numbers, "
                             'strings, [lists] and (tuples) work; for dicts write a config that '
                             "starts with _base_ = ['CONFIG'] and sets the key)")
        super().__call__(parser, namespace, values, option_string)
