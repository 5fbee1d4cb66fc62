#!/bin/bash
# The few-label study of benchmarks/results/few_labels/README.md, one command:
#   flock /tmp/cpu_heavy.lock bash benchmarks/scripts/few_labels_study.sh
# 1. pretraining configs: the CPU comparison's settings (benchmarks/scripts/compare_cpu.py) at
#    1 epoch on a 10,000-image class-balanced subset, without the k-NN monitor;
# 2. MoCo v2, SimCLR, MoCo v1 pretrained (tools/train.py); random init needs none;
# 3. the study on cached features (benchmarks/scripts/few_labels.py), pool = a 10,000-image
#    class-balanced subset of the training split, test = the whole test split.
set -e
cd "$(dirname "$0")/../.."
export MOCO_DATA_ROOT=${MOCO_DATA_ROOT:-../shared/datasets/cifar10}
# On a shared 2-core machine one OpenMP thread per process was 13x faster than two
# (1.2 s/iteration instead of 16: spinning threads fight the other jobs for the cores).
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
ROOT=work_dirs/fewlabel_pretrain
for alg in mocov2 simclr mocov1; do
  if [ ! -f $ROOT/$alg/config.py ]; then
    .venv/bin/python - "$alg" "$ROOT" <<'PY'
import os, sys
sys.path.insert(0, 'benchmarks/scripts')
import compare_cpu
alg, root = sys.argv[1], sys.argv[2]
args = compare_cpu.parse_args(
    '--epochs 1 --subset 10000 --batch-size 64 --bn-splits 4 --stem imagenet --optimizer adamw '
    '--lr 3e-4 --fast-aug --jitter-strength 0.5 --gray-prob 0 --amp --knn-monitor-interval 0 '
    f'--algorithms {alg}'.split())
os.makedirs(f'{root}/{alg}', exist_ok=True)
compare_cpu.budget_config(alg, args).dump(f'{root}/{alg}/config.py')
PY
  fi
  if [ ! -f $ROOT/$alg/epoch_1.pth ]; then
    start=$(date +%s)
    .venv/bin/python tools/train.py $ROOT/$alg/config.py --work-dir $ROOT/$alg \
        --data-root "$MOCO_DATA_ROOT" --amp > $ROOT/$alg/train.log 2>&1
    echo "pretrain $alg: $(( $(date +%s) - start )) s"
  fi
done
.venv/bin/python benchmarks/scripts/few_labels.py --models mocov2 random --subset-train 10000 \
    --out-dir benchmarks/results/few_labels --parts active \
    --strategies random least_confidence margin entropy intersection kmeans typiclust hybrid
.venv/bin/python benchmarks/scripts/few_labels.py --models mocov2 mocov1 simclr random \
    --teachers mocov2 simclr mocov1 random --subset-train 10000 --out-dir benchmarks/results/few_labels \
    --parts budgets pseudo
# fine-tuning at 250 labels (MoCo v2, random init) and the selection speed on the 50k split
.venv/bin/python benchmarks/scripts/few_labels.py --models mocov2 random --subset-train 10000 \
    --out-dir benchmarks/results/few_labels --parts none --finetune
.venv/bin/python benchmarks/scripts/few_labels_selection_speed.py --out benchmarks/results/few_labels/selection_speed.json
