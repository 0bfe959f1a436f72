#!/bin/bash
# PtE on Industrial (issue 35): one backbone ID-only, with the PtE profiles of pte_jobs.sh,
# user-only and item-only, and the random-vector control, on the 4,533 test examples (users
# resampled; slices.json: cold/long-tail targets, short histories, cold and long-tail users).
# Each backbone takes settings chosen on validation only:
#   sasrec:   evaluate's choice for the Industrial table (runs/industrial/eval_id): hidden 64,
#             1 layer, lr 0.003, dropout 0.5, early stopping with patience 20 on validation;
#   dreamrec: research/industrial/dreamrec_tune.py's best (runs/industrial/pte/dreamrec_tuning.json,
#             lr x guidance weight x dropout): lr 0.001, w 2, dropout 0.1, patience 5.
# The single-pass and no-GRPO ablations are left out by default: with --rounds 0 --candidates 1
# they are the main run. For refined profiles (pte_jobs.sh with ROUNDS=1 CANDIDATES=2) add them:
# ABLATIONS='[pte_user_only, pte_item_only, pte_single_pass, pte_no_grpo]'.
# Skipped when metrics.json exists.
# Usage: research/industrial/pte_train.sh sasrec|dreamrec [PROFILES_DIR [OUT_DIR]]
set -e
cd "$(dirname "$0")/../.."
B=$1
PROFILES=${2:-runs/industrial/pte/profiles}
OUT=${3:-runs/industrial/pte/train_$B}
case $B in
  sasrec) PARAMS='{sasrec: {hidden: 64, layers: 1, lr: 0.003, dropout: 0.5, max_len: 50, epochs: 200, patience: 20}}' ;;
  dreamrec) PARAMS='{dreamrec: {lr: 0.001, guidance_w: 2.0, dropout: 0.1, epochs: 200, patience: 5}}' ;;
  *) echo "usage: $0 sasrec|dreamrec [PROFILES_DIR [OUT_DIR]]" >&2; exit 2 ;;
esac
[ -f $OUT/metrics.json ] && { echo "$OUT done"; exit 0; }
export OMP_NUM_THREADS=${THREADS:-1}
/usr/bin/time -v .venv/bin/profilerec train runs/industrial/data --method pte \
  --profiles $PROFILES --backbone $B --out $OUT \
  --set "ablations=${ABLATIONS:-[pte_user_only, pte_item_only]}" --set "backbone_params=$PARAMS" \
  > runs/industrial/logs/pte_$(basename $OUT).log 2>&1
