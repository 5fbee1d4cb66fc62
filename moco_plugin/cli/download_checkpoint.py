"""``tools/download_checkpoint.py NAME``: fetch model-zoo checkpoints into the cache."""
from __future__ import annotations

import argparse
from typing import List, Optional

from moco_plugin.cli.errors import run_cli

PROG = 'download_checkpoint.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG, description='Download model-zoo checkpoints by name (verified, resumable, '
        'cached under $MOCO_CACHE_DIR/checkpoints). Prints the local path of each file.')
    parser.add_argument('names', nargs='*', metavar='NAME', help='checkpoint name(s), see --list')
    parser.add_argument('--list', action='store_true', help='list the available names and exit')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')
    parser.add_argument('--retries', type=int, default=2,
                        help='resume a dropped connection this many times (default: 2)')
    args = parser.parse_args(argv)
    if not args.list and not args.names:
        parser.error('give at least one NAME, or --list to see them')
    return args


def _percent(value: Optional[float]) -> str:
    return '-' if value is None else f'{value:.1f}'


def list_checkpoints() -> None:
    from moco_plugin.zoo.loading import cache_path
    from moco_plugin.zoo.metafile import load_zoo
    zoo = load_zoo()
    width = max(len(name) for name in zoo.names())
    print(f'{"name":<{width}}  {"algorithm":<10} {"backbone":<10} {"data":<18} '
          f'{"kNN":>5} {"linear":>6}  cached')
    for entry in zoo.models:
        if not entry.is_remote:
            cached = 'local' if entry.local_path().is_file() else 'not uploaded'
        else:
            cached = 'yes' if cache_path(entry).is_file() else 'no'
        print(f'{entry.name:<{width}}  {entry.algorithm:<10} {entry.backbone:<10} '
              f'{entry.data:<18} {_percent(entry.knn_top1):>5} {_percent(entry.linear_top1):>6}  '
              f'{cached}')


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)

    def _run() -> None:
        from moco_plugin.zoo.loading import download_checkpoint
        if args.list:
            list_checkpoints()
            return
        for name in args.names:
            print(download_checkpoint(name, progress=not args.quiet, retries=args.retries))

    run_cli(PROG, _run)


if __name__ == '__main__':
    main()
