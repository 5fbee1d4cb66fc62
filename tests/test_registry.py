import pytest
from mmengine.registry import DefaultScope
from mmengine.registry import MODELS as ROOT_MODELS

from moco_plugin.registry import HOOKS, MODELS, UnknownTypeError, close_names


def test_default_scope_builds_without_manual_imports():
    # The root registry switches to our child registry, which imports its locations.
    with DefaultScope.overwrite_default_scope('moco_plugin'):
        head = ROOT_MODELS.build(dict(type='InfoNCEHead', temperature=0.3))
    assert type(head).__name__ == 'InfoNCEHead' and head.temperature == 0.3


def test_unknown_type_names_type_and_close_matches():
    with pytest.raises(UnknownTypeError) as info:
        MODELS.build(dict(type='MoCov2'))
    message = str(info.value)
    assert "unknown type 'MoCov2'" in message and 'moco_plugin::model' in message
    assert 'MoCo' in message.split('Did you mean:')[1]


def test_unknown_hook_suggests_registered_hook():
    with pytest.raises(UnknownTypeError, match='QueueHook'):
        HOOKS.build(dict(type='QueueHok'))


def test_parent_registry_entries_still_found():
    assert HOOKS.get('CheckpointHook').__name__ == 'CheckpointHook'


def test_close_names_is_case_insensitive():
    assert close_names('infoncehead', ['InfoNCEHead', 'ResNet']) == ['InfoNCEHead']
