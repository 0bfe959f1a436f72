#!/bin/bash
# The BLUE rows of the Industrial table (issue 34): the ID baselines' validation choices reused
# (--tuning-from runs/industrial/eval_id), refitted on train + valid for test (--refit), the
# zero-shot set beside each BLUE set; then paired tests resampling users.
# Usage: research/industrial/blue_evaluate.sh NAME [NAME ...]   (sets runs/industrial/profiles/blue_NAME)
# EVAL_OUT=DIR writes elsewhere than runs/industrial/eval_blue (the results page's BLUE block).
set -e
cd "$(dirname "$0")/../.."
PR=.venv/bin/profilerec
P=runs/industrial/profiles
E=${EVAL_OUT:-runs/industrial/eval_blue}
SETS="--profiles zero_shot=$P/zero_shot"
PAIRS=""
for n in "$@"; do
  SETS="$SETS --profiles blue_$n=$P/blue_$n"
  PAIRS="$PAIRS --pair blue_$n:zero_shot --pair history+blue_$n:history+zero_shot --pair hybrid+blue_$n:hybrid+zero_shot --pair hybrid+blue_$n:sasrec --pair blue_$n:zero_shot_raw"
done
export OMP_NUM_THREADS=${THREADS:-2}
/usr/bin/time -v $PR evaluate runs/industrial/data --out $E $SETS --profiles zero_shot_raw=$P/zero_shot_raw \
  --tuning-from runs/industrial/eval_id --refit > runs/industrial/logs/$(basename $E).log 2>&1
$PR compare $E --by-user $PAIRS
