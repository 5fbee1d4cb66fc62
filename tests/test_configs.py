"""Every packaged config builds, and a config a user runs is at most two _base_ levels deep."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from mmengine.config import Config

from moco_plugin.utils.config_files import PACKAGED_CONFIGS, find_config, packaged_config_names

# configs/fewlabel/ holds recipes of tools/train_few_labels.py (a probe or fine-tuning on
# top of a pretraining config), not configs of a model to train.
RECIPES = sorted((PACKAGED_CONFIGS / 'fewlabel').glob('*.py'))
USER_CONFIGS = sorted(p for p in PACKAGED_CONFIGS.rglob('*.py')
                      if '_base_' not in p.parts and p not in RECIPES)


def bases(path: Path) -> list[Path]:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == '_base_'
                                                for t in node.targets):
            value = ast.literal_eval(node.value)
            return [(path.parent / v).resolve() for v in ([value] if isinstance(value, str) else value)]
    return []


def inheritance_depth(path: Path) -> int:
    """0 for a config without ``_base_``; else 1 + the deepest of its bases."""
    parents = bases(path)
    return 1 + max(inheritance_depth(p) for p in parents) if parents else 0


@pytest.mark.parametrize('path', USER_CONFIGS, ids=lambda p: p.stem)
def test_user_config_is_at_most_two_base_levels_deep(path):
    assert inheritance_depth(path) <= 2


def test_depth_counts_every_level(tmp_path):
    (tmp_path / 'a.py').write_text('x = 1\n')
    (tmp_path / 'b.py').write_text("_base_ = ['./a.py']\n")
    (tmp_path / 'c.py').write_text("_base_ = './b.py'\n")
    (tmp_path / 'd.py').write_text("_base_ = ['./c.py', './a.py']\n")
    assert [inheritance_depth(tmp_path / f'{n}.py') for n in 'abcd'] == [0, 1, 2, 3]


@pytest.mark.parametrize('path', USER_CONFIGS, ids=lambda p: p.stem)
def test_config_loads_and_is_found_by_name(path):
    cfg = Config.fromfile(str(path))
    assert cfg.model.type and cfg.default_scope == 'moco_plugin'
    assert find_config(path.stem) == path


def test_unknown_config_name_suggests_close_ones():
    with pytest.raises(FileNotFoundError, match='did you mean mocov2_resnet18_1xb256-coslr-200e_cifar10'):
        find_config('mocov2_resnet18_1xb256-coslr-200e_cifar1')
    assert 'default_runtime' not in packaged_config_names()


@pytest.mark.parametrize('path', RECIPES, ids=lambda p: p.stem)
def test_few_label_recipes_load(path):
    assert Config.fromfile(str(path)).to_dict()
