"""Evaluation on a dataset the training config does not name: CSV labels, class folders,
the checkpoint's resolution, and what the result records."""
import csv
import json
import shutil
from pathlib import Path

import pytest

from moco_plugin.cli import benchmark as benchmark_cli
from moco_plugin.datasets import CsvImageDataset

RANDOM_CONFIG = 'random_init_resnet18_cifar10'
CLASSES = ['airplane', 'cat', 'ship']


def _exit_code(argv):
    with pytest.raises(SystemExit) as exit_info:
        benchmark_cli.main(argv)
    return exit_info.value.code


def _flat_folder_with_csv(cifar_root: Path, folder: Path, split: str, per_class: int) -> Path:
    """A flat folder of real CIFAR-10 images (``.PNG``-free names, no class folders) and a
    CSV naming each image's class (as GTSRB or a Kaggle set stores them)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for cls in CLASSES:
        for i, source in enumerate(sorted((cifar_root / split / cls).glob('*.jpg'))[:per_class]):
            name = f'{split}_{cls}_{i:03d}.jpg'
            shutil.copy(source, folder / name)
            rows.append((name, cls, f'{cls}-{i // 2}'))  # two frames per physical "track"
    table = folder / f'{split}.csv'
    with open(table, 'w', newline='') as handle:
        writer = csv.writer(handle)
        writer.writerow(['filename', 'class', 'track'])
        writer.writerows(rows)
    return table


def test_csv_labels_are_read_with_the_training_class_list(cifar_root, tmp_path):
    train = _flat_folder_with_csv(Path(cifar_root), tmp_path / 'data', 'train', 6)
    test = _flat_folder_with_csv(Path(cifar_root), tmp_path / 'data', 'test', 4)
    train_set = CsvImageDataset(str(train), path_column='filename', label_column='class',
                                group_column='track')
    test_set = CsvImageDataset(str(test), path_column='filename', label_column='class',
                               classes=train_set.classes)
    assert train_set.classes == CLASSES and test_set.classes == CLASSES
    assert [train_set.get_label(i) for i in (0, 6, 12)] == [0, 1, 2]
    assert train_set.groups[:3] == ['airplane-0', 'airplane-0', 'airplane-1']
    with pytest.raises(ValueError, match=r"no column path, label \(header found: filename, class, track; delimiter detected: ','\)"):
        CsvImageDataset(str(train))


def test_benchmark_on_a_csv_dataset_records_what_it_measured(cifar_root, tmp_path):
    train = _flat_folder_with_csv(Path(cifar_root), tmp_path / 'data', 'train', 6)
    test = _flat_folder_with_csv(Path(cifar_root), tmp_path / 'data', 'test', 4)
    out = tmp_path / 'other.json'
    code = _exit_code([RANDOM_CONFIG, 'random', '--train-data', str(train), '--test-data', str(test),
                       '--csv-columns', 'filename,class', '--knn', '--k', '5', '--num-workers', '0',
                       '--out', str(out), '--quiet', '--no-cache'])
    assert code == 0
    result = json.loads(out.read_text())
    assert (result['n_train'], result['n_test']) == (18, 12)
    assert result['dataset']['classes'] == CLASSES and result['dataset']['num_classes'] == 3
    assert result['dataset']['image_size'] == 32  # the config's training resolution
    assert result['dataset']['config_dataset'] is False and 'knn_monitor' not in result
    assert result['dataset']['name'] == 'train.csv'
    assert result['precision'] == 'fp32'
    assert len(result['dataset']['fingerprint']['train']) == 16
    assert 0 <= result['knn']['5']['top1'] <= 100


def test_flat_unlabelled_folder_is_refused_before_any_feature_is_extracted(cifar_root, tmp_path,
                                                                          capsys, monkeypatch):
    train = _flat_folder_with_csv(Path(cifar_root), tmp_path / 'data', 'train', 2)
    from moco_plugin.experiments import benchmark_setup
    monkeypatch.setattr(benchmark_setup, 'extract_features',
                        lambda *a, **k: pytest.fail('features extracted'))
    code = _exit_code([RANDOM_CONFIG, 'random', '--train-data', str(train.parent), '--test-data',
                       str(train.parent), '--knn', '--num-workers', '0', '--out',
                       str(tmp_path / 'x.json')])
    assert code == 2
    error = [ln for ln in capsys.readouterr().err.splitlines() if 'error:' in ln]
    assert len(error) == 1 and 'have no label' in error[0] and 'CSV' in error[0]


def test_group_aware_holdout_keeps_every_track_on_one_side(cifar_root, tmp_path):
    from moco_plugin.evaluation.eval_datasets import image_groups
    from moco_plugin.evaluation.linear_lr_sweep import holdout_split
    train = _flat_folder_with_csv(Path(cifar_root), tmp_path / 'data', 'train', 10)
    dataset = CsvImageDataset(str(train), path_column='filename', label_column='class',
                              group_column='track')
    groups = image_groups(dataset, 'csv')
    for seed in range(5):
        fit, held = holdout_split(dataset.labels, 0.3, seed, groups)
        fit_groups, held_groups = {groups[i] for i in fit}, {groups[i] for i in held}
        assert not fit_groups & held_groups and len(fit) + len(held) == 30
        assert set(dataset.labels[held]) == set(dataset.labels[fit]) == {0, 1, 2}
    # The same tracks from the file names: 'train_cat_004.jpg' -> frame 4 // 2 is not in the
    # name, so group by class prefix instead: every class is one group, too few to split.
    by_name = image_groups(dataset, r'^train_(\w+?)_')
    assert by_name[0] == 'airplane'
    with pytest.raises(ValueError, match='needs at least 2 per class'):
        holdout_split(dataset.labels, 0.3, 0, by_name)


def test_feature_cache_ignores_the_pretraining_augmentation(cifar_root, tmp_path):
    # Same weights, data and evaluation transform: the batched augmentation's settings
    # do not change the features, so the second run must hit the cache.
    config = 'mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu'
    common = [config, 'random', '--knn', '--k', '5', '--subset-train', '40', '--subset-test',
              '20', '--num-workers', '0', '--quiet', '--data-root', str(cifar_root)]
    assert _exit_code([*common, '--out', str(tmp_path / 'a.json')]) == 0
    assert _exit_code([*common, '--out', str(tmp_path / 'b.json'), '--cfg-options',
                       'model.data_preprocessor.batch_augment.brightness=0.4']) == 0
    first, second = (json.loads((tmp_path / n).read_text()) for n in ('a.json', 'b.json'))
    assert first['feature_cache_hit'] == dict(train=False, test=False)
    assert second['feature_cache_hit'] == dict(train=True, test=True)
    assert second['knn'] == first['knn']


def test_evaluation_size_is_the_one_the_checkpoint_records(cifar_root, tmp_path):
    import torch
    from mmengine.config import Config

    from moco_plugin.registry import MODELS
    from moco_plugin.utils.config_files import find_config
    model = MODELS.build(Config.fromfile(str(find_config(RANDOM_CONFIG))).model)
    checkpoint = tmp_path / 'trained_at_24px.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'training_image_size': 24}}, checkpoint)
    train = _flat_folder_with_csv(Path(cifar_root), tmp_path / 'data', 'train', 2)
    test = _flat_folder_with_csv(Path(cifar_root), tmp_path / 'data', 'test', 2)
    common = ['--train-data', str(train), '--test-data', str(test), '--csv-columns',
              'filename,class', '--knn', '--k', '2', '--num-workers', '0', '--quiet', '--no-cache']
    out = tmp_path / 'r.json'
    assert _exit_code([RANDOM_CONFIG, str(checkpoint), *common, '--out', str(out)]) == 0
    assert json.loads(out.read_text())['dataset']['image_size'] == 24  # not the config's 32
    assert _exit_code([RANDOM_CONFIG, str(checkpoint), *common, '--out', str(out),
                       '--image-size', '16']) == 0
    assert json.loads(out.read_text())['dataset']['image_size'] == 16


def test_a_misspelt_cfg_options_key_is_refused_before_any_work(capsys):
    code = _exit_code([RANDOM_CONFIG, 'random', '--knn', '--cfg-options', 'modle.backbone.depth=50'])
    err = capsys.readouterr().err
    assert code != 0 and "top-level key 'modle'" in err and 'did you mean model' in err
