"""``tools/cache.py list|clear``: what the project keeps under its cache folder, and freeing it.

Kinds: ``decoded`` (in-memory datasets decoded once), ``features`` (extracted features of
the benchmark tool), ``checkpoints`` (model-zoo downloads). ``clear`` removes decoded arrays
and features; downloads only with ``--what checkpoints`` (or ``all``).
"""
from __future__ import annotations

import argparse
import os
import shutil
from typing import Dict, List, Optional

from moco_plugin.cli.errors import run_cli
from moco_plugin.utils.cache import cache_dir

PROG = 'cache.py'
KINDS = ('decoded', 'features', 'checkpoints')


def folder_usage(folder: str) -> Dict[str, int]:
    """Files and bytes below ``folder`` (zeros when it does not exist)."""
    files = size = 0
    for root, _, names in os.walk(folder):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(root, name))
    return dict(files=files, bytes=size)


def usage() -> Dict[str, Dict[str, int]]:
    return {kind: folder_usage(os.path.join(cache_dir(), kind)) for kind in KINDS}


def clear(kinds: List[str]) -> Dict[str, Dict[str, int]]:
    """Remove the folders of ``kinds``; return what they held."""
    freed = {}
    for kind in kinds:
        folder = os.path.join(cache_dir(), kind)
        freed[kind] = folder_usage(folder)
        shutil.rmtree(folder, ignore_errors=True)
    return freed


def _mib(n: int) -> str:
    return f'{n / 2**20:.1f} MiB'


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0])
    parser.add_argument('command', choices=['list', 'clear'])
    parser.add_argument('--what', nargs='+', choices=[*KINDS, 'all'],
                        help='kinds to clear (default: decoded features)')
    args = parser.parse_args(argv)

    def _run() -> None:
        if args.command == 'list':
            print(f'cache folder: {cache_dir()} (MOCO_CACHE_DIR moves it)')
            for kind, info in usage().items():
                print(f'{kind:12s} {info["files"]:7d} files {_mib(info["bytes"]):>12s}')
            return
        kinds = list(KINDS) if args.what and 'all' in args.what else (args.what or ['decoded', 'features'])
        for kind, info in clear(kinds).items():
            print(f'cleared {kind}: {info["files"]} files, {_mib(info["bytes"])}')

    run_cli(PROG, _run)


if __name__ == '__main__':
    main()
