"""The one reader of every table (CSV / TSV / ``;``-separated) the project takes from users.

Spreadsheet programs and dataset releases write tables in several forms: a UTF-8 byte-order
mark, CRLF line ends, ``,`` or ``;`` or tab between fields. :func:`read_table` reads all of
them, detects the delimiter from the header line, names columns by header name, and turns
every defect into a one-line :class:`TableError` naming the file, the row and the fix.
Rows are numbered as a text editor shows them (the header is line 1).
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

DELIMITERS = ('\t', ';', ',')  # ties go to the first
_NAMES = {',': "','", ';': "';'", '\t': 'tab'}


class TableError(ValueError):
    """A table that cannot be read as asked (message: file, row, fix)."""


def delimiter_name(delimiter: str) -> str:
    return _NAMES.get(delimiter, repr(delimiter))


def detect_delimiter(header_line: str, path: str = '') -> str:
    """The delimiter among ``,`` ``;`` tab that splits ``header_line`` into the most fields.

    Quoted parts are ignored (a header ``"a,b";c`` is ``;``-separated); ties go to tab,
    then ``;``. A ``.tsv`` name means tab; a header with none of them (a one-column
    table) reads as ``,``.
    """
    if path.lower().endswith('.tsv'):  # the name says tab
        return '\t'
    best, best_fields = ',', 1
    for delimiter in DELIMITERS:
        fields = len(next(csv.reader([header_line], delimiter=delimiter), []))
        if fields > best_fields:
            best, best_fields = delimiter, fields
    return best


@dataclass
class Table:
    """A table read by :func:`read_table`: header names, delimiter and ``(line, row)`` pairs."""

    path: str
    header: List[str]
    delimiter: str
    rows: List[Tuple[int, Dict[str, str]]]

    def describe(self) -> str:
        return (f'header found: {", ".join(self.header) or "(empty)"}; delimiter detected: '
                f'{delimiter_name(self.delimiter)}')

    def require(self, columns: Sequence[str], flag: str = '--csv-columns') -> None:
        """Raise a :class:`TableError` naming the header found when a column is missing."""
        missing = [c for c in columns if c and c not in self.header]
        if missing:
            example = ','.join(self.header[:len([c for c in columns if c])])
            raise TableError(f'{self.path}: no column {", ".join(missing)} ({self.describe()}); '
                             f'name this table\'s columns with {flag} (e.g. {flag} {example})')

    def column(self, name: str) -> List[str]:
        return [row[name] for _, row in self.rows]

    def __iter__(self) -> Iterator[Tuple[int, Dict[str, str]]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def read_table(path: str, columns: Sequence[Optional[str]] = (), delimiter: Optional[str] = None,
               flag: str = '--csv-columns', allow_empty: bool = False) -> Table:
    """Read ``path`` (utf-8 with or without BOM, any line ends) as a table with a header row.

    Args:
        path: The table file.
        columns: Header names that must be present (``None`` entries are skipped).
        delimiter: Force one; default: detected from the header line.
        flag: The option that names the columns, for the error message.
        allow_empty: Accept a table with a header and no rows.

    Returns:
        A :class:`Table`; each row maps every header name to its stripped value.

    Raises:
        FileNotFoundError: No such file.
        TableError: Not text, no header, a missing column, a row with too few or too
            many fields, no rows.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'table not found: {path}; pass an existing CSV/TSV file')
    try:
        with open(path, 'rb') as handle:
            text = handle.read().decode('utf-8-sig')
    except UnicodeDecodeError as err:
        raise TableError(f'{path} is not UTF-8 text ({err.reason} at byte {err.start}); save the '
                         'table as UTF-8 CSV') from None
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise TableError(f'{path} is empty; a table starts with a header row such as path,label')
    delimiter = delimiter or detect_delimiter(first, path)
    reader = csv.reader(io.StringIO(text, newline=''), delimiter=delimiter)
    header: List[str] = []
    for fields in reader:
        if any(f.strip() for f in fields):
            header = [name.strip() for name in fields]
            break
    table = Table(path, header, delimiter, [])
    table.require(list(columns), flag)
    try:
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                raise TableError(f'{path} line {reader.line_num}: {len(fields)} field(s), the '
                                 f'header has {len(header)} ({table.describe()}); write one '
                                 'value per column (quote values that contain the delimiter)')
            table.rows.append((reader.line_num,
                               {name: value.strip() for name, value in zip(header, fields)}))
    except csv.Error as err:
        raise TableError(f'{path} line {reader.line_num}: {err}; check the quoting') from None
    if not table.rows and not allow_empty:
        raise TableError(f'{path}: no rows below the header ({table.describe()})')
    return table


def parse_columns(spec: str, flag: str = '--csv-columns', least: int = 1,
                  most: int = 3) -> Tuple[str, ...]:
    """``'path,label'`` -> ``('path', 'label')``, checked for count and empty names."""
    names = tuple(n.strip() for n in spec.split(','))
    if not least <= len(names) <= most or not all(names):
        raise ValueError(f'{flag} takes {least}..{most} comma-separated column names '
                         f'(e.g. path,label), got {spec!r}')
    return names
