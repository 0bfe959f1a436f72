#!/bin/bash
# Zero-shot profiles of the Industrial benchmark (issue 30): every test example, then the
# latest validation example of 1,000 random users (the hybrid tunes its weight on them).
# Resumable: rerun after a kill and finished batches are kept. THREADS=1 when other jobs
# share the 2 cores (2 threads against a third busy process ran at a quarter of the speed).
# Then: python research/industrial/merge_profiles.py runs/industrial/profiles
set -e
cd "$(dirname "$0")/../.."
COMMON="--template profile_catalogue --item-chars 80 --snippet-chars 0 --max-new-tokens 64 --batch-size 16"
export OMP_NUM_THREADS=${THREADS:-1}
mkdir -p runs/industrial/logs
/usr/bin/time -v .venv/bin/profilerec profile runs/industrial/data --out runs/industrial/profiles/zero_shot_test --split test $COMMON > runs/industrial/logs/profile_test.log 2>&1
/usr/bin/time -v .venv/bin/profilerec profile runs/industrial/data --out runs/industrial/profiles/zero_shot_valid --split valid --sample-users 1000 $COMMON > runs/industrial/logs/profile_valid.log 2>&1
