"""``tools/label_studio.py export | import``: a selection to a labelling tool and back.

Export a selection (or pseudo-labels, with their confidences) of the pool as a CSV with
absolute paths (fill in the ``label`` column: a class, or ``skip``) and as Label Studio
import tasks, with the labelling interface for the classes::

    python tools/label_studio.py export CONFIG pick.json --pool images/ \\
        --csv pick_to_label.csv --tasks pick_tasks.json [--url-prefix 'http://host/images/']

Import Label Studio's JSON or CSV export back into a labels table (``path,label``; skipped
tasks ``skip``), then merge it::

    python tools/label_studio.py import export.json --out new_labels.csv
    python tools/make_label_subset.py CONFIG --pool images/ --add pick.json \\
        --csv new_labels.csv --labels labels.json --out labels_next.json
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
from typing import List, Optional

from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.fewlabel_common import add_data_arguments, load_config, log, pool_and_labels
from moco_plugin.datasets.label_studio import (export_rows, label_studio_tasks, labelling_config,
                                               read_label_studio_csv, read_label_studio_json,
                                               write_labelling_csv, write_labels_table)
from moco_plugin.utils.atomic_io import atomic_write_text

PROG = 'label_studio.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    export = commands.add_parser('export', help='a selection / pseudo-labels to CSV and tasks')
    export.add_argument('config', help="pretraining config (its dataset's training split)")
    export.add_argument('selection', help='selection or pseudo-label file (JSON)')
    export.add_argument('--csv', help='labelling table to write (absolute paths)')
    export.add_argument('--tasks', help='Label Studio import tasks to write (JSON)')
    export.add_argument('--url-prefix',
                        help="image URL = prefix + pool path (e.g. '/data/local-files/?d=images/' "
                             "for Label Studio's local file serving); default: absolute paths")
    export.add_argument('--labelling-config',
                        help='Label Studio labelling interface XML (default: --tasks with .xml)')
    add_data_arguments(export)
    back = commands.add_parser('import', help='a Label Studio JSON/CSV export to a labels table')
    back.add_argument('export', help="Label Studio export (.json or .csv)")
    back.add_argument('--out', required=True, help='labels table to write (path,label CSV)')
    back.add_argument('--url-prefix', help='the prefix the tasks were exported with')
    back.add_argument('--from-name', help='name of the Choices control (default: any choice in '
                                          'JSON, the column label in CSV)')
    args = parser.parse_args(argv)
    if args.command == 'export' and not (args.csv or args.tasks):
        export.error('name what to write: --csv TABLE and/or --tasks TASKS.json')
    return args


def export_selection(args: argparse.Namespace):
    cfg = load_config(args)
    pool, _, chosen = pool_and_labels(cfg, args, args.selection)
    rows = export_rows(pool, chosen)
    written = []
    if args.csv:
        write_labelling_csv(rows, args.csv)
        written.append(args.csv)
    if args.tasks:
        version = f"moco-plugin {chosen.kind} {chosen.meta.get('teacher_checkpoint', '')}".strip()
        atomic_write_text(json.dumps(label_studio_tasks(rows, args.url_prefix, version), indent=1),
                          args.tasks)
        xml = args.labelling_config or osp.splitext(args.tasks)[0] + '.xml'
        atomic_write_text(labelling_config(pool.classes), xml)
        written += [args.tasks, xml]
    log(PROG, f'{len(rows)} images of {args.selection} ({chosen.kind}) written to '
        f'{", ".join(written)}')
    return rows


def import_export(args: argparse.Namespace):
    if args.export.lower().endswith('.json'):
        items = read_label_studio_json(args.export, args.url_prefix, args.from_name)
    else:
        items = read_label_studio_csv(args.export, args.url_prefix, args.from_name or 'label')
    write_labels_table(items, args.out)
    skipped = sum(item['label'] == 'skip' for item in items)
    log(PROG, f'{len(items) - skipped} labels and {skipped} skipped images of {args.export} '
        f'written to {args.out}')
    return items


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: export_selection(args) if args.command == 'export'
            else import_export(args))


if __name__ == '__main__':
    main()
