"""use_train_data: a packaged CIFAR-10 config pointed at a user's folder, sizes and monitor included."""
import pytest
from mmengine.config import Config
from PIL import Image

from moco_plugin.engine.train_data_config import monitor_dataset_cfgs, use_train_data
from moco_plugin.utils.config_files import find_config, training_image_size

MAIN_JOB = 'mocov2_resnet18_1xb64-adamw-coslr-2e_cifar10-20k-cpu'
PER_IMAGE = 'mocov2_resnet18_1xb256-coslr-200e_cifar10'  # MoCoV2Augment(size=32) in the pipeline


def _config(name):
    return Config.fromfile(str(find_config(name)))


@pytest.fixture()
def photos(tmp_path):
    root = tmp_path / 'photos'
    for i in range(6):
        (root / f'c{i % 2}').mkdir(parents=True, exist_ok=True)
        Image.new('RGB', (30 + i, 20), (10 * i, 0, 0)).save(root / f'c{i % 2}' / f'{i}.jpg')
    return root


def _hooks(cfg):
    return [h['type'] for h in cfg.custom_hooks]


def test_main_job_config_on_a_folder(photos):
    cfg = _config(MAIN_JOB)
    notes = use_train_data(cfg, str(photos), image_size=48)
    dataset = cfg.train_dataloader.dataset
    assert dataset.type == 'ImageFilesDataset' and dataset.data_root == str(photos)
    assert (dataset.in_memory, dataset.in_memory_size, dataset.on_bad_image) == (True, 48, 'skip')
    assert 'subset_size' not in dataset and 'split' not in dataset  # CIFAR settings dropped
    assert cfg.model.data_preprocessor.batch_augment.size == 48
    assert training_image_size(cfg) == 48  # what the checkpoint's meta records
    assert cfg.data_root == str(photos) and cfg.dataset_type == 'ImageFilesDataset'
    assert 'KNNMonitorHook' not in _hooks(cfg) and _hooks(cfg) == ['MomentumUpdateHook', 'QueueHook']
    assert notes[0].startswith(f'train data: 6 images in {photos}, decoded once at 48x48 px')
    assert "subset_size=20000" in notes[1] and 'dropped' in notes[1]
    assert notes[-1].startswith('k-NN monitor off (--train-data without --monitor-data)')


def test_per_image_pipeline_and_default_size(photos):
    cfg = _config(PER_IMAGE)
    use_train_data(cfg, str(photos))  # default: the config's own 32 px
    views = cfg.train_dataloader.dataset.pipeline[0].transforms
    assert views[0].size == 32 and cfg.train_dataloader.dataset.in_memory_size == 32
    cfg = _config(PER_IMAGE)
    use_train_data(cfg, str(photos), image_size=64)
    assert cfg.train_dataloader.dataset.pipeline[0].transforms[0].size == 64
    assert training_image_size(cfg) == 64


def test_user_cfg_options_of_the_dataset_win(photos):
    cfg = _config(MAIN_JOB)
    options = {'train_dataloader.dataset.subset_size': 4, 'train_cfg.max_epochs': 1}
    cfg.merge_from_dict(options)
    notes = use_train_data(cfg, str(photos), cfg_options=options)
    assert cfg.train_dataloader.dataset.subset_size == 4
    dropped = next(n for n in notes if 'dropped' in n)
    assert "split='train'" in dropped and 'subset_size' not in dropped
    cfg = _config(MAIN_JOB)
    notes = use_train_data(cfg, str(photos), no_monitor=True)
    assert notes[-1].startswith('k-NN monitor off (--no-monitor)')


def test_monitor_on_a_user_csv(photos, tmp_path):
    table = tmp_path / 'labelled.csv'
    table.write_text('path;label\n' + ''.join(f'photos/c{i % 2}/{i}.jpg;k{i % 2}\n' for i in range(6)))
    cfg = _config(MAIN_JOB)
    notes = use_train_data(cfg, str(photos), image_size=40, monitor_data=str(table))
    monitor = next(h for h in cfg.custom_hooks if h['type'] == 'KNNMonitorHook')
    bank, query = monitor['bank_dataset'], monitor['query_dataset']
    assert (bank['part'], query['part']) == ('bank', 'query')
    assert bank['dataset'] == query['dataset']
    assert bank['dataset']['type'] == 'CsvImageDataset' and bank['dataset']['in_memory_size'] == 40
    assert (bank['max_size'], query['max_size']) == (5000, 1000)  # the config's caps
    assert notes[-1].startswith(f'k-NN monitor on {table} at 40 px')
    # a config without a monitor gets one
    cfg = _config(PER_IMAGE)
    use_train_data(cfg, str(photos), monitor_data=str(photos))
    assert _hooks(cfg)[-1] == 'KNNMonitorHook'


def test_monitor_folder_with_split_folders_uses_them(tmp_path):
    for split in ('train', 'val'):
        for cls in ('a', 'b'):
            (tmp_path / 'm' / split / cls).mkdir(parents=True)
    bank, query, how = monitor_dataset_cfgs(str(tmp_path / 'm'), 32, 'error', 50, 10)
    assert (bank['split'], query['split'], bank['subset_size']) == ('train', 'val', 50)
    assert 'val/' in how


@pytest.mark.parametrize('layout, message', [
    ('flat', 'no class folders'), ('csv', 'needs a path and a label column'),
    ('missing', 'no such folder or CSV/TSV file')])
def test_unusable_monitor_data(photos, tmp_path, layout, message):
    spec = {'flat': tmp_path / 'flat', 'csv': tmp_path / 'nolabel.csv',
            'missing': tmp_path / 'nope'}[layout]
    if layout == 'flat':
        spec.mkdir()
        Image.new('RGB', (8, 8)).save(spec / 'x.jpg')
    if layout == 'csv':
        spec.write_text('path\nphotos/c0/0.jpg\n')
    with pytest.raises((ValueError, FileNotFoundError), match=f'--monitor-data .*{message}'):
        use_train_data(_config(MAIN_JOB), str(photos), monitor_data=str(spec))


def test_bad_train_data_names_the_option(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match=r'--train-data: no images .*empty or its sub-folders'):
        use_train_data(_config(MAIN_JOB), str(tmp_path / 'empty'))
    (tmp_path / 'list.csv').write_text('name,label\na.jpg,1\n')
    with pytest.raises(ValueError, match=r'^--train-data: \S+list\.csv: no path column in the '
                                         r'header \(name, label\)'):
        use_train_data(_config(MAIN_JOB), str(tmp_path / 'list.csv'))
    with pytest.raises(FileNotFoundError, match=r'^--train-data: \S+nope: no such folder'):
        use_train_data(_config(MAIN_JOB), str(tmp_path / 'nope'))
    with pytest.raises(ValueError, match='--image-size must be a positive'):
        use_train_data(_config(MAIN_JOB), str(tmp_path / 'empty'), image_size=0)


def test_memory_bank_is_sized_to_the_images(photos):
    cfg = _config('memorybank_resnet18_1xb64-adamw-coslr-2e_cifar10-20k-cpu')
    (photos / 'broken.jpg').write_bytes(b'garbage')
    notes = use_train_data(cfg, str(photos), image_size=16)
    assert cfg.model.bank_size == 6  # 7 files, one skipped
    assert any('model.bank_size=6' in n for n in notes)


def test_a_supervised_config_is_refused(photos):
    with pytest.raises(ValueError, match='have no labels, but the config trains a Supervised'):
        use_train_data(_config('supervised_resnet18_1xb256-coslr-200e_cifar10'), str(photos))
