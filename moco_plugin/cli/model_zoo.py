"""``tools/model_zoo.py write|check|list|publish|add``: keep model_zoo.md and the metafile in step."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import List, Optional

from moco_plugin.cli.errors import run_cli
from moco_plugin.utils.config_files import PACKAGED_CONFIGS, find_config

PROG = 'model_zoo.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from moco_plugin.zoo.docs import MODEL_ZOO_MD
    from moco_plugin.zoo.metafile import BUILTIN_METAFILE

    parser = argparse.ArgumentParser(prog=PROG, description='Maintain the model zoo: the metafile '
                                     'moco_plugin/zoo/models.json and the tables of model_zoo.md.')
    parser.add_argument('--metafile', type=Path, default=BUILTIN_METAFILE, help=argparse.SUPPRESS)
    parser.add_argument('--doc', type=Path, default=MODEL_ZOO_MD, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('write', help='regenerate the tables of model_zoo.md from the metafile')
    commands.add_parser('check', help='fail if model_zoo.md does not match the metafile')
    commands.add_parser('list', help='print the checkpoint names')
    publish = commands.add_parser(
        'publish', help='write the release copy of a training checkpoint (weights and meta, '
        'no optimizer state) as OUT_DIR/NAME_<sha256[:8]>.pth, ready to upload and to add')
    publish.add_argument('checkpoint', type=Path, help='the .pth written by training')
    publish.add_argument('--name', required=True, help='the zoo name it will be listed under')
    publish.add_argument('--out-dir', type=Path, default=Path('work_dirs/zoo_release'),
                         help='folder of release files (default: work_dirs/zoo_release)')
    add = commands.add_parser('add', help='add a checkpoint trained with this project '
                              '(computes its sha256, reads the accuracies from a benchmark '
                              'JSON) and rewrite model_zoo.md')
    add.add_argument('checkpoint', type=Path, help='the .pth written by training')
    add.add_argument('--name', required=True, help='zoo name, e.g. mocov2_resnet18_200e_cifar10')
    add.add_argument('--algorithm', required=True, help="metafile algorithm, e.g. 'MoCo v2'")
    add.add_argument('--config', required=True, help='config it was trained with')
    add.add_argument('--batch-size', type=int, required=True, help='total batch size')
    add.add_argument('--data', required=True, help="pretraining data, e.g. 'CIFAR-10 train'")
    add.add_argument('--eval-data', required=True, help="evaluation data, e.g. 'CIFAR-10 test'")
    add.add_argument('--benchmark', type=Path,
                     help='JSON result of tools/benchmark_linear.py (knn/linear top-1)')
    add.add_argument('--knn-k', type=int,
                     help='k-NN result of the benchmark to record (default: the only one, or 200)')
    add.add_argument('--knn-top1', type=float, help='k-NN top-1 in percent (overrides --benchmark)')
    add.add_argument('--linear-top1', type=float,
                     help='linear top-1 in percent (overrides --benchmark)')
    add.add_argument('--epochs', type=int, help="default: the checkpoint's meta epoch")
    add.add_argument('--backbone', help='default: read from the weights')
    add.add_argument('--url', help='public download URL; default: the local file')
    add.add_argument('--reproduce', help='default: python tools/train.py CONFIG')
    add.add_argument('--notes', help='free text shown with the entry')
    add.add_argument('--replace', action='store_true', help='overwrite an entry with the same name')
    return parser.parse_args(argv)


def packaged_config_entry(config: str) -> str:
    """``config`` as the metafile records it: ``configs/<folder>/<name>.py`` of the package."""
    path = find_config(config).resolve()
    try:
        return 'configs/' + path.relative_to(PACKAGED_CONFIGS).as_posix()
    except ValueError:
        raise ValueError(f'--config {config} is not a packaged config; the zoo lists configs '
                         'that ship with moco_plugin (moco_plugin/configs/...)') from None


def _run(args: argparse.Namespace) -> None:
    from moco_plugin.zoo.docs import stale_message, write_document
    from moco_plugin.zoo.entries import make_project_entry
    from moco_plugin.zoo.metafile import add_entry, read_metafile

    if args.command == 'list':
        print('\n'.join(read_metafile(args.metafile).names()))
    elif args.command == 'check':
        problem = stale_message(args.doc, read_metafile(args.metafile))
        if problem:
            raise ValueError(problem)
        print(f'{args.doc} matches {args.metafile}')
    elif args.command == 'publish':
        from moco_plugin.zoo.publish import publish_checkpoint
        if not args.checkpoint.is_file():
            raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
        path, sha256 = publish_checkpoint(args.checkpoint, args.out_dir, args.name)
        print(f'{path} ({path.stat().st_size / 2**20:.1f} MiB, '
              f'{args.checkpoint.stat().st_size / 2**20:.1f} MiB before), sha256 '
              f'{sha256}; list it with: python tools/model_zoo.py add {path} '
              f'--name {args.name} ...')
    elif args.command == 'write':
        changed = write_document(args.doc, read_metafile(args.metafile))
        print(f'{"updated" if changed else "unchanged"}: {args.doc}')
    else:
        entry = make_project_entry(
            args.checkpoint, name=args.name, algorithm=args.algorithm,
            config=packaged_config_entry(args.config),
            batch_size=args.batch_size, data=args.data, eval_data=args.eval_data,
            benchmark=args.benchmark, knn_k=args.knn_k, knn_top1=args.knn_top1,
            linear_top1=args.linear_top1,
            epochs=args.epochs, backbone=args.backbone, url=args.url, reproduce=args.reproduce,
            notes=args.notes)
        zoo = add_entry(args.metafile, entry, replace=args.replace)
        write_document(args.doc, zoo)
        print(f'added {entry.name} ({entry.backbone}, {entry.epochs} epochs, k-NN '
              f'{entry.knn_top1}, linear {entry.linear_top1}, sha256 {entry.sha256[:16]}...) to '
              f'{args.metafile}; {args.doc} regenerated')


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: _run(args))


if __name__ == '__main__':
    main()
