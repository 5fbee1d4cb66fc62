"""Turn configuration and input mistakes into one-line messages with a fix."""
from __future__ import annotations

import inspect
import os
import re
import sys
import traceback
from typing import Callable, NoReturn

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


def _worker_error(text: str) -> str | None:
    """The original error of a DataLoader worker, from the traceback PyTorch re-raises as text.

    ``Caught CorruptImageError in DataLoader worker process 0. Original Traceback ...``
    ends with the worker's ``module.ErrorType: message`` line; only that line is news.
    """
    match = re.match(r'Caught (\w+) in DataLoader worker process (\d+)', text)
    if not match or 'Original Traceback' not in text:
        return None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    last = next((ln for ln in reversed(lines) if re.match(r'[\w.]*' + match.group(1) + r'\b', ln)),
                lines[-1])
    message = re.sub(r'^[\w.]*' + match.group(1) + r':\s*', '', last)
    return f'{message} (in data-loader worker {match.group(2)})'


def explain(err: BaseException) -> str:
    """One line describing ``err``, with a 'did you mean' for unknown arguments."""
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    text = _worker_error(text) or text
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


def _close_progress_bars() -> None:
    # An open tqdm bar (the training progress) would share the error's line on stderr.
    tqdm = sys.modules.get('tqdm')
    for bar in list(getattr(getattr(tqdm, 'tqdm', None), '_instances', ()) or ()):
        bar.close()


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
        _close_progress_bars()
        if os.environ.get('MOCO_DEBUG'):
            traceback.print_exc()
        print(f'{prog}: error: {explain(err)} (set MOCO_DEBUG=1 for the traceback)',
              file=sys.stderr)
        sys.exit(2)
    sys.exit(0)
