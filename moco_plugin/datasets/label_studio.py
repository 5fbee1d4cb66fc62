"""Hand a selection to a labelling tool and take its labels back: CSV and Label Studio.

`Label Studio <https://labelstud.io>`_ imports *tasks* (JSON: a list of
``{"data": {...}, "predictions": [...]}``) and exports the labelled tasks as JSON (each
with ``annotations``: ``result`` items of type ``choices``, ``was_cancelled`` for a
skipped task) or CSV (the task's data fields as columns plus one column per control,
named by its ``from_name``). The tasks written here carry the image's pool path
(``data.path``) and index next to ``data.image`` (a path, or a URL under a prefix), so an
export maps back to the pool whatever the image URL became. Imports write a labels table
(``path,label``; ``skip`` for skipped tasks) that ``tools/make_label_subset.py --add SEL
--csv TABLE`` merges; the fixtures in ``tests/fixtures/label_studio/`` were written by
Label Studio itself.
"""
from __future__ import annotations

import csv
import io
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

from moco_plugin.datasets.label_files import LabelSet, _files_root
from moco_plugin.utils.atomic_io import atomic_write_text
from moco_plugin.utils.tables import TableError, read_table

FROM_NAME, TO_NAME = 'label', 'image'


def export_rows(dataset, label_set: LabelSet) -> List[Dict[str, Any]]:
    """One row per image of ``label_set``: absolute and pool path, index, label, confidence."""
    root = osp.abspath(_files_root(dataset))
    classes = list(label_set.classes)
    rows = []
    for n, (index, name) in enumerate(zip(label_set.indices.tolist(), label_set.paths)):
        label = int(label_set.labels[n])
        rows.append(dict(abs_path=osp.join(root, name), path=name, index=index,
                         label=classes[label] if 0 <= label < len(classes) else '',
                         confidence=(float(label_set.confidence[n])
                                     if label_set.confidence is not None else None),
                         score=float(label_set.scores[n]) if label_set.scores is not None else None))
    return rows


def write_labelling_csv(rows: Sequence[Dict[str, Any]], path: str) -> None:
    """``path`` (absolute), ``label`` (to fill in: a class, or skip; pseudo-labels: the
    teacher's), ``confidence``, ``score``, ``pool_path``, ``index``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(['path', 'label', 'confidence', 'score', 'pool_path', 'index'])
    for row in rows:
        writer.writerow([row['abs_path'], row['label'],
                         '' if row['confidence'] is None else f"{row['confidence']:.6f}",
                         '' if row['score'] is None else f"{row['score']:.6f}",
                         row['path'], row['index']])
    atomic_write_text(buffer.getvalue(), path)


def label_studio_tasks(rows: Sequence[Dict[str, Any]], url_prefix: Optional[str] = None,
                       model_version: str = 'moco-plugin') -> List[Dict[str, Any]]:
    """Label Studio import tasks; a row with a label (pseudo-labels) becomes a prediction."""
    tasks = []
    for row in rows:
        image = url_prefix + quote(row['path']) if url_prefix else row['abs_path']
        task: Dict[str, Any] = dict(data=dict(image=image, path=row['path'], index=row['index']))
        if row['label']:
            prediction = dict(model_version=model_version, result=[dict(
                from_name=FROM_NAME, to_name=TO_NAME, type='choices',
                value=dict(choices=[row['label']]))])
            if row['confidence'] is not None:
                prediction['score'] = row['confidence']
            task['predictions'] = [prediction]
        tasks.append(task)
    return tasks


def labelling_config(classes: Sequence[str]) -> str:
    """The Label Studio labelling interface for single-choice image classification."""
    choices = '\n'.join(f'    <Choice value={quoteattr(c)}/>' for c in classes)
    return (f'<View>\n  <Image name="{TO_NAME}" value="$image"/>\n'
            f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single" '
            f'showInLine="true">\n{choices}\n  </Choices>\n</View>\n')


def _pool_path(data: Dict[str, Any], where: str, url_prefix: Optional[str]) -> str:
    if data.get('path'):
        return str(data['path'])
    image = str(data.get('image') or '')
    if url_prefix and image.startswith(url_prefix):
        from urllib.parse import unquote
        return unquote(image[len(url_prefix):])
    if osp.isabs(image) and osp.isfile(image):
        return image
    raise ValueError(f'{where}: the task has no data.path and its image {image!r} is neither an '
                     'existing absolute path nor under --url-prefix; export tasks with '
                     'tools/label_studio.py export, or pass the --url-prefix they were made with')


def _choice(results: Sequence[Dict[str, Any]], from_name: Optional[str]) -> Optional[str]:
    for item in results:
        if item.get('type') == 'choices' and (from_name is None or item.get('from_name') == from_name):
            chosen = (item.get('value') or {}).get('choices') or []
            if chosen:
                return str(chosen[0])
    return None


def read_label_studio_json(path: str, url_prefix: Optional[str] = None,
                           from_name: Optional[str] = None) -> List[Dict[str, str]]:
    """``[{path, label}]`` of a Label Studio JSON export: the choice of each annotated task,
    ``skip`` for a task whose annotations were all cancelled (skipped); tasks without
    annotations are left out. Annotations of one task that disagree are refused."""
    try:
        with open(path, encoding='utf-8-sig') as handle:
            tasks = json.load(handle)
        if not isinstance(tasks, list):
            raise TypeError('not a list of tasks')
    except (ValueError, TypeError) as err:
        raise ValueError(f'{path} is not a Label Studio JSON export ({err}); export the project '
                         'as JSON (or CSV)') from None
    out, disagreements = [], []
    for task in tasks:
        where = f"{path} task {task.get('id', '?')}"
        annotations = task.get('annotations') or []
        if not annotations:
            continue
        kept = [a for a in annotations if not a.get('was_cancelled')]
        labels = {c for c in (_choice(a.get('result') or [], from_name) for a in kept) if c}
        if len(labels) > 1:
            disagreements.append(f"{task.get('id', '?')} ({', '.join(sorted(labels))})")
            continue
        label = labels.pop() if labels else ('skip' if not kept else None)
        if label is not None:
            out.append(dict(path=_pool_path(task.get('data') or {}, where, url_prefix),
                            label=label))
    if disagreements:
        raise ValueError(f'{path}: annotations disagree on task(s) {", ".join(disagreements[:5])}; '
                         'resolve them in Label Studio (one label per image) and export again')
    return out


def read_label_studio_csv(path: str, url_prefix: Optional[str] = None,
                          from_name: str = FROM_NAME) -> List[Dict[str, str]]:
    """``[{path, label}]`` of a Label Studio CSV export (column ``from_name`` holds the
    choice; rows without one are left out)."""
    table = read_table(path, (from_name,), flag='--from-name')
    if 'path' not in table.header and 'image' not in table.header:
        raise TableError(f'{path}: no path or image column ({table.describe()}); export the '
                         'tasks that tools/label_studio.py export wrote')
    out = []
    for line, row in table:
        if row[from_name]:
            out.append(dict(path=_pool_path(row, f'{path} line {line}', url_prefix),
                            label=row[from_name]))
    return out


def write_labels_table(items: Sequence[Dict[str, str]], path: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(['path', 'label'])
    for item in items:
        writer.writerow([item['path'], item['label']])
    atomic_write_text(buffer.getvalue(), path)
