"""The package's layers point one way: a subpackage imports only from lower layers.

Layers, bottom to top (docs/ARCHITECTURE.md):
0 ``registry``, ``utils``; 1 ``datasets``, ``models``; 2 ``engine``, ``evaluation``;
3 ``zoo``, ``fewlabel``; 4 ``experiments``; 5 ``cli``. Imports inside functions count too: a lazy import
that dodges a circle is still a circle.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'moco_plugin'
LAYERS = {'registry': 0, 'utils': 0, 'datasets': 1, 'models': 1, 'engine': 2, 'evaluation': 2,
          'zoo': 3, 'fewlabel': 3, 'experiments': 4, 'cli': 5}


def _subpackage(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix('').parts
    return parts[0] if parts[0] != '__init__' else '<top>'


def imported_subpackages(path: Path) -> set[str]:
    """The ``moco_plugin.X`` subpackages a file imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f'{node.module}.{a.name}' for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split('.')
            if parts[0] == 'moco_plugin' and len(parts) > 1 and parts[1] in LAYERS:
                found.add(parts[1])
    return found


def layer_violations() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob('*.py')):
        own = _subpackage(path)
        if own == '<top>':
            continue
        for target in imported_subpackages(path):
            if target != own and LAYERS[target] >= LAYERS[own]:
                problems.append(f'{path.relative_to(PACKAGE.parent)}: {own} (layer {LAYERS[own]}) '
                                f'imports {target} (layer {LAYERS[target]})')
    return problems


def test_every_subpackage_has_a_layer():
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / '__init__.py').exists()}
    subpackages |= {p.stem for p in PACKAGE.glob('*.py') if p.stem != '__init__'}
    missing = subpackages - set(LAYERS)
    assert not missing, f'give these subpackages a layer in LAYERS and ARCHITECTURE.md: {missing}'


def test_imports_point_down_only():
    assert layer_violations() == []


def test_the_checker_finds_a_circle(tmp_path, monkeypatch):
    # A lazy import of the zoo inside an engine function is still an upward import.
    fake = tmp_path / 'moco_plugin'
    (fake / 'engine').mkdir(parents=True)
    (fake / 'engine' / '__init__.py').write_text('')
    (fake / 'engine' / 'x.py').write_text('def f():\n    from moco_plugin.zoo import loading\n')
    monkeypatch.setattr(sys.modules[__name__], 'PACKAGE', fake)
    assert layer_violations() == ['moco_plugin/engine/x.py: engine (layer 2) imports zoo (layer 3)']


@pytest.mark.parametrize('subpackage', ['utils', 'datasets', 'models', 'engine', 'evaluation'])
def test_importing_a_subpackage_loads_only_lower_layers(subpackage):
    code = ('import json, sys, moco_plugin.' + subpackage + '\n'
            'print(json.dumps(sorted({m.split(".")[1] for m in sys.modules '
            'if m.startswith("moco_plugin.")})))')
    loaded = json.loads(subprocess.run([sys.executable, '-c', code], check=True, text=True,
                                       capture_output=True).stdout)
    above = [s for s in loaded if s in LAYERS and s != subpackage
             and LAYERS[s] >= LAYERS[subpackage]]
    assert above == [], f'import moco_plugin.{subpackage} also loaded {above}'
