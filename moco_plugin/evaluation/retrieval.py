"""Retrieval picture: query images and their nearest training images in feature space."""
from __future__ import annotations

import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

from moco_plugin.evaluation.feature_extraction import FeatureSet
from moco_plugin.evaluation.knn import nearest_neighbours

QUERY_BORDER = (40, 90, 220)
SAME_CLASS = (30, 170, 60)
OTHER_CLASS = (210, 40, 40)


def pick_queries(labels: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """``count`` query indices, one class after another so that the rows show different classes."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    picked, seen = [], set()
    for index in order:  # first pass: a new class per row while classes remain
        if labels[index] not in seen:
            picked.append(int(index))
            seen.add(labels[index])
        if len(picked) == count:
            return np.array(picked)
    rest = [int(i) for i in order if int(i) not in set(picked)]
    return np.array(picked + rest[:count - len(picked)])


def _tile(image: Image.Image, size: int, colour: Sequence[int], border: int) -> Image.Image:
    tile = Image.new('RGB', (size, size), tuple(colour))
    inner = size - 2 * border
    tile.paste(image.convert('RGB').resize((inner, inner), Image.NEAREST), (border, border))
    return tile


def retrieval_grid(query: FeatureSet, bank: FeatureSet, query_dataset, bank_dataset, path: str,
                   num_queries: int = 8, k: int = 8, tile: int = 72, seed: int = 0,
                   query_indices: Optional[Sequence[int]] = None,
                   class_names: Optional[Sequence[str]] = None) -> np.ndarray:
    """Write a PNG grid: each row a query test image, then its ``k`` nearest training images.

    Neighbours are ranked by cosine similarity of the features (exact faiss
    search). Borders: blue for the query, green for a neighbour of the same
    class, red for another class. Row captions give the query's class and
    the count of same-class neighbours.

    Args:
        query: Test features and labels (rows align with ``query_dataset``).
        bank: Training features and labels (rows align with ``bank_dataset``).
        query_dataset: Dataset with ``get_image(i)`` (PIL) for the queries.
        bank_dataset: Same for the bank.
        path: Output PNG.
        num_queries: Rows.
        k: Neighbours per row.
        tile: Tile side in pixels (CIFAR's 32 px images are upscaled).
        seed: Seed of the query choice.
        query_indices: Explicit query rows instead of a seeded pick.
        class_names: Names for the captions.

    Returns:
        ``(num_queries, k)`` indices of the neighbours in the bank.
    """
    if query_indices is None:
        query_indices = pick_queries(query.labels, min(num_queries, len(query)), seed)
    query_indices = np.asarray(query_indices, dtype=np.int64)
    _, neighbours = nearest_neighbours(bank.features, query.features[query_indices], k)
    border, caption = max(2, tile // 18), 14
    width = tile * (1 + neighbours.shape[1]) + 8
    height = len(query_indices) * (tile + caption)
    canvas = Image.new('RGB', (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for row, q in enumerate(query_indices):
        top = row * (tile + caption)
        label = int(query.labels[q])
        name = class_names[label] if class_names and 0 <= label < len(class_names) else str(label)
        same = int((bank.labels[neighbours[row]] == label).sum())
        draw.text((2, top), f'query: {name} | {same}/{neighbours.shape[1]} neighbours same class',
                  fill=(0, 0, 0))
        canvas.paste(_tile(query_dataset.get_image(int(q)), tile, QUERY_BORDER, border),
                     (0, top + caption))
        for col, n in enumerate(neighbours[row]):
            colour = SAME_CLASS if int(bank.labels[n]) == label else OTHER_CLASS
            canvas.paste(_tile(bank_dataset.get_image(int(n)), tile, colour, border),
                         (8 + tile * (col + 1), top + caption))
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    canvas.save(path)
    return neighbours
