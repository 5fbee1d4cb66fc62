"""The few-label parts the tools are built from, with explicit options (no namespace)."""
import pytest
import torch
from mmengine.config import Config

from moco_plugin.fewlabel.features import ExtractionOptions, FeatureExtractor, crop_size
from moco_plugin.fewlabel.recipes import load_classifier, load_recipe, save_classifier
from moco_plugin.fewlabel.reports import markdown_table
from moco_plugin.fewlabel.splits import DataOptions, load_fewlabel_config
from moco_plugin.zoo.backbone_loading import (evaluation_image_size, is_random_checkpoint,
                                              load_evaluation_backbone)

CONFIG = 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py'


def test_random_backbone_has_no_checkpoint_identity():
    cfg = Config.fromfile(CONFIG)
    first = load_evaluation_backbone(cfg.model, 'random', seed=3)
    again = load_evaluation_backbone(cfg.model, 'Random', seed=3)
    assert is_random_checkpoint('none') and not is_random_checkpoint('a.pth')
    assert first.checkpoint_sha256 is None and first.report is None
    assert first.weights_sha256 == again.weights_sha256 and not first.model.training
    assert evaluation_image_size(cfg, 'random') == 32 and evaluation_image_size(cfg, None, 64) == 64


def test_a_missing_checkpoint_is_named():
    cfg = Config.fromfile(CONFIG)
    with pytest.raises(FileNotFoundError, match='checkpoint not found: nope.pth'):
        load_evaluation_backbone(cfg.model, 'nope.pth')


def test_extractor_records_the_latest_choice():
    extractor = FeatureExtractor(ExtractionOptions(device='cpu', precision='fp32'), print)
    assert extractor.precision_choice is None
    choice = extractor.runtime(32)
    assert choice.precision == 'fp32' and extractor.precision_choice['device'] == 'cpu'
    assert crop_size({'pipeline': [dict(type='X'), dict(type='Y', size=48)]}) == 48
    assert crop_size({'pipeline': []}) is None


def test_data_options(tmp_path):
    assert DataOptions(csv_columns='file,target').columns == ('file', 'target')
    with pytest.raises(FileNotFoundError, match='--data-root .* is not a folder'):
        load_fewlabel_config(CONFIG, DataOptions(data_root=str(tmp_path / 'nope')))
    cfg = load_fewlabel_config(CONFIG, DataOptions(cfg_options={'model.queue_len': 64}))
    assert cfg.model.queue_len == 64


def test_recipes_and_classifier_round_trip(tmp_path):
    recipe = load_recipe('resnet18_linear-fewlabel_cifar10', epochs=3)
    assert recipe.mode == 'linear' and recipe.probe.epochs == 3
    path = str(tmp_path / 'head.pth')
    save_classifier({'weight': torch.ones(2, 3)}, dict(num_classes=2), path)
    saved = load_classifier(path)
    assert saved['meta'] == dict(num_classes=2) and saved['state_dict']['weight'].shape == (2, 3)
    with pytest.raises(FileNotFoundError, match='--teacher-head'):
        load_classifier(str(tmp_path / 'missing.pth'))


def test_markdown_table():
    summary = {'random': [dict(labels=10, mean=20.0, std=1.0)]}
    out = dict(schedule=[10], seeds=[0], models={'m': dict(summary=summary,
                                                           strategy_s={'random': 2.0})})
    table = markdown_table(out)
    assert '| random | 20.0 ± 1.0 | 2 s |' in table and table.startswith('**m**')
