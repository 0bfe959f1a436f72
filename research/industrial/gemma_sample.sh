#!/bin/bash
# Issue 34: Gemma 3 270M (base model, few-shot completion prompt) beside SmolLM2-135M,
# zero-shot, on the latest test example of N random test users (default 1,000; the first 250
# of the same draw are the earlier 250-user sample), then a dataset view of those examples and
# `evaluate` with SmolLM2's zero-shot sets cut to them, ID rows at the Industrial table's
# validation choices. One thread. Each step is skipped when its output exists.
# Usage: research/industrial/gemma_sample.sh [N]
set -e
cd "$(dirname "$0")/../.."
N=${1:-1000}
PR=.venv/bin/profilerec
P=runs/industrial/profiles
G=$P/gemma_zero_shot_test$N
V=runs/industrial/view_gemma$N
export OMP_NUM_THREADS=${THREADS:-1}
[ -f $G/profiles.parquet ] || /usr/bin/time -v $PR profile runs/industrial/data --generator gemma3-270m \
  --template profile_completion --split test --sample-users $N --item-chars 80 --snippet-chars 0 \
  --max-new-tokens 64 --batch-size 16 --method gemma_zero_shot --out $G > runs/industrial/logs/gemma_test$N.log 2>&1
[ -d $V ] || .venv/bin/python research/industrial/subset_view.py runs/industrial/data $G $V \
  zero_shot=$P/zero_shot zero_shot_raw=$P/zero_shot_raw
[ -f runs/industrial/eval_gemma$N/metrics.json ] || $PR evaluate $V --out runs/industrial/eval_gemma$N \
  --profiles gemma_270m=$G --profiles zero_shot=$V/sets/zero_shot --profiles zero_shot_raw=$V/sets/zero_shot_raw \
  --method sasrec --method history_text --method mean_history --tuning-from runs/industrial/eval_id --refit \
  > runs/industrial/logs/eval_gemma$N.log 2>&1
$PR compare runs/industrial/eval_gemma$N --by-user --metric ndcg@10 --pair gemma_270m:zero_shot \
  --pair gemma_270m:zero_shot_raw --pair history+gemma_270m:history+zero_shot > runs/industrial/logs/compare_gemma$N.log 2>&1
