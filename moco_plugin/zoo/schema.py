"""The model-zoo schema: algorithms, checkpoint entries and their validation.

A metafile (:mod:`moco_plugin.zoo.metafile`) is a list of :class:`Algorithm` and
:class:`ZooEntry` records; every field is required (``null`` where it does not apply),
so a typo or a forgotten field is an error rather than a silently empty table cell.
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence
from urllib.parse import unquote, urlparse

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
        configs: Folder of its configs, e.g. ``configs/mocov2`` (packaged under ``moco_plugin/``).
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
        config: Packaged config that reproduces it, e.g. ``configs/mocov2/NAME.py``.
        url: ``https://``/``http://`` URL, ``file://`` URL, or a local path (relative
            paths are relative to the working directory).
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
        """The file of a ``file://`` URL or local-path entry (relative: to the working directory)."""
        if self.is_remote:
            raise ValueError(f'zoo entry {self.name} is remote ({self.url}); download it instead')
        if self.url.startswith('file://'):
            return Path(unquote(urlparse(self.url).path))
        path = Path(self.url).expanduser()
        # Relative to where the command runs (the checkout that wrote the file), never to
        # where the package is installed.
        return path if path.is_absolute() else Path(os.getcwd()) / path

    def to_json(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


ENTRY_FIELDS = [f.name for f in dataclasses.fields(ZooEntry)]
ALGORITHM_FIELDS = [f.name for f in dataclasses.fields(Algorithm)]


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
        close = difflib.get_close_matches(name, self.names(), n=3, cutoff=0.4)
        hint = f'did you mean {", ".join(close)}?' if close else f'known: {", ".join(self.names())}'
        raise UnknownCheckpointError(
            f"no checkpoint called '{name}' in the model zoo; {hint} "
            '(list them with: python tools/download_checkpoint.py --list)')

    def by_algorithm(self, algorithm: str) -> List[ZooEntry]:
        return [entry for entry in self.models if entry.algorithm == algorithm]


def schema_error(where: str, message: str) -> None:
    raise ValueError(f'{where}: {message}')


def check_fields(record: Any, expected: Sequence[str], where: str) -> None:
    if not isinstance(record, dict):
        schema_error(where, f'expected an object, got {type(record).__name__}')
    missing = [name for name in expected if name not in record]
    unknown = [name for name in record if name not in expected]
    if missing:
        schema_error(where, f'missing field(s) {", ".join(missing)} (use null where one does not apply)')
    if unknown:
        schema_error(where, f'unknown field(s) {", ".join(unknown)}; valid fields: {", ".join(expected)}')


def _check_number(value: Any, where: str, field: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        schema_error(where, f'{field} must be a percentage in [0, 100] or null, got {value!r}')


def validate_entry(entry: ZooEntry, algorithms: Iterable[str], where: str) -> None:
    """Raise ``ValueError`` naming the entry and field when ``entry`` breaks the schema."""
    where = f'{where}: model {entry.name!r}'
    if not isinstance(entry.name, str) or not NAME_PATTERN.match(entry.name):
        schema_error(where, 'name must be lowercase letters, digits and _.- (it is used as zoo://NAME)')
    if entry.algorithm not in set(algorithms):
        schema_error(where, f'algorithm {entry.algorithm!r} is not one of the metafile algorithms')
    if entry.source not in SOURCES:
        schema_error(where, f'source must be one of {SOURCES}, got {entry.source!r}')
    for field in ('epochs', 'batch_size'):
        value = getattr(entry, field)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            schema_error(where, f'{field} must be a positive integer, got {value!r}')
    for field in ('backbone', 'data', 'eval_data', 'metrics_source', 'config', 'url', 'reproduce'):
        if not isinstance(getattr(entry, field), str) or not getattr(entry, field).strip():
            schema_error(where, f'{field} must be a non-empty string')
    _check_number(entry.knn_top1, where, 'knn_top1')
    _check_number(entry.linear_top1, where, 'linear_top1')
    if entry.sha256 is not None and not _SHA256_PATTERN.match(str(entry.sha256)):
        schema_error(where, 'sha256 must be 64 lowercase hex digits')
    if entry.md5_prefix is not None and not _MD5_PREFIX_PATTERN.match(str(entry.md5_prefix)):
        schema_error(where, 'md5_prefix must be 8 to 32 lowercase hex digits')
    if entry.sha256 is None and entry.md5_prefix is None:
        schema_error(where, 'needs a checksum: sha256 (or md5_prefix for files published with one)')
    if entry.source == 'project' and entry.sha256 is None:
        schema_error(where, 'checkpoints produced by this project must record their full sha256')
    if entry.url.startswith(('ftp://', 's3://')) or '://' in entry.url and not entry.url.startswith(
            ('http://', 'https://', 'file://')):
        schema_error(where, f'url must be http(s)://, file:// or a local path, got {entry.url!r}')


