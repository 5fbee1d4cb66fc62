"""The fast pipeline: UnaugmentedViews in the loader, BatchMoCoAugment in the preprocessor, via tools/train.py."""
import numpy as np
import torch
from PIL import Image

from moco_plugin.datasets.transforms import UnaugmentedViews
from moco_plugin.registry import TRANSFORMS
from moco_plugin.utils import safe_torch_load
from tests.conftest import REPO_ROOT, run_tool

CONFIG = 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10-fastaug.py'
# compile=False: compiling the augmentation would add 15-45 s to a test that checks the plumbing.
TINY = ['train_dataloader.batch_size=16', 'train_dataloader.dataset.subset_size=32',
        'train_dataloader.num_workers=0', 'model.queue_len=64', 'model.bn_splits=4',
        'model.backbone.cifar_stem=False', 'default_hooks.checkpoint.interval=1',
        'train_cfg.max_epochs=1', 'model.data_preprocessor.batch_augment.compile=False']


def test_unaugmented_views_hand_over_the_stored_pixels():
    array = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    views = TRANSFORMS.build(dict(type='UnaugmentedViews', num_views=2))(Image.fromarray(array))
    assert len(views) == 2 and views[0] is views[1]  # converted once
    assert views[0].dtype == torch.uint8 and views[0].shape == (3, 4, 5)
    assert torch.equal(views[0], torch.from_numpy(array).permute(2, 0, 1))
    assert torch.equal(UnaugmentedViews(3)(array)[2], views[0])


def test_fastaug_config_trains_and_checkpoints_the_augmentation_stream(cifar_root, tmp_path):
    """tools/train.py runs the config; each checkpoint holds the stream position to resume from.

    (That restoring the position replays the same views is tested on the module itself in
    test_batch_moco_augment_state.py; --resume restores model state dicts, extra state included.)
    """
    env = {'MOCO_DATA_ROOT': str(cifar_root), 'PYTHONPATH': str(REPO_ROOT)}
    result = run_tool('tools/train.py', CONFIG, '--work-dir', str(tmp_path), '--cfg-options', *TINY,
                      env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    state = safe_torch_load(str(tmp_path / 'epoch_1.pth'))['state_dict']
    seed, calls = state['data_preprocessor.batch_augment._extra_state'].tolist()
    assert seed >= 0 and calls == 2 * 2  # 2 iterations x 2 views
    assert not torch.equal(state['backbone.conv1.weight'], state['key_backbone.conv1.weight'])
