"""The pretraining config ``tools/train.py`` runs: the config file with the command's
overrides (``--cfg-options``, ``--data-root``, ``--train-data``, ``--work-dir``), the CPU
distributed wrapper, the precision and the resume source."""
from __future__ import annotations

import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

from moco_plugin.engine.checkpoint_io import read_checkpoint
from moco_plugin.engine.config_overrides import check_top_level_keys
from moco_plugin.engine.runtime_choice import apply_precision
from moco_plugin.utils.config_files import find_config
from moco_plugin.utils.device_precision import PrecisionChoice, choose_precision

DEFAULT_ON_BAD_IMAGE = 'skip'  # a bad file among thousands must not cost the run


@dataclass
class TrainData:
    """``--train-data`` and its options: the user's own images instead of the config's."""

    path: str
    image_size: Optional[int] = None
    on_bad_image: Optional[str] = None
    monitor_data: Optional[str] = None
    no_monitor: bool = False


@dataclass
class TrainOptions:
    """What a training command asks for (``device`` already resolved, ``precision`` the
    request with ``--amp`` folded in)."""

    config: str
    device: str = 'cpu'
    precision: str = 'auto'
    work_dir: Optional[str] = None
    resume: Optional[str] = None  # 'auto' or a path / zoo://NAME
    data_root: Optional[str] = None
    cfg_options: Dict[str, Any] = field(default_factory=dict)
    launcher: str = 'none'
    train_data: Optional[TrainData] = None


def set_data_root(cfg, data_root: str, check: bool = True) -> None:
    """Point every dataset of every dataloader in ``cfg`` at ``data_root`` (``check``: it
    must be a folder)."""
    if check and not osp.isdir(data_root):
        raise FileNotFoundError(f'--data-root {data_root} is not a folder; pass the dataset folder')
    if 'data_root' in cfg:  # the configs' top-level variable, so the dumped config says it too
        cfg['data_root'] = data_root
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if not loader:
            continue
        dataset = loader.get('dataset')
        while dataset is not None:
            if 'data_root' in dataset:
                dataset['data_root'] = data_root
            dataset = dataset.get('dataset')  # wrappers such as RepeatDataset


def build_train_config(options: TrainOptions, notify: Optional[Callable[[str], None]] = None
                       ) -> Tuple[Any, PrecisionChoice]:
    """The config to run and the precision chosen for it; ``notify`` gets each note on what
    ``--train-data`` changed."""
    from mmengine.config import Config

    config_path = find_config(options.config)
    cfg = Config.fromfile(str(config_path))
    check_top_level_keys(cfg.keys(), options.cfg_options)  # a typo is not silently ignored
    cfg.merge_from_dict(options.cfg_options)
    cfg.launcher = options.launcher
    if options.data_root:
        set_data_root(cfg, options.data_root)
    if options.train_data is not None:  # the user's images, sizes, monitor
        from moco_plugin.engine.train_data_config import use_train_data

        data = options.train_data
        notes = use_train_data(cfg, data.path, data.image_size,
                               data.on_bad_image or DEFAULT_ON_BAD_IMAGE, data.monitor_data,
                               data.no_monitor, options.cfg_options)
        for note in notes if notify is not None else ():
            notify(note)
    if options.work_dir:
        cfg.work_dir = options.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', config_path.stem)
    if not options.device.startswith('cuda'):
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
        if cfg.launcher != 'none' and cfg.get('model_wrapper_cfg') is None:
            # MMEngine wraps with device_ids=[LOCAL_RANK], which DDP rejects for a CPU
            # module. No buffer broadcast before each forward, as MMEngine's GPU wrapping
            # (broadcast_buffers=False, a deprecated name in torch 2.14): BN statistics stay
            # per rank, and QueueHook keeps the queues equal without rank 0 overwriting them.
            cfg.model_wrapper_cfg = dict(
                type='MMDistributedDataParallel', device_ids=None, forward_sync_buffers=False,
                find_unused_parameters=cfg.get('find_unused_parameters', False))
    choice = choose_precision(options.precision, options.device, 'train')
    apply_precision(cfg, choice)
    if options.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif options.resume is not None:
        cfg.resume = True
        cfg.load_from = options.resume
    return cfg, choice


def check_resumable(source: str) -> None:
    """Fail early, in one line, when ``source`` cannot be resumed from."""
    if '://' not in source and not osp.isfile(source):
        raise FileNotFoundError(f'--resume {source}: no such checkpoint file')
    checkpoint = read_checkpoint(source)
    meta = checkpoint.get('meta') or {} if isinstance(checkpoint, dict) else {}
    if 'epoch' not in meta or 'optimizer' not in checkpoint:
        raise ValueError(f'--resume {source}: the checkpoint holds weights but no training state '
                         '(epoch, optimizer); to start from its weights use '
                         f'--cfg-options load_from={source} instead of --resume')
