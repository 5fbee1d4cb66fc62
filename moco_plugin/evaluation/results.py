"""Benchmark result files (JSON) and their one-line markdown form."""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import Any, Dict, List, Optional

from moco_plugin.utils.atomic_io import atomic_write_bytes

RESULT_SCHEMA = 1
MARKDOWN_HEADER = ('| name | algorithm | epochs | k-NN k | k-NN top-1 | k-NN top-5 | linear top-1 | '
                   'linear top-5 | pretrain time | eval time | n_train / n_test |')
MARKDOWN_RULE = '|' + '---|' * MARKDOWN_HEADER.count(' | ') + '---|'


def _fmt(value: Optional[float], digits: int = 2) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def format_seconds(seconds: Optional[float]) -> str:
    """``'42 s'``, ``'12.5 min'`` or ``'3.2 h'``; ``'-'`` when unknown."""
    if seconds is None:
        return '-'
    if seconds < 120:
        return f'{seconds:.0f} s'
    if seconds < 7200:
        return f'{seconds / 60:.1f} min'
    return f'{seconds / 3600:.1f} h'


def main_knn_k(result: Dict[str, Any]) -> Optional[str]:
    """The k shown in tables: 200 if evaluated (the InstDisc / MoCo demo value), else the largest."""
    knn = result.get('knn') or {}
    if not knn:
        return None
    return '200' if '200' in knn else max(knn, key=int)


def markdown_row(result: Dict[str, Any]) -> str:
    """One markdown table row (columns of :data:`MARKDOWN_HEADER`) for a result dict."""
    k = main_knn_k(result)
    knn = (result.get('knn') or {}).get(k, {}) if k else {}
    linear = result.get('linear') or {}
    pretrain = result.get('pretrain') or {}
    times = result.get('times') or {}
    cells = [result.get('name', '-'), result.get('algorithm', '-'),
             str(pretrain.get('epochs')) if pretrain.get('epochs') is not None else '-',
             k or '-', _fmt(knn.get('top1')), _fmt(knn.get('top5')),
             _fmt(linear.get('top1')), _fmt(linear.get('top5')),
             format_seconds(pretrain.get('wall_time_s')), format_seconds(times.get('total_s')),
             f"{result.get('n_train', '-')} / {result.get('n_test', '-')}"]
    return '| ' + ' | '.join(cells) + ' |'


def write_json(result: Dict[str, Any], path: str) -> None:
    """Write ``result`` as indented JSON, atomically."""
    atomic_write_bytes((json.dumps(result, indent=2, sort_keys=False) + '\n').encode(), path)


def append_markdown_row(result: Dict[str, Any], path: str) -> None:
    """Append the row to a markdown file, writing the table header first if the file is new."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    new = not osp.isfile(path) or osp.getsize(path) == 0
    with open(path, 'a', encoding='utf-8') as handle:
        if new:
            handle.write(MARKDOWN_HEADER + '\n' + MARKDOWN_RULE + '\n')
        handle.write(markdown_row(result) + '\n')


def load_result(path: str) -> Dict[str, Any]:
    """Read a result JSON written by ``tools/benchmark_linear.py``, with a clear error otherwise."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'result file not found: {path}')
    try:
        with open(path, encoding='utf-8') as handle:
            result = json.load(handle)
    except json.JSONDecodeError as err:
        raise ValueError(f'{path} is not valid JSON ({err}); re-run the benchmark that wrote it') from None
    if not isinstance(result, dict) or 'algorithm' not in result:
        raise ValueError(f'{path} is not a benchmark result (no "algorithm" field)')
    result.setdefault('name', osp.splitext(osp.basename(path))[0])
    return result


def load_results(paths: List[str]) -> List[Dict[str, Any]]:
    return [load_result(p) for p in paths]
