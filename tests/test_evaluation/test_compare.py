"""Result files, markdown rows and the comparison table / plot."""
import json

import pytest

from moco_plugin.evaluation import load_result, markdown_row, write_comparison, write_json
from moco_plugin.evaluation.results import MARKDOWN_HEADER, append_markdown_row


def _result(name, algorithm, knn_top1, linear_top1, epochs=200, wall=3600.0):
    return dict(name=name, algorithm=algorithm, pretrain=dict(epochs=epochs, wall_time_s=wall),
                n_train=50000, n_test=10000, knn_temperature=0.1,
                knn={'20': dict(top1=knn_top1 + 1, top5=99.0, k_used=20),
                     '200': dict(top1=knn_top1, top5=98.5, k_used=200)},
                linear=dict(top1=linear_top1, top5=99.1, settings=dict(lr=30.0), curve=[
                    dict(epoch=1, top1=linear_top1 - 5, top5=90.0, loss=1.0, lr=30.0),
                    dict(epoch=2, top1=linear_top1, top5=99.1, loss=0.5, lr=0.0)]),
                times=dict(total_s=42.0), dataset=dict(type='CIFAR10'))


def test_markdown_row_shows_k200_and_both_protocols():
    row = markdown_row(_result('mocov2', 'MoCo', 82.6, 85.0))
    assert row == ('| mocov2 | MoCo | 200 | 200 | 82.60 | 98.50 | 85.00 | 99.10 | 60.0 min | '
                   '42 s | 50000 / 10000 |')
    assert row.count('|') == MARKDOWN_HEADER.count('|')


def test_comparison_table_sorted_by_linear_top1_with_plot(tmp_path):
    paths = []
    for result in (_result('random', 'RandomInit', 30.0, 35.0, epochs=0, wall=0.0),
                   _result('mocov2', 'MoCo', 82.6, 85.0),
                   _result('simclr', 'SimCLR', 80.1, 83.2)):
        paths.append(str(tmp_path / f"{result['name']}.json"))
        write_json(result, paths[-1])
    results = [load_result(p) for p in paths]
    text = write_comparison(results, str(tmp_path / 'cmp.md'), str(tmp_path / 'cmp.png'))
    rows = [line for line in text.splitlines() if line.startswith('| ') and 'algorithm' not in line]
    assert [r.split(' | ')[1] for r in rows] == ['MoCo', 'SimCLR', 'RandomInit']
    assert '| simclr | SimCLR | 200 | 200 | 80.10 |' in text
    assert 'k-NN temperature: 0.1' in text and '![SSL benchmark](cmp.png)' in text
    assert (tmp_path / 'cmp.md').read_text() == text
    assert (tmp_path / 'cmp.png').stat().st_size > 5000


def test_append_markdown_row_writes_the_header_once(tmp_path):
    path = tmp_path / 'rows.md'
    append_markdown_row(_result('a', 'MoCo', 1.0, 2.0), str(path))
    append_markdown_row(_result('b', 'BYOL', 1.0, 2.0), str(path))
    lines = path.read_text().splitlines()
    assert lines[0] == MARKDOWN_HEADER and len(lines) == 4


def test_load_result_rejects_other_files(tmp_path):
    (tmp_path / 'x.json').write_text(json.dumps([1, 2]))
    with pytest.raises(ValueError, match='not a benchmark result'):
        load_result(str(tmp_path / 'x.json'))
    with pytest.raises(FileNotFoundError):
        load_result(str(tmp_path / 'missing.json'))


def test_swept_lrs_are_listed_per_result_not_as_a_shared_setting():
    from moco_plugin.evaluation import comparison_markdown
    swept = _result('mocov2', 'MoCo', 82.6, 85.0)
    swept['linear']['settings'] = dict(lr=0.03, epochs=100)
    swept['linear']['lr_sweep'] = dict(candidates=[30.0, 0.03], val_top1=[None, 51.25],
                                       selected_lr=0.03, val_fraction=0.1, n_fit=45000,
                                       n_val=5000)
    fixed = _result('simclr', 'SimCLR', 80.1, 83.2)
    fixed['linear']['settings'] = dict(lr=30.0, epochs=100)
    text = comparison_markdown([swept, fixed])
    assert "Linear-probe settings: `[('epochs', 100)]`." in text
    assert "Linear-probe settings: `[('epochs', 100), ('lr', 30.0)]`." in text
    assert ('Linear lr of mocov2: **0.03**, chosen on 5000 held-out training images (held-out '
            'top-1 per lr: 30: diverged, 0.03: 51.25)') in text
    assert 'Linear lr of simclr' not in text
