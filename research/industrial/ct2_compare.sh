#!/bin/bash
# Issue 31: CTranslate2 int8 profiles vs the CPU default (transformers, bf16 where native)
# on validation, paired: All_Beauty (the demo, all 253 validation examples) and Industrial
# (the latest validation example of 250 random users, a subset of the zero-shot validation
# set). Same prompt and generation options as the Industrial sets. One thread. Resumable.
set -e
cd "$(dirname "$0")/../.."
PR=.venv/bin/profilerec
R=runs/ct2cmp
COMMON="--template profile_catalogue --item-chars 80 --snippet-chars 0 --max-new-tokens 64 --batch-size 16"
export OMP_NUM_THREADS=${THREADS:-1}
mkdir -p $R/logs
# All_Beauty: transformers' validation profiles are the cross-domain zero-shot set (blue_cross.sh)
[ -f $R/beauty_ct2_int8/profiles.parquet ] || /usr/bin/time -v $PR profile runs/cross/data/beauty \
  --split valid --generator ctranslate2@int8 --out $R/beauty_ct2_int8 $COMMON > $R/logs/beauty_ct2.log 2>&1
[ -f $R/eval_beauty/metrics.json ] || $PR evaluate runs/cross/data/beauty --split valid --out $R/eval_beauty \
  --method popularity --method history_text --profiles transformers=runs/cross/profiles/beauty/zero_shot \
  --profiles ct2_int8=$R/beauty_ct2_int8 > $R/logs/eval_beauty.log 2>&1
$PR compare $R/eval_beauty --by-user --dataset runs/cross/data/beauty --pair ct2_int8:transformers \
  --pair history+ct2_int8:history+transformers > $R/logs/compare_beauty.log 2>&1
# Industrial: 250 of the 1,000 users of runs/industrial/profiles/zero_shot_valid
[ -f $R/industrial_ct2_int8/profiles.parquet ] || /usr/bin/time -v $PR profile runs/industrial/data \
  --split valid --sample-users 250 --generator ctranslate2@int8 --out $R/industrial_ct2_int8 $COMMON \
  > $R/logs/industrial_ct2.log 2>&1
[ -d $R/view_industrial ] || .venv/bin/python research/industrial/subset_view.py --split valid runs/industrial/data \
  $R/industrial_ct2_int8 $R/view_industrial transformers=runs/industrial/profiles/zero_shot_valid
[ -f $R/eval_industrial/metrics.json ] || $PR evaluate $R/view_industrial --split valid --out $R/eval_industrial \
  --method popularity --method history_text --profiles transformers=$R/view_industrial/sets/transformers \
  --profiles ct2_int8=$R/industrial_ct2_int8 > $R/logs/eval_industrial.log 2>&1
$PR compare $R/eval_industrial --by-user --dataset $R/view_industrial --pair ct2_int8:transformers \
  --pair history+ct2_int8:history+transformers > $R/logs/compare_industrial.log 2>&1
