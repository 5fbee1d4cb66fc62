"""Config and input mistakes that used to be accepted silently or fail with a cryptic line."""
import numpy as np
import pytest
from PIL import Image

from moco_plugin.cli import train as train_cli
from moco_plugin.cli.errors import explain
from tests.conftest import run_tool

CONFIG = 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py'


@pytest.mark.parametrize('option, message', [
    ('totally.unknown.key=1', "reads a top-level key 'totally'"),
    ('trian_cfg.max_epochs=1', "top-level key 'trian_cfg'; did you mean train_cfg"),
])
def test_unknown_top_level_key_is_refused_with_close_names(option, message):
    args = train_cli.parse_args([CONFIG, '--cfg-options', option])
    with pytest.raises(KeyError) as err:
        train_cli.build_config(args)
    assert message in explain(err.value)


def test_known_keys_and_the_configs_own_variables_pass():
    args = train_cli.parse_args([CONFIG, '--cfg-options', 'train_cfg.max_epochs=1',
                                 'model.queue_len=64', 'compile=False', 'load_from=None'])
    cfg = train_cli.build_config(args)
    assert cfg.train_cfg.max_epochs == 1 and cfg.model.queue_len == 64


def test_dict_value_on_the_command_line_is_refused_by_key(capsys):
    with pytest.raises(SystemExit) as code:
        train_cli.parse_args([CONFIG, '--cfg-options', 'model.neck=dict(type=x)'])
    assert code.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "'model.neck=dict(type=x)': a dict cannot be given on the command line" in last
    assert 'model.neck.type=' in last


def test_non_integer_queue_len_names_the_key():
    import moco_plugin.models  # noqa: F401
    from moco_plugin.registry import MODELS
    args = train_cli.parse_args([CONFIG, '--cfg-options', 'model.queue_len=abc'])
    cfg = train_cli.build_config(args)
    with pytest.raises(TypeError) as err:
        MODELS.build(cfg.model)
    assert explain(err.value) == ("model.queue_len must be an integer, got 'abc' (str); "
                                  'e.g. --cfg-options model.queue_len=4096')


def test_error_in_a_loader_worker_is_one_short_line(tmp_path):
    for split in ('train', 'test'):
        for i in range(8):
            folder = tmp_path / split / ('cat', 'dog')[i % 2]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(folder / f'{i}.png')
    (tmp_path / 'train' / 'cat' / '0.png').write_bytes(b'\x89PNG broken')
    result = run_tool('tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'w'),
                      '--data-root', str(tmp_path), '--cfg-options',
                      'train_dataloader.batch_size=4', 'train_dataloader.num_workers=1',
                      'train_dataloader.dataset.in_memory=False', 'model.queue_len=16',
                      'model.bn_splits=1', 'model.backbone.cifar_stem=False')
    assert result.returncode == 2, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('train.py: error: cannot decode image ') and '0.png' in last
    assert '(in data-loader worker 0)' in last and 'Traceback' not in last
    assert len(last) < 400, len(last)
