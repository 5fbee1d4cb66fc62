"""Load a benchmark script (``benchmarks/scripts/NAME.py``, not a package module) for a test."""
import importlib.util
from types import ModuleType

from tests.conftest import REPO_ROOT


def load_script(name: str) -> ModuleType:
    """The module ``benchmarks/scripts/{name}.py``, executed once per call."""
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / 'benchmarks' / 'scripts' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
