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
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from moco_plugin.utils.atomic_io import atomic_write_bytes

BUILTIN_METAFILE = Path(__file__).with_name('models.json')
EXTRA_METAFILES_ENV = 'MOCO_ZOO_FILES'
# Relative checkpoint paths and config paths in a metafile are relative to the repository root.
REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_VERSION = 1
METAFILE_COMMENT = ('Model zoo of moco_plugin; schema in moco_plugin/zoo/metafile.py. '
                    'model_zoo.md is generated from this file: after editing it run python '
                    'tools/model_zoo.py write (add project checkpoints with python '
                    'tools/model_zoo.py add).')
SOURCES = ('official', 'project')
NAME_PATTERN = re.compile(r'^[a-z0-9][a-z0-9_.-]*$')
_SHA256_PATTERN = re.compile(r'^[0-9a-f]{64}$')
_MD5_PREFIX_PATTERN = re.compile(r'^[0-9a-f]{8,32}$')


@dataclass(frozen=True)
class Algorithm:
    """One table of the model zoo.

    Attributes:
        name: Display name and key used by model entries, e.g. ``"MoCo v2"``.
        model_type: The registered ``MODELS`` type that implements it, e.g. ``"MoCo"``.
        paper: Link to the paper, or ``None`` for baselines.
        configs: Folder of its configs, relative to the repository root.
    """

    name: str
    model_type: str
    paper: Optional[str]
    configs: str


