"""KNNMonitorHook during a real (tiny) pretraining run: logged, checkpointed, resumed, plotted."""
import pytest
from mmengine.runner import Runner

from moco_plugin.cli import train
from moco_plugin.evaluation import KNNMonitorHook
from moco_plugin.utils import safe_torch_load
from tests.conftest import REPO_ROOT

CONFIG = str(REPO_ROOT / 'configs/simclr/simclr_resnet18_1xb256-coslr-200e_cifar10.py')
TINY = ['train_dataloader.batch_size=16', 'train_dataloader.dataset.subset_size=32',
        'train_dataloader.num_workers=0', 'model.backbone.cifar_stem=False',
        'model.neck.hid_channels=64', 'model.neck.out_channels=32',
        'default_hooks.checkpoint.interval=1', 'default_hooks.logger.interval=1']
MONITOR = dict(type='KNNMonitorHook', interval=1, k=10, bank_size=40, query_size=20,
               batch_size=32, num_workers=0)


def _runner(work_dir, cifar_root, epochs, name, resume=False):
    args = train.parse_args([CONFIG, '--work-dir', str(work_dir), '--data-root', str(cifar_root),
                             *(['--resume'] if resume else []), '--cfg-options', *TINY,
                             f'train_cfg.max_epochs={epochs}'])
    cfg = train.build_config(args)
    cfg.custom_hooks = [MONITOR]
    cfg.experiment_name = name  # two runners in one process need distinct instance names
    return Runner.from_cfg(cfg)


def _monitor(runner):
    return next(h for h in runner.hooks if isinstance(h, KNNMonitorHook))


def test_history_is_logged_checkpointed_resumed_and_plotted(cifar_root, tmp_path):
    runner = _runner(tmp_path, cifar_root, 1, 'knn_first')
    runner.train()
    history = _monitor(runner).history
    assert len(history) == 1 and history[0]['epoch'] == 1 and history[0]['k'] == 10
    assert 0 <= history[0]['top1'] <= history[0]['top5'] <= 100
    assert (history[0]['n_bank'], history[0]['n_query']) == (40, 20)
    assert runner.message_hub.get_scalar('knn/top1').current() == history[0]['top1']
    assert safe_torch_load(str(tmp_path / 'epoch_1.pth'))['meta']['knn_history'] == history
    assert (tmp_path / 'knn_curve.png').stat().st_size > 1000

    resumed = _runner(tmp_path, cifar_root, 2, 'knn_resumed', resume=True)
    resumed.train()  # epoch 1's entry comes back from the checkpoint, epoch 2's is new
    assert [h['epoch'] for h in _monitor(resumed).history] == [1, 2]
    assert _monitor(resumed).history[0] == history[0]
    assert safe_torch_load(str(tmp_path / 'epoch_2.pth'))['meta']['knn_history'] == \
        _monitor(resumed).history


def test_rejects_bad_settings():
    with pytest.raises(ValueError, match='interval'):
        KNNMonitorHook(interval=0)


@pytest.mark.parametrize('config, size', [
    ('mocov2_resnet18_1xb256-coslr-200e_cifar10-224px', 224),
    ('mocov2_resnet18_1xb256-coslr-200e_cifar10', 32)])
def test_checks_at_the_size_of_the_training_views(cifar_root, config, size):
    # a model trained on 224 px views used to be checked on 32 px crops
    from types import SimpleNamespace

    from mmengine.config import Config

    from moco_plugin.utils.config_files import find_config
    cfg = Config.fromfile(str(find_config(config)))
    cfg.train_dataloader.dataset.data_root = str(cifar_root)
    hook = KNNMonitorHook(bank_size=10, query_size=10)
    bank, query = hook._build_datasets(SimpleNamespace(cfg=cfg))
    assert bank[0]['inputs'].shape[-2:] == query[0]['inputs'].shape[-2:] == (size, size)
    assert KNNMonitorHook(image_size=48, bank_size=10, query_size=10)._build_datasets(
        SimpleNamespace(cfg=cfg))[0][0]['inputs'].shape[-1] == 48


def test_a_bad_monitor_image_fails_before_training(tmp_path):
    from PIL import Image

    from moco_plugin.datasets import CorruptImageError
    for cls in ('a', 'b'):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.new('RGB', (8, 8), (40 * i, 0, 0)).save(tmp_path / cls / f'{i}.png')
    (tmp_path / 'b' / '9.png').write_bytes(b'broken')
    source = dict(type='ImageFolderDataset', data_root=str(tmp_path), in_memory=True,
                  pipeline=[dict(type='ResizeCenterCrop', size=8)])
    hook = KNNMonitorHook(bank_dataset=dict(type='HeldOutPartDataset', dataset=source, part='bank'),
                          query_dataset=dict(type='HeldOutPartDataset', dataset=source, part='query'))
    with pytest.raises(CorruptImageError, match=r'9\.png'):
        hook.before_train(runner=None)  # not after the first epoch
    source['on_bad_image'] = 'skip'
    hook.before_train(runner=None)
    bank, query = hook._datasets
    assert (len(bank), len(query)) == (4, 2) and not set(bank.indices) & set(query.indices)
