"""--cfg-options: MMEngine's parsing, with one-line errors for what it cannot parse."""
import pytest

from moco_plugin.cli import benchmark as benchmark_cli
from moco_plugin.cli import train as train_cli

CONFIG = 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py'


def test_values_parse_as_mmengine_does():
    args = train_cli.parse_args([CONFIG, '--cfg-options', 'train_cfg.max_epochs=2',
                                 'model.backbone.cifar_stem=False', 'a.b=[1,2]', 'c=(0.2,1.0)',
                                 'name=mocov2'])
    assert args.cfg_options == {'train_cfg.max_epochs': 2, 'model.backbone.cifar_stem': False,
                                'a.b': [1, 2], 'c': (0.2, 1.0), 'name': 'mocov2'}


@pytest.mark.parametrize('parse', [train_cli.parse_args,
                                   lambda argv: benchmark_cli.parse_args([*argv[:1], 'random',
                                                                             *argv[1:]])])
@pytest.mark.parametrize('item, message', [
    ("param_scheduler=[dict(type='CosineAnnealingLR',T_max=6)]", 'cannot parse the value'),
    ('x=[1,2', 'cannot parse the value'),
    ('novalue', 'expected KEY=VALUE'),
])
def test_unparsable_items_are_one_line_errors(parse, item, message, capsys):
    with pytest.raises(SystemExit) as code:
        parse([CONFIG, '--cfg-options', item])
    assert code.value.code == 2
    errors = [ln for ln in capsys.readouterr().err.splitlines() if 'error:' in ln]
    assert len(errors) == 1 and message in errors[0] and repr(item) in errors[0]
