#!/bin/bash
# The few-label study of the few-labels results page, one command (about 2 hours on 2 cores:
# pretraining 27 minutes for both side by side, 4 minutes of budgets and pseudo-labels, then
# 10 minutes of active selection + 45 of fine-tuning on one core beside 65 of fine-tuning at
# 250 labels with pseudo-labels on the other):
#   bash benchmarks/scripts/few_labels_study.sh
# 1. MoCo v2 and MoCo v1 pretrained with the packaged CPU-budget configs (6 epochs on all
#    50,000 CIFAR-10 training images, tools/train.py; random init needs none);
# 2. the study on cached features (benchmarks/scripts/few_labels.py): pool = the whole 50,000-image
#    training split, test = the whole 10,000-image test split, 3 seeds;
# 3. fine-tuning at 250 (3 seeds) and 4,000 labels (2 seeds) through
#    tools/{make_label_subset,train_few_labels,pseudo_label}.py, with MoCo v1's pseudo-labels
#    fed into MoCo v2's fine-tuning at 250.
# Raw results go to work_dirs/; the page's tables are in $OUT/tables.md.
set -e
cd "$(dirname "$0")/../.."
export MOCO_DATA_ROOT=${MOCO_DATA_ROOT:-../shared/datasets/cifar10}
OUT=${OUT:-work_dirs/few_labels6e}
ROOT=work_dirs/fewlabel6e
PY=${PYTHON:-.venv/bin/python}
for alg in ${ALGS:-mocov2 mocov1}; do
  cfg=$(ls configs/$alg/${alg}_resnet18_1xb64-adamw-*-6e_cifar10-cpu.py)
  mkdir -p $ROOT/$alg
  while [ -f $ROOT/$alg/RUNNING ]; do sleep 20; done  # trained by another process
  if [ ! -f $ROOT/$alg/epoch_6.pth ]; then
    start=$(date +%s)
    # one thread: with two, OpenMP's spin-waiting made it 10x slower whenever anything else ran
    $PY tools/train.py $cfg --work-dir $ROOT/$alg --data-root "$MOCO_DATA_ROOT" --threads 1 \
        --resume auto >> $ROOT/$alg/train.log 2>&1
    echo "pretrain $alg: $(( $(date +%s) - start )) s" | tee -a $ROOT/timings.txt
  fi
  cp $ROOT/$alg/$(basename $cfg) $ROOT/$alg/config.py
  # the checkpoint's k-NN (50k bank, 10k test), as the page states it
  [ -f $ROOT/$alg/knn.json ] || $PY tools/benchmark.py $ROOT/$alg/config.py $ROOT/$alg/epoch_6.pth \
      --knn --threads 1 --quiet --out $ROOT/$alg/knn.json
done
[ -n "$PRETRAIN_ONLY" ] && exit 0
# one OpenMP thread per process from here on: two study processes share the two cores
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
COMMON="--pretrain-root $ROOT --epochs 6 --subset-train 0 --out-dir $OUT --seeds 0 1 2"
FT="--models mocov2 mocov1 random --parts none --finetune --finetune-models mocov2 random \
    --finetune-pseudo mocov1 --pseudo-finetune-per-class 25 --pseudo-cap 500 --finetune-tag finetune6e"
# budgets and pseudo-labels first: they extract (and cache) every model's features
$PY benchmarks/scripts/few_labels.py $COMMON --models mocov2 mocov1 random --per-class 1 4 25 100 400 \
    --teachers mocov2 mocov1 random --parts budgets pseudo
# then two processes side by side, one per core; each merges its part into few_labels.json
# (fine-tuning on 4,000 labels takes about 11 minutes a run on one core: two seeds of it;
#  FT400_SEEDS="0 1 2" for three)
( $PY benchmarks/scripts/few_labels.py $COMMON --models mocov2 --parts active \
      --strategies random least_confidence margin entropy intersection kmeans typiclust hybrid
  $PY benchmarks/scripts/few_labels.py $COMMON $FT --finetune-per-class 400 \
      --finetune-seeds ${FT400_SEEDS:-0 1} ) &
$PY benchmarks/scripts/few_labels.py $COMMON $FT --finetune-per-class 25 --finetune-seeds 0 1 2 &
wait
