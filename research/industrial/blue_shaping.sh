#!/bin/bash
# The coverage recipe with the shaping penalties switched on (issue 34's readability target:
# BLUE's test profiles end mid-sentence 37% of the time against the untrained profiler's 11.5%).
# Same config as the coverage run (examples/blue_industrial.yaml) plus weight_shaping=1.0 (the
# paper's weight: -0.5 for a profile that hits the 64-token limit without ending, -1 for an empty
# one, a penalty for copying the history list), 25 steps, validation at steps 0 and 25 on the
# same 512 user-disjoint examples, so `valid_pairs.py` pairs it with the coverage run's step 25.
# WEIGHT=W (default 1.0) sets weight_shaping; a weight other than 1.0 writes coverage_shaping_W.
# One thread, about 13 GB peak RSS (one training at a time on 24 GB). Resumable: rerun after a kill.
set -e
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1
mkdir -p runs/industrial/logs
W=${WEIGHT:-1.0}
NAME=coverage_shaping
[ "$W" = 1.0 ] || NAME=coverage_shaping_$W
/usr/bin/time -v .venv/bin/profilerec train runs/industrial/data --method blue \
  --config examples/blue_industrial.yaml --max-steps 25 --set weight_shaping=$W \
  --out runs/industrial/blue/$NAME >> runs/industrial/logs/blue_$NAME.log 2>&1
