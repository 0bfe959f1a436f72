#!/bin/bash
# Test profiles of a BLUE run on Industrial (issue 34): its best adapter on every test example,
# in two one-thread shards, then one set with the run's validation profiles at the best step.
# Same prompt and generation options as the zero-shot set (research/industrial/profile_jobs.sh).
# Resumable: rerun after a kill and finished batches are kept.
# Usage: research/industrial/blue_test_jobs.sh RUN_NAME   (a folder of runs/industrial/blue)
# SERIAL=1: the two shards one after the other, leaving the other core to a training run.
set -e
cd "$(dirname "$0")/../.."
NAME=$1
RUN=runs/industrial/blue/$NAME
P=runs/industrial/profiles
S=runs/industrial/shards
COMMON="--template profile_catalogue --item-chars 80 --snippet-chars 0 --max-new-tokens 64 --batch-size 16"
export OMP_NUM_THREADS=1
[ -d $S/1 ] || .venv/bin/python research/industrial/shard_data.py runs/industrial/data $S 2
for i in 0 1; do
  /usr/bin/time -v .venv/bin/profilerec profile $S/$i --adapter $RUN --method blue_$NAME --split test \
    --out $P/blue_${NAME}_test_$i $COMMON > runs/industrial/logs/blue_${NAME}_test_$i.log 2>&1 &
  [ -z "${SERIAL:-}" ] || wait $! || exit 1
done
wait
.venv/bin/python research/industrial/merge_blue.py $RUN $P/blue_$NAME $P/blue_${NAME}_test_0 $P/blue_${NAME}_test_1
