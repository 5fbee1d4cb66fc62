"""A folder of real CIFAR-10 images in the mixed sizes, modes and formats of a user's photos."""
from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np
from PIL import Image



def cifar_files(cifar_root: Path, count: int, split: str = 'train') -> List[Path]:
    """``count`` CIFAR-10 JPEGs, taken round-robin over the class folders (sorted)."""
    classes = sorted(p for p in (Path(cifar_root) / split).iterdir() if p.is_dir())
    per_class = [sorted(c.glob('*.jpg')) for c in classes]
    return [per_class[i % len(classes)][i // len(classes)] for i in range(count)]


def write_mixed_folder(cifar_root: Path, folder: Path, count: int = 200) -> dict:
    """``count`` files in ``folder``: ``count - 1`` decodable images and one corrupt ``.jpg``.

    Mixed on purpose: JPEG, PNG, PPM and WebP; RGB, grayscale, one CMYK JPEG and one
    16-bit grayscale PNG; sizes from 24 to 96 px, some not square. Returns the name of
    the corrupt file and how many of each kind were written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    kinds = dict(jpeg=0, png=0, gray=0, ppm=0, webp=0, cmyk=0, png16=0)
    sources = cifar_files(cifar_root, count - 1)
    for i, src in enumerate(sources):
        with Image.open(src) as opened:
            img = opened.convert('RGB')
        side = (24, 32, 40, 64, 96)[i % 5]
        img = img.resize((side, side * 3 // 4 if i % 3 == 0 else side), Image.BILINEAR)
        name = f'img_{i:03d}'
        if i == 0:
            img.convert('CMYK').save(folder / f'{name}.jpg', 'JPEG')
            kinds['cmyk'] += 1
        elif i == 1:
            wide = (np.asarray(img.convert('L'), dtype=np.uint16) * 257).astype(np.uint16)
            Image.fromarray(wide).save(folder / f'{name}.png')
            kinds['png16'] += 1
        elif i % 7 == 0:
            img.convert('L').save(folder / f'{name}.jpg', 'JPEG')
            kinds['gray'] += 1
        elif i % 5 == 1:
            img.save(folder / f'{name}.png')
            kinds['png'] += 1
        elif i % 11 == 2:
            img.save(folder / f'{name}.ppm')
            kinds['ppm'] += 1
        elif i % 13 == 3:
            img.save(folder / f'{name}.webp', 'WEBP')
            kinds['webp'] += 1
        else:
            img.save(folder / f'{name}.jpg', 'JPEG')
            kinds['jpeg'] += 1
    corrupt = folder / 'img_broken.jpg'
    data = Path(sources[0]).read_bytes()
    corrupt.write_bytes(data[:len(data) // 3])  # a JPEG cut off mid-scan
    return dict(corrupt=corrupt.name, kinds=kinds)
