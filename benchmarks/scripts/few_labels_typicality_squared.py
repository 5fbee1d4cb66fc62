"""TypiClust with the authors' squared distances against the paper's plain L2 distances: how many
picks change (benchmark data, 50,000 x 512, 100 classes)::

    PYTHONPATH=$PWD python benchmarks/scripts/few_labels_typicality_squared.py
"""
import os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from few_labels_scale import make_data
import moco_plugin.fewlabel.typiclust as T
x, labels = make_data(50000, 512, 100, 0, 2.0)
lab = np.arange(0, 50000, 500)
for budget in (100, 1000):
    a, _ = T.typiclust_picks(x, lab, budget)
    real = T._neighbour_lists
    T._neighbour_lists = lambda x, k: (lambda s, i: (np.sqrt(s), i))(*real(x, k))
    b, _ = T.typiclust_picks(x, lab, budget)
    T._neighbour_lists = real
    print(budget, 'same picks', len(np.intersect1d(a, b)), 'of', budget,
          'classes', len(np.unique(labels[a])), len(np.unique(labels[b])))
