#!/bin/bash
# BLUE on Industrial (issue 34): two recipes side by side, one thread each (on a 2-core
# AVX-512-BF16 box one thread per job ran ~3.5x faster than two jobs fighting over two).
# Resumable: rerun the same line after a kill and training continues from the last checkpoint.
set -e
cd "$(dirname "$0")/../.."
D=runs/industrial/data
B=runs/industrial/blue
export OMP_NUM_THREADS=1
mkdir -p $B runs/industrial/logs
# coverage: examples/blue_industrial.yaml as written
/usr/bin/time -v .venv/bin/profilerec train $D --method blue --config examples/blue_industrial.yaml \
  --out $B/coverage > runs/industrial/logs/blue_coverage.log 2>&1 &
# next: run C's recipe (mrr over the catalogue; the target and the user's next 2 training items)
/usr/bin/time -v .venv/bin/profilerec train $D --method blue --config examples/blue_industrial.yaml \
  --set positives_from=next --set n_positives=3 --set reward_variant=mrr \
  --out $B/next > runs/industrial/logs/blue_next.log 2>&1 &
wait
