#!/usr/bin/env bash
# The decisive experiments of the ablation pages (benchmarks/results/ablations/README.md), in the
# order they were run: one training at a time on the whole machine (OMP_NUM_THREADS unset), each
# sweep reusing the finished runs of the others (a run with the same config is run once: the
# base config is momentum_seeds' m=0.99 point, queue_age's m0.99-K4096 and shuffle_bn_splits'
# split4-shuffle). A step run again trains only its runs that have no result yet, so the script
# continues where it stopped. Every run's summary lands in benchmarks/results/ablations/NAME_runs.json.
#
#   MOCO_DATA_ROOT=/abs/path/to/cifar10 bash benchmarks/scripts/ablations_decisive.sh [STEP ...]
#
# The data root's absolute path is part of each run's identity: a committed summary counts as
# finished only where the run reads the same path (a fresh machine with CIFAR-10 elsewhere
# retrains). Steps run for the committed pages: momentum3 queue_age2 shuffle bank2 queue_age3
# masked3 (bank3 and momentum5 not run).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
unset OMP_NUM_THREADS
sweep() { echo "== $(date -u +%FT%TZ) sweep $*"; "$PY" tools/sweep.py "$@"; }
steps=${*:-"momentum3 queue_age2 shuffle bank2 queue_age3 masked3 bank3 momentum5"}
for step in $steps; do
  case $step in
    momentum3) sweep benchmarks/specs/momentum_seeds.json --seeds 0 1 2 --baseline 0.99 ;;
    momentum5) sweep benchmarks/specs/momentum_seeds.json --baseline 0.99 ;;
    queue_age2) sweep benchmarks/specs/queue_age.json --seeds 0 1 --baseline m0.99-K4096 ;;
    queue_age3) sweep benchmarks/specs/queue_age.json --baseline m0.99-K4096 ;;
    shuffle) sweep benchmarks/specs/shuffle_bn_splits.json --baseline split4-shuffle ;;
    bank2) sweep benchmarks/specs/mechanism_memory_bank_encoder_init.json --seeds 0 1 --baseline 4096 ;;
    bank3) sweep benchmarks/specs/mechanism_memory_bank_encoder_init.json --baseline 4096 ;;
    masked3) sweep benchmarks/specs/queue_size_masked.json --baseline 256 ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
echo "== $(date -u +%FT%TZ) done"
