"""GPU fast paths that can be checked on a CPU: no per-step host reads, channels_last, compile."""
import copy
import itertools

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from torch import nn

import moco_plugin.engine  # noqa: F401  (registers the hooks)
from moco_plugin.engine.hooks import FastPathHook, LazyRuntimeInfoHook
from moco_plugin.engine.hooks.fast_path_hook import compile_for_training, encoder_modules
from moco_plugin.registry import MODELS
from tests.conftest import REPO_ROOT
from tests.helpers.toy_runner import ToyData, ToyModel

_IDS = itertools.count()
HOST_READS = ('item', 'tolist', '__float__', '__int__', '__bool__', 'numpy')


def _runner(tmp_path, runtime_info, epochs=2):
    hooks = copy.deepcopy(Config.fromfile(str(REPO_ROOT / 'configs/_base_/default_runtime.py'))
                          .default_hooks.to_dict())
    hooks['checkpoint'].update(interval=1000)
    hooks['runtime_info'] = runtime_info
    hooks['logger'] = dict(type='LoggerHook', interval=4)
    torch.manual_seed(0)  # the model is built before the Runner seeds
    return Runner(model=ToyModel(8), work_dir=str(tmp_path), default_scope='moco_plugin',
                  train_dataloader=dict(dataset=ToyData(24), batch_size=2, num_workers=0,
                                        sampler=dict(type='DefaultSampler', shuffle=True),
                                        collate_fn=dict(type='default_collate')),
                  train_cfg=dict(by_epoch=True, max_epochs=epochs),
                  optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)), default_hooks=hooks,
                  randomness=dict(seed=0), log_level='WARNING',
                  experiment_name=f'fast_path_{next(_IDS)}')


def _train_counting_host_reads(runner, monkeypatch):
    counts = dict(n=0)
    for name in HOST_READS:
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            counts['n'] += 1
            return _original(self, *args, **kwargs)
        monkeypatch.setattr(torch.Tensor, name, counted)
    runner.train()
    monkeypatch.undo()
    return counts['n']


def test_lazy_runtime_info_reads_the_loss_back_every_n_steps_with_the_same_history(
        tmp_path, monkeypatch):
    stock = _runner(tmp_path / 'stock', dict(type='RuntimeInfoHook'))
    stock_reads = _train_counting_host_reads(stock, monkeypatch)
    lazy = _runner(tmp_path / 'lazy', dict(type='LazyRuntimeInfoHook', interval=4))
    lazy_reads = _train_counting_host_reads(lazy, monkeypatch)
    iterations = 2 * 12
    assert stock.iter == lazy.iter == iterations
    # the stock hook (and the progress bar before this change) read every step's loss
    assert stock_reads >= iterations
    # one read-back per 4 steps and per epoch end (12 steps/epoch: they coincide) -> 6, plus
    # the loader's two per epoch (its base seed, the sampler's order): 10
    assert lazy_reads == iterations // 4 + 2 * 2
    want = stock.message_hub.get_scalar('train/loss').data[0]
    got = lazy.message_hub.get_scalar('train/loss').data[0]
    assert len(got) == iterations and (want == got).all()


def test_lazy_runtime_info_flushes_a_partial_window_at_the_end_of_an_epoch(tmp_path):
    runner = _runner(tmp_path, dict(type='LazyRuntimeInfoHook', interval=5), epochs=1)
    runner.train()  # 12 steps: read back after 5, 10 and at the epoch's end (12)
    assert len(runner.message_hub.get_scalar('train/loss').data[0]) == 12
    with pytest.raises(ValueError, match='interval must be >= 1'):
        LazyRuntimeInfoHook(interval=0)


def _moco():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/_base_/models/mocov2_resnet18.py'))
    model = cfg.model.to_dict()
    model.update(queue_len=64, bn_splits=2)
    return MODELS.build(model)


class _Stub:
    def __init__(self, model):
        self.model = model


