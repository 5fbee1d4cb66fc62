"""Turn configuration and input mistakes into one-line messages with a fix."""
from __future__ import annotations

import inspect
import os
import re
import sys
import traceback
from typing import Callable, NoReturn

from tqdm import tqdm

from moco_plugin import registry
from moco_plugin.registry import close_names

# Exceptions raised for bad input (config, paths, files); anything else is a bug and
# keeps its traceback.
USER_ERRORS = (KeyError, TypeError, ValueError, FileNotFoundError, NotADirectoryError,
               PermissionError, RuntimeError, ImportError, SyntaxError)


def _registered_class(name: str):
    for reg in (registry.MODELS, registry.HOOKS, registry.DATASETS, registry.TRANSFORMS,
                registry.OPTIM_WRAPPERS, registry.PARAM_SCHEDULERS, registry.LOOPS):
        node = reg
        while node is not None:
            if name in node.module_dict:
                return node.module_dict[name]
            node = node.parent
    return None


def explain(err: BaseException) -> str:
    """One line describing ``err``, with a 'did you mean' for unknown arguments."""
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    text = ' '.join(text.split())
    match = re.search(r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'", text)
    if match:
        cls = _registered_class(match.group(1))
        if cls is not None:
            params = [p for p in inspect.signature(cls.__init__).parameters if p != 'self']
            hint = close_names(match.group(2), params, n=3)
            suggestion = f'did you mean {", ".join(hint)}?' if hint else f'valid keys: {", ".join(params)}'
            return (f"config key '{match.group(2)}' is not an argument of {match.group(1)}; "
                    f'{suggestion}')
    return text


def run_cli(prog: str, main: Callable[[], None]) -> NoReturn:
    """Run ``main``; print user errors as ``prog: error: ...`` and exit 2.

    Set ``MOCO_DEBUG=1`` to get the full traceback instead.
    """
    try:
        main()
    except KeyboardInterrupt:
        print(f'{prog}: interrupted', file=sys.stderr)
        sys.exit(130)
    except USER_ERRORS as err:
        # An open progress bar would print its last state after the message at exit.
        for bar in list(getattr(tqdm, '_instances', ())):
            bar.close()
        if os.environ.get('MOCO_DEBUG'):
            traceback.print_exc()
        print(f'{prog}: error: {explain(err)} (set MOCO_DEBUG=1 for the traceback)',
              file=sys.stderr)
        sys.exit(2)
    sys.exit(0)
