"""Peak memory of the teacher probabilities and uncertainty scores, before / after issue 20.

Run once against each checkout (PYTHONPATH picks the code)::

    PYTHONPATH=OLD_CHECKOUT python benchmarks/scripts/few_labels_memory_before_after.py   # e.g. git worktree of 588a758
    PYTHONPATH=$PWD python benchmarks/scripts/few_labels_memory_before_after.py

Results: benchmarks/results/few_labels/scale.md.
"""
import sys, time, tracemalloc, json
import numpy as np
from moco_plugin.fewlabel import margin, entropy, least_confidence, Teacher
import moco_plugin
from torch import nn
import torch
torch.manual_seed(0)
n, c, d = 64000, 800, 512
rng = np.random.default_rng(0)
feats = rng.standard_normal((n, d), dtype=np.float32)
t = Teacher('linear', c, head=nn.Linear(d, c))
out = {'code': moco_plugin.__file__}
tracemalloc.start(); tick = time.process_time()
probs = t.probabilities(feats)
out['teacher_probs'] = (round(tracemalloc.get_traced_memory()[1] / 2**20), round(time.process_time() - tick, 1), str(probs.dtype))
probs = probs.astype(np.float32)
for f in (least_confidence, margin, entropy):
    tracemalloc.stop(); tracemalloc.start(); tick = time.process_time()
    f(probs)
    out[f.__name__] = (round(tracemalloc.get_traced_memory()[1] / 2**20), round(time.process_time() - tick, 1))
print(json.dumps(out))
