"""benchmarks/scripts/gpu_check.py --tiny: every step of the GPU check runs on a CPU (so it cannot rot)."""
import json

import numpy as np

from tests.conftest import REPO_ROOT, run_tool
from tests.helpers.dataset_formats import write_cifar10


def test_gpu_check_tiny_runs_every_step_and_writes_the_summaries(tmp_path):
    rng = np.random.default_rng(0)
    train = (rng.integers(0, 256, (80, 32, 32, 3), dtype=np.uint8), np.arange(80) % 10)
    test = (rng.integers(0, 256, (40, 32, 32, 3), dtype=np.uint8), np.arange(40) % 10)
    root = write_cifar10(tmp_path / 'cifar', train, test)
    out = tmp_path / 'out'
    result = run_tool('benchmarks/scripts/gpu_check.py', '--tiny', '--data-root', str(root), '--out',
                      str(out), '--budget-s', '60',
                      env={'PYTHONPATH': str(REPO_ROOT), 'OMP_NUM_THREADS': '1'}, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((out / 'gpu_check.json').read_text())
    assert summary['environment']['device'] == 'cpu' and summary['tiny']
    settings = {r['setting']: r for r in summary['settings']}
    assert set(settings) == {'fp32', 'bf16_cl_compile'}
    for r in settings.values():
        assert 'error' not in r, r
        assert r['model_only_img_s'] > 0 and r['whole_img_s'] > 0 and r['whole_over_model_only'] > 0
        assert r['train_images'] == 64  # 4 batches of 16
    assert settings['bf16_cl_compile']['channels_last'] and settings['bf16_cl_compile']['compile']
    training = summary['training']
    assert training['epochs'] == 2 and len(training['epoch_s']) == 2
    assert [h['epoch'] for h in training['knn_monitor']] == [1, 2]
    assert training['projected_200_epochs_s'] > training['wall_s']
    knn = summary['knn_benchmark']
    assert 0 <= knn['top1'] <= 100 and knn['k_used'] == 64  # the whole (tiny) train split
    text = (out / 'gpu_check.md').read_text()
    for anchor in ('82.6', '83.8', '92.9', '112 min', 'whole / model-only', '200 epochs projected'):
        assert anchor in text
    assert {'train.log', 'knn_curve.png', 'knn_benchmark.json'} <= {p.name for p in out.iterdir()}
