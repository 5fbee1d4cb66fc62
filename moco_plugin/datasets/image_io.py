"""Reading images of any mode and extension as RGB, with clear errors."""
from __future__ import annotations

import os
from typing import Iterable, List, Tuple

import numpy as np
from PIL import Image, UnidentifiedImageError

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.ppm', '.pgm', '.pbm', '.tif', '.tiff',
                  '.webp', '.gif', '.jfif')


class CorruptImageError(RuntimeError):
    """An image file exists but cannot be decoded."""


def has_image_extension(name: str, extensions: Iterable[str] = IMG_EXTENSIONS) -> bool:
    """Case-insensitive extension check (``.JPG``, ``.Jpeg`` count)."""
    return name.lower().endswith(tuple(e.lower() for e in extensions))


def load_rgb(path: str) -> Image.Image:
    """Open ``path`` and convert it to 8-bit RGB.

    Grayscale (``L``, ``I;16``), palette, ``RGBA``, ``LA`` and CMYK images are
    converted, so datasets with mixed modes feed the same pipeline.

    Raises:
        FileNotFoundError: The file does not exist.
        CorruptImageError: The file cannot be decoded.
    """
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ('I;16', 'I;16B', 'I;16L', 'I'):
                arr = np.asarray(img, dtype=np.float64)
                top = arr.max() or 1.0
                img = Image.fromarray((arr * (255.0 / top)).astype(np.uint8), mode='L')
            return img.convert('RGB') if img.mode != 'RGB' else img.copy()
    except FileNotFoundError:
        raise FileNotFoundError(f'image not found: {path}') from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise CorruptImageError(
            f'cannot decode image {path} ({err}); delete or replace the file, or re-run '
            'with a dataset that excludes it') from None


def scan_image_folder(root: str, extensions: Iterable[str] = IMG_EXTENSIONS
                      ) -> Tuple[List[str], List[Tuple[str, int]]]:
    """Find ``root/<class>/**/<image>`` files (or images directly in ``root``, label -1).

    Returns:
        The sorted class names and ``(path, label)`` pairs in a stable order.
    """
    if not os.path.isdir(root):
        raise FileNotFoundError(f'image folder not found: {root}')
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith('.'))
    samples: List[Tuple[str, int]] = []
    for label, name in enumerate(classes):
        for folder, _, files in sorted(os.walk(os.path.join(root, name), followlinks=True)):
            for file in sorted(files):
                if has_image_extension(file, extensions):
                    samples.append((os.path.join(folder, file), label))
    if not classes:
        samples = [(os.path.join(root, f), -1) for f in sorted(os.listdir(root))
                   if has_image_extension(f, extensions)]
    if not samples:
        raise FileNotFoundError(
            f'no images with extensions {", ".join(extensions)} under {root}; expected '
            f'{root}/<class>/<image> files')
    return classes, samples