def test_channels_last_converts_weights_and_views_and_keeps_the_loss():
    torch.manual_seed(0)
    model = _moco()
    reference = copy.deepcopy(model)
    FastPathHook(channels_last=True).before_run(_Stub(model))
    conv = model.backbone.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    assert model.key_backbone.layer1[0].conv1.weight.is_contiguous(memory_format=torch.channels_last)
    data = dict(inputs=[torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)] * 2)
    views = model.data_preprocessor(data, training=True)['inputs']
    assert views[0].is_contiguous(memory_format=torch.channels_last)
    torch.manual_seed(1)
    loss = model(views, mode='loss')['loss']
    torch.manual_seed(1)
    want = reference(reference.data_preprocessor(data, training=True)['inputs'], mode='loss')['loss']
    torch.testing.assert_close(loss, want, rtol=2e-3, atol=2e-3)  # other conv kernels
    assert set(model.state_dict()) == set(reference.state_dict())


class _CountingBackend:
    def __init__(self):
        self.graphs = 0

    def __call__(self, graph_module, example_inputs):
        self.graphs += 1
        return graph_module.forward


def test_compile_for_training_compiles_training_mode_only_and_keeps_the_tensors():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten())
    eager = copy.deepcopy(module)
    backend = _CountingBackend()
    weight = module[0].weight
    compile_for_training(module, backend=backend)
    x = torch.randn(2, 3, 6, 6)
    torch.testing.assert_close(module(x), eager(x))
    assert backend.graphs == 1
    module.eval(), eager.eval()
    torch.testing.assert_close(module(x[:1]), eager(x[:1]))
    assert backend.graphs == 1  # evaluation ran eagerly: nothing compiled for it
    assert module[0].weight is weight and set(module.state_dict()) == set(eager.state_dict())
    assert compile_for_training(module, backend=backend) is module  # once only


def test_fast_path_hook_compiles_both_encoders():
    model = _moco()
    modules = encoder_modules(model)
    assert [id(m) for m in modules] == [id(m) for m in (model.backbone, model.neck,
                                                        model.key_backbone, model.key_neck)]

    class Logger:
        def info(self, message):
            self.message = message
    stub = _Stub(model)
    stub.logger = Logger()
    FastPathHook(compile=True, compile_backend='eager').before_train(stub)
    assert all(getattr(m, '_moco_compiled', False) for m in modules)
    assert '4 encoder modules compiled' in stub.logger.message


def test_autocast_wrapper_can_be_switched_off():
    from moco_plugin.engine.autocast_optim_wrapper import AutocastOptimWrapper
    layer = nn.Linear(4, 4)
    for enabled, dtype in ((True, torch.bfloat16), (False, torch.float32)):
        wrapper = AutocastOptimWrapper(enabled=enabled,
                                       optimizer=torch.optim.SGD(layer.parameters(), lr=0.1))
        with wrapper.optim_context(layer):
            assert layer(torch.randn(2, 4)).dtype == dtype


def test_gpu_config_switches_each_fast_path_off_from_the_command_line(tmp_path):
    from moco_plugin.cli.train import build_config, parse_args
    config = 'configs/mocov2/mocov2_resnet18_1xb512-coslr-200e_cifar10-gpu.py'
    on = build_config(parse_args([config, '--work-dir', str(tmp_path)]))
    assert on.optim_wrapper.type == 'AutocastOptimWrapper' and on.optim_wrapper.optimizer.fused
    assert on.optim_wrapper.optimizer.lr == 0.06 and on.train_dataloader.batch_size == 512
    assert on.custom_hooks[3] == dict(type='FastPathHook', channels_last=True, compile=True)
    off = build_config(parse_args([config, '--work-dir', str(tmp_path), '--cfg-options',
                                   'custom_hooks.3.compile=False', 'custom_hooks.3.channels_last=False',
                                   'optim_wrapper.enabled=False', 'optim_wrapper.optimizer.fused=False',
                                   'model.data_preprocessor.batch_augment.compile=False']))
    assert off.custom_hooks[3] == dict(type='FastPathHook', channels_last=False, compile=False)
    assert off.optim_wrapper.enabled is False and off.optim_wrapper.optimizer.fused is False
    assert off.model.data_preprocessor.batch_augment.compile is False
