#!/bin/bash
# Cross-domain (issue 34): a BLUE adapter trained on Industrial, unchanged, on All_Beauty (the
# demo's leave-last-out split) and Gift Cards (Amazon 2018 5-core), beside the untrained
# profiler with the same prompt and generation options as the Industrial sets
# (research/industrial/profile_jobs.sh). Test and validation profiles (the hybrid tunes its
# weight on validation), then evaluate and paired tests resampling users.
# Resumable: finished profile sets and evaluations are skipped, killed profile runs resume.
# Usage: research/industrial/blue_cross.sh [RUN_NAME]   (default coverage)
set -e
cd "$(dirname "$0")/../.."
NAME=${1:-coverage}
RUN=runs/industrial/blue/$NAME
R=runs/cross
PR=.venv/bin/profilerec
COMMON="--template profile_catalogue --item-chars 80 --snippet-chars 0 --max-new-tokens 64 --batch-size 16"
export OMP_NUM_THREADS=${THREADS:-1}
mkdir -p $R/logs
[ -f $R/data/beauty/manifest.json ] || $PR prepare --demo --out $R/data/beauty
[ -f $R/data/gift_cards/manifest.json ] || $PR prepare ../shared/data/amazon2018_gift_cards_5core \
  --format amazon2018 --out $R/data/gift_cards
for d in beauty gift_cards; do
  E=$R/eval/$d; [ "$NAME" = coverage ] || E=$R/eval/${d}_$NAME   # one evaluation per adapter
  [ -f $R/profiles/$d/zero_shot/profiles.parquet ] || /usr/bin/time -v $PR profile $R/data/$d \
    --split test --split valid --out $R/profiles/$d/zero_shot $COMMON > $R/logs/${d}_zero_shot.log 2>&1
  [ -f $R/profiles/$d/blue_$NAME/profiles.parquet ] || /usr/bin/time -v $PR profile $R/data/$d \
    --adapter $RUN --method blue_$NAME --split test --split valid --out $R/profiles/$d/blue_$NAME \
    $COMMON > $R/logs/${d}_blue_$NAME.log 2>&1
  [ -f $E/metrics.json ] || /usr/bin/time -v $PR evaluate $R/data/$d --out $E \
    --profiles zero_shot=$R/profiles/$d/zero_shot --profiles blue_$NAME=$R/profiles/$d/blue_$NAME \
    > $R/logs/$(basename $E)_eval.log 2>&1
  $PR compare $E --by-user --dataset $R/data/$d --pair blue_$NAME:zero_shot \
    --pair history+blue_$NAME:history+zero_shot --pair hybrid+blue_$NAME:hybrid+zero_shot \
    > $R/logs/$(basename $E)_compare.log 2>&1
done
