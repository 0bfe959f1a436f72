#!/bin/bash
# PtE on Industrial (issue 35): SASRec and DreamRec ID-only, with the PtE profiles of
# pte_jobs.sh, user-only and item-only, and the random-vector control, on the 4,533 test
# examples (users resampled; slices.json: cold/long-tail targets, short histories, cold and
# long-tail users). SASRec takes the settings evaluate tuned on validation for the Industrial
# table (runs/industrial/eval_id: hidden 64, 1 layer, lr 0.003, dropout 0.5, early stopping
# with patience 20 on validation); DreamRec its defaults with early stopping on validation.
# The single-pass and no-GRPO ablations are left out: with --rounds 0 --candidates 1 they
# are the main run. Skipped when metrics.json exists.
set -e
cd "$(dirname "$0")/../.."
OUT=runs/industrial/pte/train
[ -f $OUT/metrics.json ] && { echo "$OUT done"; exit 0; }
export OMP_NUM_THREADS=${THREADS:-1}
/usr/bin/time -v .venv/bin/profilerec train runs/industrial/data --method pte \
  --profiles runs/industrial/pte/profiles --backbone sasrec --backbone dreamrec --out $OUT \
  --set 'ablations=[pte_user_only, pte_item_only]' \
  --set 'backbone_params={sasrec: {hidden: 64, layers: 1, lr: 0.003, dropout: 0.5, max_len: 50, epochs: 200, patience: 20}, dreamrec: {patience: 5}}' \
  > runs/industrial/logs/pte_train.log 2>&1
