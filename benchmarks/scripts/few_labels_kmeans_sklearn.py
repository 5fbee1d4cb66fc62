"""faiss k-means (diversity.kmeans_assign) against the TypiClust authors' scikit-learn
MiniBatchKMeans(batch_size=5000): time and mean squared distance to the centre::

    PYTHONPATH=$PWD python benchmarks/scripts/few_labels_kmeans_sklearn.py 131072 500

Results: benchmarks/results/few_labels/scale.md.
"""
import json, os, sys, time
import numpy as np, faiss
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from few_labels_scale import make_data
from moco_plugin.fewlabel.diversity import kmeans_assign, prepare
from sklearn.cluster import MiniBatchKMeans
n, k = int(sys.argv[1]), int(sys.argv[2])
x, labels = make_data(n, 512, 800, 0, 1.0)
x = prepare(x)
def inertia(a):
    c = np.zeros((a.max() + 1, x.shape[1])); np.add.at(c, a, x); c /= np.maximum(np.bincount(a), 1)[:, None]
    return float(((x - c[a]) ** 2).sum() / len(x))
rows = {}
t = time.perf_counter(); _, a, _ = kmeans_assign(x, k); rows['faiss'] = dict(s=time.perf_counter() - t, inertia=inertia(a))
print(rows, flush=True)
t = time.perf_counter(); km = MiniBatchKMeans(n_clusters=k, batch_size=5000, random_state=0, n_init=1).fit(x)
rows['sklearn_minibatch'] = dict(s=time.perf_counter() - t, inertia=inertia(km.labels_.astype(np.int64)), n_iter=int(km.n_iter_), n_steps=int(km.n_steps_))
print(json.dumps(dict(n=n, k=k, rows=rows)))
