"""tools/transfer.py: checkpoints x datasets in one table, each cell a benchmark run."""
import json
from pathlib import Path

import pytest

from moco_plugin.cli import benchmark as benchmark_cli, transfer


def test_transfer_table_on_cifar_and_a_second_dataset(cifar_root, tmp_path):
    second = tmp_path / 'second'
    for split, per_class in (('train', 6), ('test', 3)):
        for cls in ('cat', 'dog'):
            folder = second / split / cls
            folder.mkdir(parents=True)
            for i, src in enumerate(sorted((Path(cifar_root) / split / cls).glob('*.jpg'))[:per_class]):
                (folder / f'{i}.jpg').write_bytes(src.read_bytes())
    out = tmp_path / 'transfer.md'
    argv = ['--checkpoint', 'random0=random_init_resnet18_cifar10:random',
            '--dataset', f'pets={second / "train"},{second / "test"}', '--knn', '--out', str(out),
            '--extra', '--k', '3', '--num-workers', '0', '--no-cache']
    with pytest.raises(SystemExit) as done:
        transfer.main(argv)
    assert done.value.code == 0
    text = out.read_text()
    assert text.splitlines()[0] == '| checkpoint | pets knn |'
    cell = json.loads((tmp_path / 'transfer' / 'random0__pets.json').read_text())
    assert (cell['n_train'], cell['n_test']) == (12, 6) and cell['dataset']['num_classes'] == 2
    assert f"| random0 | {cell['knn']['3']['top1']:.2f} |" in text
    assert (tmp_path / 'transfer.png').stat().st_size > 2000


def test_bad_checkpoint_argument_is_one_line():
    with pytest.raises(SystemExit, match='must look like NAME=CONFIG:CKPT'):
        transfer.parse_args(['--checkpoint', 'random', '--dataset', 'config'])


def test_a_dataset_root_is_one_eval_data_cell(tmp_path):
    root = tmp_path / 'stl, copy'  # a comma in a folder's name does not split it
    root.mkdir()
    args = transfer.parse_args(['--checkpoint', 'r=random_init_resnet18_cifar10:random',
                                '--dataset', f'stl={root}', '--dataset', 'pets=a.csv,b.csv',
                                '--dataset', 'config'])
    assert args.datasets == [('stl', ['--eval-data', str(root)]),
                             ('pets', ['--train-data', 'a.csv', '--test-data', 'b.csv']),
                             ('config', [])]
    argv = transfer.cell_argv('cfg', 'random', args.datasets[0], str(tmp_path / 'x.json'), args)
    assert argv[-2:] == ['--eval-data', str(root)]
    assert benchmark_cli.parse_args(argv).eval_data == str(root)
