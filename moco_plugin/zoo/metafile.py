"""The model-zoo metafile: one JSON file that both the code and ``model_zoo.md`` read.

``moco_plugin/zoo/models.json`` holds::

    {
      "schema_version": 1,
      "algorithms": [ {name, model_type, paper, configs}, ... ],
      "models":     [ {name, algorithm, source, backbone, epochs, batch_size, data,
                       eval_data, knn_top1, linear_top1, metrics_source, config, url,
                       sha256, md5_prefix, reproduce, notes}, ... ]
    }

Every field of a model entry is required (``null`` where it does not apply), so a
typo or a forgotten field is an error rather than a silently empty table cell.
Extra metafiles (e.g. a lab's private checkpoints) are merged in from the
``MOCO_ZOO_FILES`` environment variable (paths separated by ``os.pathsep``).
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from moco_plugin.utils.atomic_io import atomic_write_bytes
from moco_plugin.zoo.schema import (ALGORITHM_FIELDS, ENTRY_FIELDS, Algorithm, ModelZoo,
                                     ZooEntry, check_fields, schema_error, validate_entry)

BUILTIN_METAFILE = Path(__file__).with_name('models.json')
EXTRA_METAFILES_ENV = 'MOCO_ZOO_FILES'
SCHEMA_VERSION = 1
METAFILE_COMMENT = ('Model zoo of moco_plugin; schema in moco_plugin/zoo/schema.py. '
                    'model_zoo.md is generated from this file: after editing it run python '
                    'tools/model_zoo.py write (add project checkpoints with python '
                    'tools/model_zoo.py add).')


def parse_metafile(data: Dict[str, Any], where: str) -> ModelZoo:
    """Build and validate a :class:`ModelZoo` from the decoded JSON of one metafile."""
    if not isinstance(data, dict):
        schema_error(where, 'the metafile must be a JSON object')
    if data.get('schema_version') != SCHEMA_VERSION:
        schema_error(where, f'schema_version must be {SCHEMA_VERSION}, got {data.get("schema_version")!r}')
    check_fields({k: v for k, v in data.items() if not k.startswith('_')},
                  ['schema_version', 'algorithms', 'models'], where)
    algorithms = []
    for index, record in enumerate(data['algorithms']):
        check_fields(record, ALGORITHM_FIELDS, f'{where}: algorithms[{index}]')
        algorithms.append(Algorithm(**record))
    models = []
    for index, record in enumerate(data['models']):
        check_fields(record, ENTRY_FIELDS, f'{where}: models[{index}]')
        models.append(ZooEntry(**record))
    zoo = ModelZoo(algorithms, models)
    _validate_zoo(zoo, where)
    return zoo


def _validate_zoo(zoo: ModelZoo, where: str) -> None:
    algorithm_names = [algorithm.name for algorithm in zoo.algorithms]
    for entry in zoo.models:
        validate_entry(entry, algorithm_names, where)
    for kind, names in (('algorithm', algorithm_names), ('model', zoo.names())):
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            schema_error(where, f'duplicate {kind} name(s): {", ".join(duplicates)}')


def read_metafile(path: Union[str, Path]) -> ModelZoo:
    """Read and validate one metafile."""
    path = Path(path)
    return parse_metafile(read_json(path, 'model-zoo metafile'), str(path))


def read_json(path: Path, what: str) -> Any:
    """Parse the JSON file ``path``; a missing or malformed file is a one-line error naming ``what``."""
    try:
        return json.loads(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        raise FileNotFoundError(f'{what} not found: {path}') from None
    except json.JSONDecodeError as err:
        raise ValueError(f'{path}: not valid JSON ({err})') from None


def metafile_paths() -> List[Path]:
    """The built-in metafile followed by those named in ``MOCO_ZOO_FILES``."""
    extra = [Path(p) for p in os.environ.get(EXTRA_METAFILES_ENV, '').split(os.pathsep) if p]
    return [BUILTIN_METAFILE, *extra]


def load_zoo(paths: Optional[Sequence[Union[str, Path]]] = None) -> ModelZoo:
    """Merge metafiles (default: :func:`metafile_paths`); names must stay unique.

    Args:
        paths: Metafiles to read, in order.

    Returns:
        The merged zoo; an algorithm defined by several files is kept once.
    """
    algorithms: Dict[str, Algorithm] = {}
    models: List[ZooEntry] = []
    for path in (metafile_paths() if paths is None else [Path(p) for p in paths]):
        zoo = read_metafile(path)
        for algorithm in zoo.algorithms:
            algorithms.setdefault(algorithm.name, algorithm)
        models.extend(zoo.models)
    merged = ModelZoo(list(algorithms.values()), models)
    _validate_zoo(merged, ' + '.join(str(p) for p in (paths or metafile_paths())))
    return merged


def dump_metafile(zoo: ModelZoo) -> str:
    """The JSON text of ``zoo`` (stable layout: two-space indent, fields in schema order)."""
    data = {
        '_comment': METAFILE_COMMENT,
        'schema_version': SCHEMA_VERSION,
        'algorithms': [dataclasses.asdict(a) for a in zoo.algorithms],
        'models': [entry.to_json() for entry in zoo.models],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + '\n'


def add_entry(path: Union[str, Path], entry: ZooEntry, replace: bool = False) -> ModelZoo:
    """Append ``entry`` to the metafile at ``path`` (written atomically) and return the result.

    Args:
        path: The metafile to edit.
        entry: The new checkpoint.
        replace: Overwrite an existing entry with the same name instead of failing.
    """
    zoo = read_metafile(path)
    if entry.name in zoo.names():
        if not replace:
            raise ValueError(f'{path} already has a checkpoint called {entry.name!r}; '
                             'pass --replace to overwrite it')
        zoo.models = [entry if e.name == entry.name else e for e in zoo.models]
    else:
        zoo.models.append(entry)
    _validate_zoo(zoo, str(path))
    atomic_write_bytes(dump_metafile(zoo).encode('utf-8'), path)
    return zoo