@dataclass(frozen=True)
class ZooEntry:
    """One downloadable checkpoint.

    Attributes:
        name: Unique name, used as ``zoo://NAME``; lowercase letters, digits, ``_.-``.
        algorithm: Name of an :class:`Algorithm` of the same metafile.
        source: ``"official"`` (released by the paper's authors) or ``"project"``
            (trained with this project).
        backbone: e.g. ``"ResNet-50"``.
        epochs: Pretraining epochs.
        batch_size: Total pretraining batch size (all devices).
        data: Pretraining data, e.g. ``"ImageNet-1k train"``.
        eval_data: Where ``knn_top1``/``linear_top1`` were measured.
        knn_top1: k-NN top-1 accuracy in percent, or ``None`` if not measured.
        linear_top1: Linear-probe top-1 accuracy in percent, or ``None``.
        metrics_source: Where the numbers come from (paper table, benchmark result file).
        config: Config of this project that reproduces it, relative to the repository root.
        url: ``https://``/``http://`` URL, ``file://`` URL, or a local path (relative
            paths are relative to the repository root).
        sha256: Full SHA-256 of the file (required for project checkpoints).
        md5_prefix: Leading hex digits of the MD5, as published with the official releases.
        reproduce: Command line that reproduces the checkpoint with this project.
        notes: Free text shown under the table (licence, provenance), or ``None``.
    """

    name: str
    algorithm: str
    source: str
    backbone: str
    epochs: int
    batch_size: int
    data: str
    eval_data: str
    knn_top1: Optional[float]
    linear_top1: Optional[float]
    metrics_source: str
    config: str
    url: str
    sha256: Optional[str]
    md5_prefix: Optional[str]
    reproduce: str
    notes: Optional[str]

    @property
    def is_remote(self) -> bool:
        """Whether the file has to be downloaded (http/https), as opposed to a local file."""
        return self.url.startswith(('http://', 'https://'))

    def local_path(self) -> Path:
        """The file of a ``file://`` URL or local-path entry (relative to the repository root)."""
        if self.is_remote:
            raise ValueError(f'zoo entry {self.name} is remote ({self.url}); download it instead')
        if self.url.startswith('file://'):
            from urllib.parse import unquote, urlparse
            return Path(unquote(urlparse(self.url).path))
        path = Path(self.url).expanduser()
        return path if path.is_absolute() else REPO_ROOT / path

    def to_json(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


_ENTRY_FIELDS = [f.name for f in dataclasses.fields(ZooEntry)]
_ALGORITHM_FIELDS = [f.name for f in dataclasses.fields(Algorithm)]


class UnknownCheckpointError(ValueError):
    """A ``zoo://NAME`` that no metafile lists."""


@dataclass
class ModelZoo:
    """All algorithms and checkpoints of one or more metafiles."""

    algorithms: List[Algorithm]
    models: List[ZooEntry]

    def names(self) -> List[str]:
        return [entry.name for entry in self.models]

    def get(self, name: str) -> ZooEntry:
        """The entry called ``name``; the error lists close names."""
        for entry in self.models:
            if entry.name == name:
                return entry
        import difflib
        close = difflib.get_close_matches(name, self.names(), n=3, cutoff=0.4)
        hint = f'did you mean {", ".join(close)}?' if close else f'known: {", ".join(self.names())}'
        raise UnknownCheckpointError(
            f"no checkpoint called '{name}' in the model zoo; {hint} "
            '(list them with: python tools/download_checkpoint.py --list)')

    def by_algorithm(self, algorithm: str) -> List[ZooEntry]:
        return [entry for entry in self.models if entry.algorithm == algorithm]


def _fail(where: str, message: str) -> None:
    raise ValueError(f'{where}: {message}')


def _check_fields(record: Any, expected: Sequence[str], where: str) -> None:
    if not isinstance(record, dict):
        _fail(where, f'expected an object, got {type(record).__name__}')
    missing = [name for name in expected if name not in record]
    unknown = [name for name in record if name not in expected]
    if missing:
        _fail(where, f'missing field(s) {", ".join(missing)} (use null where one does not apply)')
    if unknown:
        _fail(where, f'unknown field(s) {", ".join(unknown)}; valid fields: {", ".join(expected)}')


def _check_number(value: Any, where: str, field: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        _fail(where, f'{field} must be a percentage in [0, 100] or null, got {value!r}')


def validate_entry(entry: ZooEntry, algorithms: Iterable[str], where: str) -> None:
    """Raise ``ValueError`` naming the entry and field when ``entry`` breaks the schema."""
    where = f'{where}: model {entry.name!r}'
    if not isinstance(entry.name, str) or not NAME_PATTERN.match(entry.name):
        _fail(where, 'name must be lowercase letters, digits and _.- (it is used as zoo://NAME)')
    if entry.algorithm not in set(algorithms):
        _fail(where, f'algorithm {entry.algorithm!r} is not one of the metafile algorithms')
    if entry.source not in SOURCES:
        _fail(where, f'source must be one of {SOURCES}, got {entry.source!r}')
    for field in ('epochs', 'batch_size'):
        value = getattr(entry, field)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            _fail(where, f'{field} must be a positive integer, got {value!r}')
    for field in ('backbone', 'data', 'eval_data', 'metrics_source', 'config', 'url', 'reproduce'):
        if not isinstance(getattr(entry, field), str) or not getattr(entry, field).strip():
            _fail(where, f'{field} must be a non-empty string')
    _check_number(entry.knn_top1, where, 'knn_top1')
    _check_number(entry.linear_top1, where, 'linear_top1')
    if entry.sha256 is not None and not _SHA256_PATTERN.match(str(entry.sha256)):
        _fail(where, 'sha256 must be 64 lowercase hex digits')
    if entry.md5_prefix is not None and not _MD5_PREFIX_PATTERN.match(str(entry.md5_prefix)):
        _fail(where, 'md5_prefix must be 8 to 32 lowercase hex digits')
    if entry.sha256 is None and entry.md5_prefix is None:
        _fail(where, 'needs a checksum: sha256 (or md5_prefix for files published with one)')
    if entry.source == 'project' and entry.sha256 is None:
        _fail(where, 'checkpoints produced by this project must record their full sha256')
    if entry.url.startswith(('ftp://', 's3://')) or '://' in entry.url and not entry.url.startswith(
            ('http://', 'https://', 'file://')):
        _fail(where, f'url must be http(s)://, file:// or a local path, got {entry.url!r}')


def parse_metafile(data: Dict[str, Any], where: str) -> ModelZoo:
    """Build and validate a :class:`ModelZoo` from the decoded JSON of one metafile."""
    if not isinstance(data, dict):
        _fail(where, 'the metafile must be a JSON object')
    if data.get('schema_version') != SCHEMA_VERSION:
        _fail(where, f'schema_version must be {SCHEMA_VERSION}, got {data.get("schema_version")!r}')
    _check_fields({k: v for k, v in data.items() if not k.startswith('_')},
                  ['schema_version', 'algorithms', 'models'], where)
    algorithms = []
    for index, record in enumerate(data['algorithms']):
        _check_fields(record, _ALGORITHM_FIELDS, f'{where}: algorithms[{index}]')
        algorithms.append(Algorithm(**record))
    models = []
    for index, record in enumerate(data['models']):
        _check_fields(record, _ENTRY_FIELDS, f'{where}: models[{index}]')
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
            _fail(where, f'duplicate {kind} name(s): {", ".join(duplicates)}')


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
