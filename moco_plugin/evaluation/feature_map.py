"""A picture of the features: a 2-D t-SNE map of test images, coloured by class."""
from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple

import numpy as np

from moco_plugin.evaluation.knn import l2_normalize

Panel = Tuple[str, np.ndarray, np.ndarray]  # title, (N, 2) points, (N,) labels


def balanced_subset(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Sorted indices of ``count`` images with the classes as equal as possible (seeded)."""
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    pools = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    picks: List[int] = []
    depth = 0
    while len(picks) < min(count, len(labels)):
        for pool in pools:
            if depth < len(pool) and len(picks) < count:
                picks.append(int(pool[depth]))
        depth += 1
    return np.sort(np.asarray(picks, dtype=np.int64))


def tsne_map(features: np.ndarray, labels: np.ndarray, count: int, seed: int = 0
             ) -> Tuple[np.ndarray, np.ndarray]:
    """t-SNE (scikit-learn, PCA initialisation, cosine geometry via L2-normalised inputs) of a
    class-balanced subset of ``count`` images; returns the 2-D points and their labels."""
    from sklearn.manifold import TSNE  # heavy import, only for this picture
    index = balanced_subset(np.asarray(labels), count, seed)
    if len(index) < 5:
        raise ValueError(f'--feature-map needs at least 5 images, got {len(index)}')
    perplexity = float(min(30, (len(index) - 1) / 3))
    points = TSNE(n_components=2, init='pca', random_state=seed, perplexity=perplexity
                  ).fit_transform(l2_normalize(features[index]))
    return points.astype(np.float32), np.asarray(labels)[index]


def plot_feature_map(panels: Sequence[Panel], path: str,
                     class_names: Optional[Sequence[str]] = None) -> None:
    """One scatter per panel, side by side, with a shared class legend."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 5), squeeze=False)
    cmap = plt.get_cmap('tab10' if max(int(p[2].max()) for p in panels) < 10 else 'tab20')
    for ax, (title, points, labels) in zip(axes[0], panels):
        for cls in np.unique(labels):
            mask = labels == cls
            name = class_names[cls] if class_names is not None and cls < len(class_names) else str(cls)
            ax.scatter(points[mask, 0], points[mask, 1], s=6, color=cmap(int(cls) % cmap.N),
                       label=name)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0][-1].legend(loc='center left', bbox_to_anchor=(1, 0.5), fontsize=8, markerscale=2)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
