#!/bin/bash
# The Industrial table (docs/results.md, "Industrial_and_Scientific"): every ID baseline tuned
# on validation once (eval_id, ~18 min on 2 loaded cores), then the evaluations that reuse
# those choices (--tuning-from) with the profile sets, refitted on train + valid for test
# (--refit, the headline protocol) and without (the published protocol's training data),
# with the history masked (ours) and not (MiniOneRec/TIGER's published figures).
set -e
cd "$(dirname "$0")/../.."
PR=.venv/bin/profilerec
D=runs/industrial/data
P=runs/industrial/profiles
export OMP_NUM_THREADS=${THREADS:-1}
[ -f runs/industrial/eval_id/metrics.json ] || /usr/bin/time -v $PR evaluate $D --out runs/industrial/eval_id
SETS="--profiles zero_shot=$P/zero_shot --profiles zero_shot_raw=$P/zero_shot_raw"
T="--tuning-from runs/industrial/eval_id"
$PR evaluate $D --out runs/industrial/eval_refit $SETS $T --refit
$PR evaluate $D --out runs/industrial/eval_refit_nomask $SETS $T --refit --no-mask-history --no-report
$PR evaluate $D --out runs/industrial/eval_norefit $SETS $T --no-report
$PR evaluate $D --out runs/industrial/eval_norefit_nomask $SETS $T --no-mask-history --no-report
