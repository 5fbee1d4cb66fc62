"""Reading images of any mode and extension as RGB, with clear errors."""
from __future__ import annotations

import os
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, UnidentifiedImageError

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.ppm', '.pgm', '.pbm', '.tif', '.tiff',
                  '.webp', '.gif', '.jfif')


class CorruptImageError(RuntimeError):
    """An image file exists but cannot be decoded; ``path`` and ``reason`` say which and why."""

    def __init__(self, message: str, path: str = '', reason: str = '') -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason or message


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
                # 16-bit samples span 0..65535: a fixed 1/257 maps 65535 to 255 and keeps
                # brightness comparable between images (stretching each by its own maximum
                # would turn a dark image white).
                arr = np.asarray(img, dtype=np.float64)
                img = Image.fromarray(np.clip(np.rint(arr / 257.0), 0, 255).astype(np.uint8),
                                      mode='L')
            return img.convert('RGB') if img.mode != 'RGB' else img.copy()
    except FileNotFoundError:
        raise FileNotFoundError(f'image not found: {path}') from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise CorruptImageError(
            f'cannot decode image {path} ({err}); delete or replace the file, or re-run '
            'with a dataset that excludes it', path, str(err) or type(err).__name__) from None


def class_folders(root: str) -> List[str]:
    """Sorted names of the (non-hidden) sub-folders of ``root``: its classes."""
    return sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith('.'))


def split_classes(data_root: str, split: Optional[str], train_split: str = 'train'
                  ) -> Optional[List[str]]:
    """The class list shared by every split of ``data_root``: the training split's folders.

    Labels are indices into one list for all splits; scanning each split on its own
    would shift them when a class folder exists in one split only (an empty
    ``train/aaa`` makes ``cat`` 1 in train and 0 in test, and k-NN compares wrong
    labels without an error). ``None`` when there is no ``data_root/<train_split>``
    folder (the split's own folders are then the classes).
    """
    train_folder = os.path.join(data_root, train_split)
    if split is None or not os.path.isdir(train_folder):
        return None
    return class_folders(train_folder) or None


def resize_center_crop(img: Image.Image, size: int) -> Image.Image:
    """Scale the shorter side to ``size`` (bilinear) and cut the centre ``size x size`` square.

    Brings images of mixed sizes to one size where they must be stacked (the
    in-memory array, batched augmentation) while keeping their aspect ratio.
    """
    if img.size == (size, size):
        return img
    width, height = img.size
    scale = size / min(width, height)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    img = img.resize((new_w, new_h), Image.BILINEAR)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return img.crop((left, top, left + size, top + size))


def scan_image_folder(root: str, extensions: Iterable[str] = IMG_EXTENSIONS,
                      classes: Optional[Sequence[str]] = None
                      ) -> Tuple[List[str], List[Tuple[str, int]]]:
    """Find ``root/<class>/**/<image>`` files (or images directly in ``root``, label -1).

    Args:
        root: The split folder.
        extensions: Accepted extensions (any case).
        classes: The dataset's class list (see :func:`split_classes`); labels index it,
            and a class folder of ``root`` outside it is an error. Default: ``root``'s
            own sorted class folders.

    Returns:
        The class names and ``(path, label)`` pairs in a stable order.
    """
    if not os.path.isdir(root):
        raise FileNotFoundError(f'image folder not found: {root}')
    found = class_folders(root)
    if classes is None:
        classes = found
    else:
        classes = list(classes)
        extra = [name for name in found if name not in classes]
        if extra:
            raise ValueError(
                f'class folders {", ".join(extra)} in {root} are not classes of the training '
                f'split ({", ".join(classes[:10])}{", ..." if len(classes) > 10 else ""}); labels '
                'would not match between splits: add the folders to the training split or '
                'remove them')
    samples: List[Tuple[str, int]] = []
    for label, name in enumerate(classes):
        if not os.path.isdir(os.path.join(root, name)):
            continue  # a class with no images in this split keeps its index
        for folder, _, files in sorted(os.walk(os.path.join(root, name), followlinks=True)):
            for file in sorted(files):
                if has_image_extension(file, extensions):
                    samples.append((os.path.join(folder, file), label))
    if not found:
        samples = [(os.path.join(root, f), -1) for f in sorted(os.listdir(root))
                   if has_image_extension(f, extensions)]
    if not samples:
        raise FileNotFoundError(
            f'no images with extensions {", ".join(extensions)} under {root}; expected '
            f'{root}/<class>/<image> files')
    return classes, samples
