#!/bin/bash
# Issue 34: the BLUE rows under a tuned embedder. MiniLM fine-tuned on Industrial's training
# pairs (history text -> next item text; MultipleNegativesRankingLoss, best epoch by validation,
# test never read), then the zero-shot and BLUE profile sets evaluated under it with the ID
# baselines' validation choices reused (as blue_evaluate.sh), then paired tests: BLUE vs
# zero-shot under the tuned embedder, and each set under the tuned vs the frozen embedder.
# One thread; one epoch by default (10,393 pairs: about 33 min per epoch on one shared
# AVX-512 thread). Each step is skipped when its output exists.
set -e
cd "$(dirname "$0")/../.."
PR=.venv/bin/profilerec
P=runs/industrial/profiles
EMB=runs/industrial/embedder
E=runs/industrial/eval_blue_tuned
export OMP_NUM_THREADS=${THREADS:-1}
[ -f $EMB/training.json ] || /usr/bin/time -v $PR train runs/industrial/data \
  --method embedder --epochs ${EPOCHS:-1} --set threads=1 --out $EMB > runs/industrial/logs/embedder_train.log 2>&1
[ -f $E/metrics.json ] || /usr/bin/time -v $PR evaluate runs/industrial/data --out $E \
  --embedder sentence-transformers:$EMB/embedder \
  --profiles zero_shot=$P/zero_shot --profiles blue_coverage=$P/blue_coverage \
  --tuning-from runs/industrial/eval_id --refit > runs/industrial/logs/eval_blue_tuned.log 2>&1
$PR compare $E --by-user --metric ndcg@10 --pair blue_coverage:zero_shot \
  --pair history+blue_coverage:history+zero_shot --pair hybrid+blue_coverage:hybrid+zero_shot \
  --pair hybrid+blue_coverage:sasrec > runs/industrial/logs/compare_blue_tuned.log 2>&1
$PR compare $E --by-user --metric ndcg@10 --reference-from runs/industrial/eval_blue \
  --pair blue_coverage:blue_coverage --pair zero_shot:zero_shot --pair history_text:history_text \
  --pair hybrid:hybrid > runs/industrial/logs/compare_blue_tuned_vs_frozen.log 2>&1
