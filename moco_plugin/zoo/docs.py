"""Generate the tables of ``model_zoo.md`` from the metafile (docs and code cannot disagree).

Only the text between :data:`BEGIN_MARKER` and :data:`END_MARKER` is generated;
the prose around it is edited by hand. ``python tools/model_zoo.py write``
rewrites the block, ``python tools/model_zoo.py check`` (and a test) fail when
it is stale.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from moco_plugin.utils.atomic_io import atomic_write_bytes
from moco_plugin.zoo.schema import ModelZoo, ZooEntry

# The checkout's document; tools/model_zoo.py runs from the checkout root (--doc elsewhere).
MODEL_ZOO_MD = Path('model_zoo.md')
BEGIN_MARKER = ('<!-- BEGIN GENERATED from moco_plugin/zoo/models.json: do not edit by hand, '
                'run `python tools/model_zoo.py write` -->')
END_MARKER = '<!-- END GENERATED -->'
_COLUMNS = ['name', 'source', 'backbone', 'epochs', 'batch size', 'pretraining data',
            'k-NN top-1', 'linear top-1', 'evaluated on', 'config', 'download', 'checksum']


def _percent(value: Optional[float]) -> str:
    return '–' if value is None else f'{value:.1f}'


def _download_cell(entry: ZooEntry) -> str:
    if entry.is_remote:
        return f'[download]({entry.url})'
    return f'not uploaded yet (local file `{entry.url}`)'


def _checksum_cell(entry: ZooEntry) -> str:
    if entry.sha256:  # the full value is in the metafile; 16 digits identify the file here
        return f'sha256 `{entry.sha256[:16]}…`'
    return f'md5 `{entry.md5_prefix}…`'


def _row(entry: ZooEntry) -> str:
    cells = [f'`{entry.name}`', entry.source, entry.backbone, str(entry.epochs),
             str(entry.batch_size), entry.data, _percent(entry.knn_top1),
             _percent(entry.linear_top1), entry.eval_data,
             f'[{Path(entry.config).name}]({entry.config})', _download_cell(entry),
             _checksum_cell(entry)]
    return '| ' + ' | '.join(cell.replace('|', '\\|') for cell in cells) + ' |'


def render_tables(zoo: ModelZoo) -> str:
    """The generated block: one table per algorithm, then how to reproduce each entry."""
    lines: List[str] = [BEGIN_MARKER, '']
    for algorithm in zoo.algorithms:
        entries = zoo.by_algorithm(algorithm.name)
        paper = f'Paper: {algorithm.paper} · ' if algorithm.paper else ''
        lines += [f'### {algorithm.name}', '',
                  f'{paper}model type `{algorithm.model_type}` · '
                  f'configs: [`{algorithm.configs}`]({algorithm.configs})', '']
        if entries:
            lines += ['| ' + ' | '.join(_COLUMNS) + ' |',
                      '|' + '|'.join('---' for _ in _COLUMNS) + '|']
            lines += [_row(entry) for entry in entries]
            lines.append('')
        if not any(entry.source == 'project' for entry in entries):
            lines += ['No checkpoint trained with this project is listed yet '
                      '(see [Adding a checkpoint](#adding-a-checkpoint)).', '']
        for entry in entries:
            lines.append(f'- `{entry.name}`: reproduce with `{entry.reproduce}`; '
                         f'numbers from {entry.metrics_source}.'
                         + (f' {entry.notes}' if entry.notes else ''))
        if entries:
            lines.append('')
    lines.append(END_MARKER)
    return '\n'.join(lines)


def render_document(current: str, zoo: ModelZoo) -> str:
    """``current`` with its generated block replaced by :func:`render_tables`."""
    start, end = current.find(BEGIN_MARKER), current.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError('model_zoo.md lost its generated-block markers; restore the lines '
                         f'{BEGIN_MARKER!r} and {END_MARKER!r}')
    return current[:start] + render_tables(zoo) + current[end + len(END_MARKER):]


def stale_message(path: Path, zoo: ModelZoo) -> Optional[str]:
    """``None`` if ``path`` shows the tables of ``zoo``, else how to fix it."""
    current = path.read_text(encoding='utf-8')
    if render_document(current, zoo) == current:
        return None
    return (f'{path} does not match the metafile moco_plugin/zoo/models.json; '
            'run: python tools/model_zoo.py write')


def write_document(path: Path, zoo: ModelZoo) -> bool:
    """Rewrite the generated block of ``path`` (atomically); ``True`` if it changed."""
    current = path.read_text(encoding='utf-8')
    updated = render_document(current, zoo)
    if updated != current:
        atomic_write_bytes(updated.encode('utf-8'), path)
    return updated != current
