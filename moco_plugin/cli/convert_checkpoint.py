"""``tools/convert_checkpoint.py IN OUT --to FORMAT``: official <-> project, downstream exports."""
from __future__ import annotations

import argparse
from typing import List, Optional

from moco_plugin.cli.errors import run_cli
from moco_plugin.zoo.conversion import TARGETS, convert  # noqa: F401  (convert: its home)
from moco_plugin.zoo.layouts import RESNET_ARCHS

PROG = 'convert_checkpoint.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG, description='Convert an official MoCo release into this project\'s layout, or '
        'export the ResNet of a MoCo checkpoint (either layout) for torchvision, detectron2 or '
        'mmpretrain/mmdetection.')
    parser.add_argument('input', help='checkpoint file or zoo://NAME')
    parser.add_argument('output', help='file to write (written atomically)')
    parser.add_argument('--to', required=True, choices=TARGETS, dest='target',
                        help='project: MMEngine checkpoint of this MoCo model; torchvision: ResNet '
                             'state_dict without fc; detectron2: .pkl for MODEL.WEIGHTS; mmengine: '
                             'backbone.-prefixed MMEngine checkpoint')
    parser.add_argument('--from', choices=('auto', 'official', 'project'), default='auto',
                        dest='source', help='layout of the input (default: detected from its keys)')
    parser.add_argument('--arch', choices=RESNET_ARCHS, default=None,
                        help='the ResNet the file must hold completely (default: the official '
                             "file's arch field, else the one its blocks describe)")
    parser.add_argument('--encoder', choices=('query', 'key'), default='query',
                        help='which MoCo encoder to export (default: query, as the MoCo '
                             'authors do)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)

    def _run() -> None:
        print(convert(args.input, args.output, args.target, args.source, args.encoder, args.arch))

    run_cli(PROG, _run)


if __name__ == '__main__':
    main()
